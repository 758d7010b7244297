// The evaluation protocol's table (engine/protocol.ts, docs/protocol.md): every registered explainer has a
// decided reference score (a new method fails here until it is placed), faithfulness metrics follow the
// probability while explainer re-runs keep the map's own target, and series name what a map explains.
import { describe, expect, it } from 'vitest';
import { EXPLAINER_NAMES } from '../../src-main/engine/explain/registry.ts';
import { getMetric } from '../../src-main/engine/metrics/registry.ts';
import { metricTarget, referenceScore } from '../../src-main/engine/protocol.ts';
import { orderSeries, seriesOf } from '../../src-main/engine/report/series.ts';

const EXPECTED: Record<string, 'logit' | 'probability'> = {
  gradcam: 'logit', scorecam: 'logit', ablationcam: 'logit', gradcampp: 'logit', layercam: 'logit', xgradcam: 'logit',
  saliency: 'logit', inputxgradient: 'logit', integratedgradients: 'logit', smoothgrad: 'logit',
  lime: 'probability', kernelshap: 'probability', partitionshap: 'probability', rise: 'probability', occlusion: 'probability',
};

describe('evaluation protocol sal-1', () => {
  it('gives every registered explainer its reference score (CAM and gradients: logit; perturbation: probability)', () => {
    const undecided = EXPLAINER_NAMES.filter((n) => !(n in EXPECTED));
    expect(undecided, 'place new methods in engine/protocol.ts and this table').toEqual([]);
    for (const name of EXPLAINER_NAMES) expect(referenceScore(name), name).toBe(EXPECTED[name]);
  });

  it("judges faithfulness on the probability and re-runs explainers on the map's own target", () => {
    const logit = { classIndex: 7, score: 'logit' as const };
    for (const m of ['deletion', 'insertion', 'aopc-morf', 'road-morf']) expect(metricTarget(getMetric(m), logit), m).toEqual({ classIndex: 7, score: 'probability' });
    expect(metricTarget(getMetric('max-sensitivity'), logit)).toEqual(logit);
    expect(metricTarget(getMetric('sparseness'), logit)).toEqual(logit);
  });

  it('names series by method, target role and score kind, and orders singles before ensembles', () => {
    const label = (c: number) => ['tench', 'goldfish'][c] ?? `class ${c}`;
    expect(seriesOf({ method: 'gradcam', targetClass: 0, scoreKind: 'logit' }, 0, label)).toEqual({ series: 'gradcam|top1|logit', seriesLabel: 'gradcam (top-1, logit)', targetRole: 'top1', isEnsemble: false });
    expect(seriesOf({ method: 'gradcam', targetClass: 1, scoreKind: 'logit' }, 0, label).seriesLabel).toBe('gradcam (class 1 goldfish, logit)');
    expect(seriesOf({ method: 'lime', targetClass: 5, scoreKind: 'probability' }, null, label).seriesLabel).toBe('lime (class 5, probability)');
    expect(seriesOf({ method: 'ensemble:mean', targetClass: 0, scoreKind: 'logit' }, 0).isEnsemble).toBe(true);
    expect(orderSeries(['ensemble:mean|top1|logit', 'lime|top1|probability', 'gradcam|class:1|logit', 'gradcam|top1|logit', 'gradcam|class:12|logit', 'gradcam|class:2|logit']))
      .toEqual(['gradcam|top1|logit', 'gradcam|class:1|logit', 'gradcam|class:2|logit', 'gradcam|class:12|logit', 'lime|top1|probability', 'ensemble:mean|top1|logit']);
  });
});
