// The methods on the real pretrained models: reproducibility (bit for bit, with the score cache cleared so the
// model really runs again), progressive partial maps, Owen-value efficiency, and agreement of the
// gradient-free CAMs with Grad-CAM.
import { beforeAll, describe, expect, it } from 'vitest';
import { HAS_DATA, MODELS, model as modelPath, sample } from '../helpers/data.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../../src-main/engine/image/prepare.ts';
import { getExplainer } from '../../src-main/engine/explain/registry.ts';
import type { Explanation, PreparedImage } from '../../src-main/engine/explain/types.ts';
import type { Map2D, Target } from '../../src-main/engine/types.ts';
import { schedulerFor } from '../../src-main/engine/infer/scheduler.ts';
import { argmax } from '../../src-main/engine/util/math.ts';
import { pearson } from '../../src-main/engine/metrics/rank.ts';

const IMAGES = ['n01440764_tench.JPEG', 'n02123045_tabby.JPEG', 'n03417042_garbage_truck.JPEG'];

async function topTarget(model: Classifier, image: PreparedImage, score: Target['score'] = 'logit'): Promise<Target> {
  const out = await model.predict([image.input]);
  return { classIndex: argmax(out.logits), score };
}

async function run(model: Classifier, image: PreparedImage, target: Target, name: string, partial: Record<string, unknown>, seed: number,
  onProgress?: (p: { fraction: number; partial?: Map2D }) => void): Promise<Explanation> {
  schedulerFor(model).clearCache(); // recompute, so equal maps mean the whole pipeline is reproducible
  const e = getExplainer(name);
  return e.explain(image, target, e.settings(partial), seed, { model, onProgress });
}

describe.skipIf(!HAS_DATA)('real models (SqueezeNet 1.1, ShuffleNetV2)', () => {
  let squeeze: Classifier;
  let shuffle: Classifier;
  const images: PreparedImage[] = [];
  const shuffleImages: PreparedImage[] = [];

  beforeAll(async () => {
    squeeze = await Classifier.load(modelPath('squeezenet1.1-fp32.onnx'), { batchSize: 8 });
    shuffle = await Classifier.load(modelPath(MODELS.shufflenet), { batchSize: 8 });
    for (const f of IMAGES) {
      images.push((await prepareImageFile(sample(f), squeeze)).prepared);
      shuffleImages.push((await prepareImageFile(sample(f), shuffle)).prepared);
    }
  });

  it('RISE: same seed -> identical map, different seed -> different masks and map; partial maps converge', async () => {
    const image = images[0];
    const target = await topTarget(squeeze, image);
    const partials: Map2D[] = [];
    const a = await run(squeeze, image, target, 'rise', { masks: 48, progressEvery: 16 }, 11, (p) => { if (p.partial) partials.push(p.partial); });
    const b = await run(squeeze, image, target, 'rise', { masks: 48, progressEvery: 16 }, 11);
    const c = await run(squeeze, image, target, 'rise', { masks: 48, progressEvery: 16 }, 12);
    expect(Buffer.from(a.map.data.buffer).equals(Buffer.from(b.map.data.buffer))).toBe(true);
    expect(Buffer.from(a.map.data.buffer).equals(Buffer.from(c.map.data.buffer))).toBe(false);
    expect(a.evaluations).toBe(48);
    expect(a.extras.freshEvaluations).toBe(48); // random masks never repeat
    expect(partials.length).toBe(3); // at 8 (one model batch: the first partial map comes sooner), 16 and 32 masks (the final map is the result)
    const conv = (a.extras.convergence as { masks: number; correlation: number | null }[]).filter((x) => x.correlation !== null);
    expect(conv.map((x) => x.masks)).toEqual([16, 32, 48]);
    for (const x of conv) expect(x.correlation!).toBeGreaterThan(0.3);
  });

  it('concurrent methods share the scheduler\'s batches and still give the same maps bit for bit', async () => {
    const image = images[0];
    const target = await topTarget(squeeze, image);
    const alone = await run(squeeze, image, target, 'rise', { masks: 24 }, 4);
    const occAlone = await run(squeeze, image, target, 'occlusion', { window: 112, stride: 56 }, 0);
    schedulerFor(squeeze).clearCache();
    const rise = getExplainer('rise');
    const occ = getExplainer('occlusion');
    const [r, o] = await Promise.all([
      rise.explain(image, target, rise.settings({ masks: 24 }), 4, { model: squeeze }),
      occ.explain(image, target, occ.settings({ window: 112, stride: 56 }), 0, { model: squeeze }),
    ]);
    expect(Buffer.from(r.map.data.buffer).equals(Buffer.from(alone.map.data.buffer))).toBe(true);
    expect(Buffer.from(o.map.data.buffer).equals(Buffer.from(occAlone.map.data.buffer))).toBe(true);
  });

  it('Partition SHAP: reproducible, efficient (sums to f(x) - f(baseline)), partial maps', async () => {
    const image = images[1];
    for (const score of ['logit', 'probability'] as const) {
      const target = await topTarget(squeeze, image, score);
      let partials = 0;
      const a = await run(squeeze, image, target, 'partitionshap', { maxEvals: 60, progressEvery: 20, roundSize: 4 }, 5, (p) => { if (p.partial) partials++; });
      const b = await run(squeeze, image, target, 'partitionshap', { maxEvals: 60, progressEvery: 20, roundSize: 4 }, 5);
      expect(Buffer.from(a.map.data.buffer).equals(Buffer.from(b.map.data.buffer))).toBe(true);
      expect(a.evaluations).toBeLessThanOrEqual(60);
      expect(a.evaluations).toBeGreaterThan(50);
      expect(partials).toBeGreaterThanOrEqual(2);
      const eff = a.extras.efficiency as { sum: number; expected: number; relativeError: number };
      expect(Math.abs(eff.expected)).toBeGreaterThan(0);
      expect(eff.relativeError).toBeLessThan(1e-6);
      let mapSum = 0;
      for (const v of a.map.data) mapSum += v;
      expect(Math.abs(mapSum - eff.expected)).toBeLessThan(1e-3 * Math.abs(eff.expected)); // float32 map
    }
  });

  it('occlusion: reproducible; the map averages the score drops of the covering windows', async () => {
    const image = images[2];
    const target = await topTarget(squeeze, image);
    const a = await run(squeeze, image, target, 'occlusion', { window: 56, stride: 56 }, 1);
    const b = await run(squeeze, image, target, 'occlusion', { window: 56, stride: 56 }, 2);
    expect(Buffer.from(a.map.data.buffer).equals(Buffer.from(b.map.data.buffer))).toBe(true);
    expect(a.evaluations).toBe(17); // 4 x 4 windows + the image itself
    // Non-overlapping windows: each pixel carries exactly its window's drop f(x) - f(occluded), checked here
    // against a direct forward pass with that window filled with the image's mean colour.
    const { width, height, data } = image.input;
    const plane = width * height;
    const occluded = Float32Array.from(data);
    for (let c = 0; c < 3; c++) {
      let mean = 0;
      for (let p = 0; p < plane; p++) mean += data[c * plane + p];
      mean /= plane;
      for (let y = 0; y < 56; y++) for (let x = 56; x < 112; x++) occluded[c * plane + y * width + x] = mean;
    }
    const out = await squeeze.predict([image.input, { width, height, data: occluded }]);
    const drop = out.logits[target.classIndex] - out.logits[out.numClasses + target.classIndex];
    const d = a.map.data;
    expect(d[56]).toBeCloseTo(drop, 3);
    expect(d[55 * width + 111]).toBe(d[56]);
    expect(d[56 * width + 56]).not.toBe(d[56]);
  });

  it('Score-CAM and Ablation-CAM correlate positively with Grad-CAM (SqueezeNet)', async () => {
    for (const image of images) {
      const target = await topTarget(squeeze, image);
      const grad = await run(squeeze, image, target, 'gradcam', {}, 0);
      const score = await run(squeeze, image, target, 'scorecam', { topK: 32 }, 0);
      const abl = await run(squeeze, image, target, 'ablationcam', {}, 0);
      expect(score.evaluations).toBe(1 + (score.extras.channelsScored as number));
      expect(abl.evaluations).toBe(1);
      expect(pearson(grad.map.data, score.map.data), image.id).toBeGreaterThan(0.3);
      expect(pearson(grad.map.data, abl.map.data), image.id).toBeGreaterThan(0.3);
    }
  });

  it('Ablation-CAM on a real linear head (ShuffleNetV2): positive agreement with Grad-CAM for logit and probability', async () => {
    for (const image of shuffleImages) {
      for (const s of ['logit', 'probability'] as const) {
        const target = await topTarget(shuffle, image, s);
        const grad = await run(shuffle, image, target, 'gradcam', {}, 0);
        const abl = await run(shuffle, image, target, 'ablationcam', {}, 0);
        expect(abl.native!.width).toBe(7);
        const r = pearson(grad.map.data, abl.map.data);
        expect(r, `${image.id} ${s}`).toBeGreaterThan(0.3);
        expect(r, `${image.id} ${s}: not simply Grad-CAM`).toBeLessThan(0.99999);
      }
    }
  });
});
