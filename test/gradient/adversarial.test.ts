// The adversarial-fragility metric: a label-preserving PGD attack on the margin through the backward graph.
import { describe, expect, it } from 'vitest';
import { NO_CLOCK, useDemoImage } from '../helpers/demo-image.ts';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { builtinSamplesDir, resolveModelSpec } from '../../src-main/engine/model/builtin.ts';
import { prepareImageFile } from '../../src-main/engine/image/prepare.ts';
import { getExplainer } from '../../src-main/engine/explain/registry.ts';
import { getMetric } from '../../src-main/engine/metrics/registry.ts';
import type { PreparedImage } from '../../src-main/engine/explain/types.ts';
import type { Target } from '../../src-main/engine/types.ts';
import { argmax } from '../../src-main/engine/util/math.ts';
import { releaseGradientGraphs } from '../../src-main/engine/model/autodiff/gradient-scheduler.ts';


describe('adversarial-fragility (builtin:demo)', () => {
  const demo = useDemoImage(2);

  async function fragility(method: string, epsilon: number) {
    const { model, image, target } = demo;
    const explainer = getExplainer(method);
    const settings = explainer.settings({});
    const e = await explainer.explain(image, target, settings, 1, { model });
    const metric = getMetric('adversarial-fragility');
    return metric.compute({ image, target, map: e.map, model, explainer: { explainer, settings, seed: 1 } }, metric.settings({ epsilon, steps: 8 }), 3);
  }

  it('lowers the margin while keeping the label, and the map changes', async () => {
    const r = await fragility('saliency', 16);
    const x = r.extras as { marginBefore: number; marginAfter: number; stepsKept: number; topKIntersection: number };
    console.log(`saliency, epsilon 16/255: Spearman ${r.value.toFixed(3)}, top-10% intersection ${x.topKIntersection.toFixed(3)}, margin ${x.marginBefore.toFixed(2)} -> ${x.marginAfter.toFixed(2)} (${x.stepsKept} steps kept)`);
    expect(x.marginAfter).toBeLessThan(x.marginBefore);
    expect(r.value).toBeLessThan(1);
    expect(r.value).toBeGreaterThan(-1);
  }, NO_CLOCK);

  it('epsilon 0 leaves the image and a deterministic map unchanged', async () => {
    const r = await fragility('gradcam', 0);
    expect(r.value).toBeCloseTo(1, 9);
    expect((r.extras as { topKIntersection: number }).topKIntersection).toBeCloseTo(1, 9);
  }, NO_CLOCK);
});
