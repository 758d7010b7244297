// Ensembles of real explainer outputs on real ONNX models: they are Explanations the metrics accept, and on the
// known-evidence model their maximum lands on the evidence at least as often as the best single member's.
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { resolveModelSpec } from '../../src-main/engine/model/builtin.ts';
import { generateKnownEvidence } from '../../src-main/engine/model/known-evidence.ts';
import { prepareDecoded, prepareImageFile } from '../../src-main/engine/image/prepare.ts';
import { getExplainer } from '../../src-main/engine/explain/registry.ts';
import type { Explanation, PreparedImage } from '../../src-main/engine/explain/types.ts';
import { buildEnsemble } from '../../src-main/engine/ensemble/build.ts';
import { deletion } from '../../src-main/engine/metrics/deletion.ts';
import { argmax } from '../../src-main/engine/util/math.ts';
import type { Target } from '../../src-main/engine/types.ts';
import { HAS_DATA, MODELS, model as modelPath, sample } from '../helpers/data.ts';

const hit = (e: Explanation, mask: Float32Array) => mask[argmax(e.map.data)] === 1;

describe('ensembles on the built-in known-evidence model', () => {
  let model: Classifier;
  beforeAll(async () => { model = await Classifier.load(resolveModelSpec('builtin:known-evidence'), { batchSize: 32 }); });
  afterAll(async () => { await model?.dispose(); });

  it('mean, median and region-detail of Grad-CAM + occlusion hit the evidence at least as often as the best member', async () => {
    const images = generateKnownEvidence(8, 11);
    const hits: Record<string, number> = {};
    for (const [i, t] of images.entries()) {
      const { prepared } = prepareDecoded(t.image, `ke-${i}`, model);
      const target: Target = { classIndex: t.classIndex, score: 'logit' };
      const members: Explanation[] = [];
      for (const [name, settings] of [['gradcam', {}], ['occlusion', { window: 12, stride: 6 }]] as const) {
        const ex = getExplainer(name);
        members.push(await ex.explain(prepared, target, ex.settings(settings), 1, { model }));
      }
      const ensembles = ['mean', 'median', 'region-detail'].map((c) => buildEnsemble(members, { combiner: c }));
      for (const e of [...members, ...ensembles]) hits[e.method] = (hits[e.method] ?? 0) + (hit(e, t.mask.data) ? 1 : 0);
    }
    const bestSingle = Math.max(hits.gradcam, hits.occlusion);
    expect(bestSingle).toBeGreaterThanOrEqual(6);
    for (const k of ['ensemble:mean', 'ensemble:median', 'ensemble:region-detail']) expect(hits[k], `${k}: ${JSON.stringify(hits)}`).toBeGreaterThanOrEqual(bestSingle);
  }, 300_000);
});

describe.skipIf(!HAS_DATA)('ensembles on a real ImageNet model', () => {
  it('an ensemble of Grad-CAM and RISE on SqueezeNet is an Explanation the deletion metric scores, beating a random map', async () => {
    const model = await Classifier.load(modelPath(MODELS.squeezenet), { batchSize: 16 });
    try {
      const { prepared }: { prepared: PreparedImage } = await prepareImageFile(sample('n01440764_tench.JPEG'), model);
      const out = await model.predict([prepared.input]);
      const target: Target = { classIndex: argmax(out.probabilities, 0, out.numClasses), score: 'probability' };
      const members: Explanation[] = [];
      for (const [name, settings] of [['gradcam', {}], ['rise', { masks: 300 }]] as const) {
        const ex = getExplainer(name);
        members.push(await ex.explain(prepared, target, ex.settings(settings), 3, { model }));
      }
      const e = buildEnsemble(members, { combiner: 'mean', normaliser: 'percentile' });
      expect(e.map.width).toBe(224);
      expect(e.evaluations).toBe(members[0].evaluations + members[1].evaluations);
      const r = await deletion.compute({ image: prepared, target, map: e.map, model }, deletion.settings({ steps: 20 }), 5);
      expect(r.value).toBeLessThan(r.control!.value);
    } finally {
      await model.dispose();
    }
  }, 300_000);
});
