// Metrics on the real pretrained models: the randomisation sanity check decorrelates Grad-CAM, max-sensitivity
// re-runs the explainer, and Grad-CAM beats the random-map control on deletion and insertion.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_DATA, MODELS, model as modelPath, sample } from '../helpers/data.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../../src-main/engine/image/prepare.ts';
import { getExplainer } from '../../src-main/engine/explain/registry.ts';
import { getMetric } from '../../src-main/engine/metrics/registry.ts';
import { argmax } from '../../src-main/engine/util/math.ts';
import type { PreparedImage } from '../../src-main/engine/explain/types.ts';
import type { Target } from '../../src-main/engine/types.ts';

const IMAGES = ['n01440764_tench.JPEG', 'n01530575_brambling.JPEG'];

describe.skipIf(!HAS_DATA)('metrics on SqueezeNet 1.1 with Grad-CAM', () => {
  let m: Classifier;
  const cases: { image: PreparedImage; target: Target }[] = [];
  const gradcam = getExplainer('gradcam');
  const settings = gradcam.settings({});
  beforeAll(async () => {
    m = await Classifier.load(modelPath(MODELS.squeezenet), { batchSize: 8 });
    for (const f of IMAGES) {
      const { prepared } = await prepareImageFile(sample(f), m);
      const out = await m.predict([prepared.input]);
      cases.push({ image: prepared, target: { classIndex: argmax(out.logits, 0, out.numClasses), score: 'logit' } });
    }
  });
  afterAll(async () => { await m?.dispose(); });

  it('cascading randomisation: Grad-CAM decorrelates as the head, then blocks, are randomised', async () => {
    const metric = getMetric('model-randomisation');
    for (const { image, target } of cases) {
      const e = await gradcam.explain(image, target, settings, 1, { model: m });
      const r = await metric.compute({ image, target, map: e.map, model: m, explainer: { explainer: gradcam, settings, seed: 1 } }, metric.settings({}), 7);
      const y = r.curve!.y;
      const blocks = r.extras!.blocks as string[];
      expect(blocks[0]).toBe('conv10_w_0'); // the head first
      expect(blocks).toContain('fire9');
      expect(y).toHaveLength(blocks.length);
      // Randomising the head alone already breaks the map; deeper randomisation leaves little correlation.
      expect(y[0]).toBeLessThan(0.8);
      const tail = y.slice(Math.floor(y.length / 2));
      expect(tail.reduce((a, b) => a + b, 0) / tail.length).toBeLessThan(0.45);
      expect(Math.min(...y.slice(1))).toBeLessThan(y[0]);
      expect(r.value).toBeLessThan(0.5);
    }
  }, 240_000);

  it('max-sensitivity: 0 for radius 0, grows with the radius, reproducible', async () => {
    const metric = getMetric('max-sensitivity');
    const { image, target } = cases[0];
    const e = await gradcam.explain(image, target, settings, 1, { model: m });
    const input = { image, target, map: e.map, model: m, explainer: { explainer: gradcam, settings, seed: 1 } };
    expect((await metric.compute(input, metric.settings({ radius: 0, samples: 2 }), 1)).value).toBe(0);
    const small = await metric.compute(input, metric.settings({ radius: 2, samples: 3 }), 1);
    const large = await metric.compute(input, metric.settings({ radius: 24, samples: 3 }), 1);
    expect(small.value).toBeGreaterThan(0);
    expect(large.value).toBeGreaterThan(small.value);
    expect((await metric.compute(input, metric.settings({ radius: 2, samples: 3 }), 1)).value).toBe(small.value);
  });

  it('Grad-CAM beats its random-map control on deletion and insertion', async () => {
    for (const { image, target: t } of cases) {
      const target = { ...t, score: 'probability' as const };
      const e = await gradcam.explain(image, target, settings, 1, { model: m });
      const del = await getMetric('deletion').compute({ image, target, map: e.map, model: m }, getMetric('deletion').settings({}), 1);
      const ins = await getMetric('insertion').compute({ image, target, map: e.map, model: m }, getMetric('insertion').settings({}), 1);
      expect(del.value).toBeLessThan(del.control!.value);
      expect(ins.value).toBeGreaterThan(ins.control!.value);
      expect(del.curve!.y).toHaveLength(51);
    }
  });

  it('AOPC MoRF over SLIC superpixels: Grad-CAM above its control', async () => {
    const { image, target } = cases[0];
    const e = await gradcam.explain(image, target, settings, 1, { model: m });
    const metric = getMetric('aopc-morf');
    const r = await metric.compute({ image, target, map: e.map, model: m }, metric.settings({ superpixels: 50, steps: 20 }), 2);
    expect(r.extras!.regions as number).toBeGreaterThan(30);
    expect(r.curve!.y).toHaveLength(21);
    expect(r.curve!.xLabel).toMatch(/SLIC/);
    expect(r.value).toBeGreaterThan(r.control!.value);
  });
});
