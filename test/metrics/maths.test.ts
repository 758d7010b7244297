// Pure maths of the metrics, with edge cases (no model needed).
import { describe, expect, it } from 'vitest';
import { trapezoidAuc, evenCounts, pixelCounts } from '../../src-main/engine/metrics/curve.ts';
import { averageRanks, relevanceOrder, spearman, topKIoU, pearson } from '../../src-main/engine/metrics/rank.ts';
import { gini } from '../../src-main/engine/metrics/sparseness.ts';
import { entropy } from '../../src-main/engine/metrics/complexity.ts';
import { noisyLinearImpute } from '../../src-main/engine/metrics/road.ts';
import { parseBaseline, baselineImage, randomMap } from '../../src-main/engine/metrics/perturb.ts';
import { gridRegions, regionOrder, segmentRegions } from '../../src-main/engine/metrics/regions.ts';
import { getMetric, METRIC_NAMES } from '../../src-main/engine/metrics/registry.ts';
import { pointingGame } from '../../src-main/engine/metrics/pointing-game.ts';
import { energyPointingGame } from '../../src-main/engine/metrics/energy-pointing-game.ts';
import { sparseness } from '../../src-main/engine/metrics/sparseness.ts';
import { complexity } from '../../src-main/engine/metrics/complexity.ts';
import { rankAgreement, topKAgreement } from '../../src-main/engine/metrics/agreement.ts';
import { randomiseTensor } from '../../src-main/engine/metrics/model-randomisation.ts';
import { DataType, tensorValues } from '../../src-main/engine/model/onnx-graph.ts';
import type { Map2D, PlanarImage } from '../../src-main/engine/types.ts';
import type { PreparedImage } from '../../src-main/engine/explain/types.ts';
import { Random } from '../../src-main/engine/util/random.ts';

const map = (width: number, height: number, values: number[]): Map2D => ({ width, height, data: Float32Array.from(values) });
const prepared = (w: number, h: number): PreparedImage => ({
  id: 't', input: { width: w, height: h, data: new Float32Array(3 * w * h) },
  transform: { originalWidth: w, originalHeight: h, crop: { x: 0, y: 0, width: w, height: h }, inputWidth: w, inputHeight: h },
});

describe('curves and AUC', () => {
  it('trapezoid AUC on the normalised [0,1] axis', () => {
    expect(trapezoidAuc([1, 1, 1, 1])).toBeCloseTo(1, 12);
    expect(trapezoidAuc([0, 0.5, 1])).toBeCloseTo(0.5, 12);
    expect(trapezoidAuc([1, 0])).toBeCloseTo(0.5, 12);
    expect(trapezoidAuc([0.3])).toBe(0.3);
    expect(trapezoidAuc([0, 1, 1], [0, 0.1, 1])).toBeCloseTo(0.05 + 0.9, 12);
    expect(() => trapezoidAuc([])).toThrow(/empty/);
  });
  it('step schedules: steps or pixels per step', () => {
    expect(evenCounts(1024, 50)).toHaveLength(51);
    expect(evenCounts(1024, 50)[0]).toBe(0);
    expect(evenCounts(1024, 50)[50]).toBe(1024);
    const rise = pixelCounts(224 * 224, { steps: 50, pixelsPerStep: 224 });
    expect(rise).toHaveLength(225);
    expect(rise[1]).toBe(224);
    expect(rise[224]).toBe(224 * 224);
    // More steps than pixels: one pixel per step.
    expect(pixelCounts(4, { steps: 50, pixelsPerStep: 0 })).toEqual([0, 1, 2, 3, 4]);
    // A last partial step.
    expect(pixelCounts(10, { steps: 50, pixelsPerStep: 4 })).toEqual([0, 4, 8, 10]);
  });
});

describe('orderings and rank statistics', () => {
  it('orders by relevance, ties in seeded order, NaN last', () => {
    const v = [0.1, 0.9, 0.5, NaN, 0.7];
    expect(Array.from(relevanceOrder(v, new Random(1)))).toEqual([1, 4, 2, 0, 3]);
    expect(Array.from(relevanceOrder(v, new Random(1), false))).toEqual([0, 2, 4, 1, 3]);
    const ties = new Array(200).fill(0);
    const a = Array.from(relevanceOrder(ties, new Random(7)));
    expect(Array.from(relevanceOrder(ties, new Random(7)))).toEqual(a);
    expect(Array.from(relevanceOrder(ties, new Random(8)))).not.toEqual(a);
    expect(a).not.toEqual([...a].sort((x, y) => x - y)); // not scan order
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });
  it('average ranks and Spearman match scipy', () => {
    expect(Array.from(averageRanks([10, 20, 20, 30]))).toEqual([1, 2.5, 2.5, 4]);
    expect(spearman(map(5, 1, [1, 2, 3, 4, 5]), map(5, 1, [5, 6, 7, 8, 7]))).toBeCloseTo(0.8207826816681234, 12);
    expect(spearman(map(2, 2, [1, 2, 3, 4]), map(2, 2, [1, 8, 27, 64]))).toBeCloseTo(1, 12);
    expect(spearman(map(2, 2, [1, 2, 3, 4]), map(2, 2, [4, 3, 2, 1]))).toBeCloseTo(-1, 12);
    expect(spearman(map(2, 2, [1, 2, 3, 4]), map(2, 2, [5, 5, 5, 5]))).toBe(0);
    expect(pearson([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(() => spearman(map(2, 2, [1, 2, 3, 4]), map(4, 1, [1, 2, 3, 4]))).toThrow(/resample/);
  });
  it('top-k IoU', () => {
    const a = map(10, 1, [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(topKIoU(a, a, 0.3, 1)).toBe(1);
    expect(topKIoU(a, map(10, 1, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), 0.3, 1)).toBe(0);
    // top-2 {0,1} vs {1,2}: 1 shared of 3.
    expect(topKIoU(a, map(10, 1, [0, 9, 8, 0, 0, 0, 0, 0, 0, 0]), 0.2, 1)).toBeCloseTo(1 / 3, 12);
    expect(() => topKIoU(a, a, 0, 1)).toThrow(/fraction/);
  });
});

describe('complexity metrics', () => {
  it('Gini sparseness of the evidence mass: 0 uniform, 1-1/n one-hot, negatives and offsets are not mass, zero map = 0', () => {
    expect(gini([1, 1, 1, 1])).toBeCloseTo(0, 12);
    expect(gini([0, 0, 0, 5])).toBeCloseTo(0.75, 12);
    expect(gini([0, 1, 0, 1])).toBeCloseTo(0.5, 12);
    expect(gini([0, -1, 0, 1])).toBeCloseTo(0.75, 12); // negative evidence is not mass
    expect(gini([3, 3, 3, 8])).toBeCloseTo(0.75, 12); // a positive offset (RISE) is removed
    expect(gini([0, 0, 0])).toBe(0);
  });
  it('entropy complexity: 0 one-hot, ln n uniform, zero map = ln n', () => {
    expect(entropy([0, 0, 3, 0])).toBe(0);
    expect(entropy([2, 2, 2, 2])).toBeCloseTo(Math.log(4), 12);
    expect(entropy([0, 1, 1, 2])).toBeCloseTo(1.0397207708399179, 12);
    expect(entropy([5, 6, 6, 7])).toBeCloseTo(1.0397207708399179, 12); // the offset 5 carries no evidence
    expect(entropy([-3, 1, 1, 2])).toBeCloseTo(1.0397207708399179, 12); // nor does negative evidence
    expect(entropy([0, 0, 0, 0])).toBeCloseTo(Math.log(4), 12);
  });
  it('as metrics, with tags', async () => {
    const img = prepared(2, 2);
    const r = await sparseness.compute({ image: img, target: { classIndex: 0, score: 'logit' }, map: map(2, 2, [0, 0, 0, 1]) }, {}, 1);
    expect(r.value).toBeCloseTo(0.75, 12);
    expect(r.higherIsBetter).toBe(true);
    expect(r.control).toBeUndefined();
    const c = await complexity.compute({ image: img, target: { classIndex: 0, score: 'logit' }, map: map(2, 2, [1, 1, 1, 1]) }, {}, 1);
    expect(c.value).toBeCloseTo(Math.log(4), 12);
    expect(complexity.tags).toMatchObject({ higherIsBetter: false, category: 'complexity' });
    await expect(sparseness.compute({ image: img, target: { classIndex: 0, score: 'logit' }, map: map(4, 1, [1, 1, 1, 1]) }, {}, 1)).rejects.toThrow(/model-input grid/);
  });
});

describe('localisation metrics', () => {
  const img = prepared(40, 40);
  const target = { classIndex: 0, score: 'logit' as const };
  const peakAt = (x: number, y: number) => { const m = map(40, 40, new Array(1600).fill(0)); m.data[y * 40 + x] = 1; return m; };
  it('pointing game: hit inside, hit within tolerance, miss beyond', async () => {
    const annotation = { boxes: [[10, 10, 20, 20]] as [number, number, number, number][] };
    const s = pointingGame.settings({ tolerance: 5 });
    expect((await pointingGame.compute({ image: img, target, map: peakAt(15, 15), annotation }, s, 1)).value).toBe(1);
    expect((await pointingGame.compute({ image: img, target, map: peakAt(23, 15), annotation }, s, 1)).value).toBe(1);
    expect((await pointingGame.compute({ image: img, target, map: peakAt(26, 15), annotation }, s, 1)).value).toBe(0);
    expect((await pointingGame.compute({ image: img, target, map: peakAt(26, 15), annotation }, pointingGame.settings({ tolerance: 0 }), 1)).value).toBe(0);
    const mask = map(40, 40, new Array(1600).fill(0));
    mask.data[30 * 40 + 30] = 1;
    expect((await pointingGame.compute({ image: img, target, map: peakAt(30, 30), annotation: { mask } }, s, 1)).value).toBe(1);
    await expect(pointingGame.compute({ image: img, target, map: peakAt(1, 1) }, s, 1)).rejects.toThrow(/annotation/);
    await expect(pointingGame.compute({ image: img, target, map: peakAt(1, 1), annotation: { boxes: [[5, 5, 2, 2]] } }, s, 1)).rejects.toThrow(/x1 > x0/);
    await expect(pointingGame.compute({ image: img, target, map: peakAt(1, 1), annotation: { boxes: [[50, 50, 60, 60]] } }, s, 1)).rejects.toThrow(/covers no pixel/);
  });
  it('energy pointing game: share of positive energy inside', async () => {
    const m = map(40, 40, new Array(1600).fill(0));
    m.data[15 * 40 + 15] = 3; // inside
    m.data[0] = 1; // outside
    m.data[1] = -5; // negative: ignored
    const annotation = { boxes: [[10, 10, 20, 20]] as [number, number, number, number][] };
    expect((await energyPointingGame.compute({ image: img, target, map: m, annotation }, {}, 1)).value).toBeCloseTo(0.75, 12);
    expect((await energyPointingGame.compute({ image: img, target, map: map(40, 40, new Array(1600).fill(0)), annotation }, {}, 1)).value).toBe(0);
  });
  it('agreement metrics need a reference map', async () => {
    const a = map(2, 2, [1, 2, 3, 4]);
    const img2 = prepared(2, 2);
    expect((await rankAgreement.compute({ image: img2, target, map: a, reference: map(2, 2, [2, 4, 6, 9]) }, {}, 1)).value).toBeCloseTo(1, 12);
    expect((await topKAgreement.compute({ image: img2, target, map: a, reference: a }, topKAgreement.settings({ fraction: 0.5 }), 1)).value).toBe(1);
    await expect(rankAgreement.compute({ image: img2, target, map: a }, {}, 1)).rejects.toThrow(/second map/);
  });
});

describe('ROAD noisy linear imputation', () => {
  const W = 24, H = 20, plane = W * H;
  // A linear ramp is reproduced exactly: the 8-neighbour weighted mean of a linear function is its centre value.
  const ramp: PlanarImage = { width: W, height: H, data: new Float32Array(3 * plane) };
  for (let c = 0; c < 3; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) ramp.data[c * plane + y * W + x] = 20 + 5 * x + 3 * y + 10 * c;
  const removed = new Uint8Array(plane);
  for (let y = 4; y < 16; y++) for (let x = 5; x < 19; x++) removed[y * W + x] = 1;
  it('reproduces a linear image without noise', () => {
    const out = noisyLinearImpute(ramp, removed, { noise: 0, random: new Random(1), tolerance: 1e-10 });
    let err = 0;
    for (let i = 0; i < out.data.length; i++) err = Math.max(err, Math.abs(out.data[i] - ramp.data[i]));
    expect(err).toBeLessThan(1e-3);
  });
  it('keeps kept pixels, adds seeded noise to removed ones only', () => {
    const a = noisyLinearImpute(ramp, removed, { noise: 2.55, random: new Random(3) });
    const b = noisyLinearImpute(ramp, removed, { noise: 2.55, random: new Random(3) });
    const c = noisyLinearImpute(ramp, removed, { noise: 2.55, random: new Random(4) });
    expect(a.data).toEqual(b.data);
    expect(a.data).not.toEqual(c.data);
    for (let p = 0; p < plane; p++) if (!removed[p]) expect(a.data[p]).toBe(ramp.data[p]);
    let dev = 0;
    for (let p = 0; p < plane; p++) if (removed[p]) dev += (a.data[p] - ramp.data[p]) ** 2;
    expect(Math.sqrt(dev / removed.reduce((s, v) => s + v, 0))).toBeGreaterThan(1.5);
  });
  it('edge cases: nothing removed, everything removed', () => {
    expect(noisyLinearImpute(ramp, new Uint8Array(plane), { noise: 1, random: new Random(1) }).data).toEqual(ramp.data);
    const all = noisyLinearImpute(ramp, new Uint8Array(plane).fill(1), { noise: 0, random: new Random(1) });
    expect(all.data.every((v) => v === 127.5)).toBe(true);
    expect(() => noisyLinearImpute(ramp, new Uint8Array(3), { noise: 0, random: new Random(1) })).toThrow(/mask/);
  });
});

describe('baselines, regions, settings, registry', () => {
  it('baselines', () => {
    expect(parseBaseline('black')).toBe('black');
    expect(parseBaseline('128')).toBe(128);
    expect(() => parseBaseline('purple')).toThrow(/black, mean/);
    expect(() => parseBaseline(300)).toThrow(/0..255/);
    const img: PlanarImage = { width: 2, height: 1, data: Float32Array.from([10, 20, 30, 40, 50, 60]) };
    expect(Array.from(baselineImage(img, 'image-mean', new Random(1)).data)).toEqual([15, 15, 35, 35, 55, 55]);
    expect(baselineImage(img, 'mean', new Random(1)).data[0]).toBeCloseTo(123.675, 3);
    expect(baselineImage(img, 'uniform', new Random(1)).data).toEqual(baselineImage(img, 'uniform', new Random(1)).data);
    expect(randomMap(4, 4, new Random(2)).data).toEqual(randomMap(4, 4, new Random(2)).data);
    // The smooth control: 7 cells along the longer side, upsampled; neighbouring pixels differ little.
    const smooth = randomMap(70, 35, new Random(3), 7);
    expect([smooth.width, smooth.height]).toEqual([70, 35]);
    let jump = 0;
    for (let i = 1; i < 70; i++) jump = Math.max(jump, Math.abs(smooth.data[i] - smooth.data[i - 1]));
    expect(jump).toBeLessThan(0.2);
    const pixel = randomMap(70, 35, new Random(3), 0);
    let pjump = 0;
    for (let i = 1; i < 70; i++) pjump = Math.max(pjump, Math.abs(pixel.data[i] - pixel.data[i - 1]));
    expect(pjump).toBeGreaterThan(0.5);
  });
  it('regions: patches cover every pixel once; order by total relevance', () => {
    const r = gridRegions(10, 7, 4);
    expect(r.pixels).toHaveLength(6);
    const seen = new Uint8Array(70);
    for (const px of r.pixels) for (const p of px) seen[p]++;
    expect(seen.every((v) => v === 1)).toBe(true);
    const m = map(10, 7, new Array(70).fill(0));
    m.data[6 * 10 + 9] = 5; // bottom-right (partial) patch
    const { order, cumulative } = regionOrder(m, r, new Random(1), true);
    expect(order[0]).toBe(r.pixels[5][0]);
    expect(cumulative).toEqual([0, 6, ...cumulative.slice(2)]);
    expect(cumulative[6]).toBe(70);
    expect(segmentRegions(Int32Array.from([3, 3, 7, 7]), 2, 2).pixels).toHaveLength(2);
    expect(() => segmentRegions(Int32Array.from([1]), 2, 2)).toThrow(/labels/);
  });
  it('settings are validated with clear errors', () => {
    expect(() => getMetric('deletion').settings({ steps: 0 })).toThrow(/steps=0/);
    expect(() => getMetric('aopc-morf').settings({ baseline: 'purple' })).toThrow(/baseline/);
    expect(() => getMetric('road-morf').settings({ fractions: [0.5, 1.2] })).toThrow(/fractions/);
    expect(getMetric('deletion').settings({})).toMatchObject({ steps: 50, baseline: 'mean', control: true });
    expect(() => getMetric('nope')).toThrow(/known: deletion, insertion/);
  });
  it('every metric declares its tags', () => {
    for (const name of METRIC_NAMES) {
      const m = getMetric(name);
      expect(typeof m.tags.higherIsBetter).toBe('boolean');
      expect(['faithfulness', 'localisation', 'robustness', 'complexity', 'randomisation', 'agreement']).toContain(m.tags.category);
      expect(m.description.length).toBeGreaterThan(20);
    }
    expect(getMetric('deletion').tags.higherIsBetter).toBe(false);
    expect(getMetric('insertion').tags.higherIsBetter).toBe(true);
    expect(getMetric('aopc-lerf').tags.higherIsBetter).toBe(false);
    expect(getMetric('max-sensitivity').tags.needs.explainerReruns).toBe(true);
    expect(getMetric('pointing-game').tags.needs.annotations).toBe(true);
  });
  it('weight randomisation keeps shape and scale, is seeded', () => {
    const orig = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 0.2 + 0.05);
    const mk = () => ({ name: 'w', dims: [10, 100], data_type: DataType.FLOAT, raw_data: new Uint8Array(orig.buffer.slice(0)) });
    const a = mk(), b = mk();
    randomiseTensor(a, new Random(5));
    randomiseTensor(b, new Random(5));
    const va = tensorValues(a);
    expect(va).toEqual(tensorValues(b));
    expect(va).toHaveLength(1000);
    const mean = va.reduce((s, v) => s + v, 0) / 1000;
    const std = Math.sqrt(va.reduce((s, v) => s + (v - mean) ** 2, 0) / 1000);
    expect(mean).toBeCloseTo(0.05, 1);
    expect(std).toBeGreaterThan(0.1);
    expect(std).toBeLessThan(0.2);
    expect(pearson(va, orig)).toBeLessThan(0.2);
    const q = { name: 'q', dims: [100], data_type: DataType.INT8, raw_data: Uint8Array.from({ length: 100 }, (_, i) => (i % 20) - 10 & 0xff) };
    randomiseTensor(q, new Random(1));
    const vq = tensorValues(q);
    expect(Math.min(...vq)).toBeGreaterThanOrEqual(-10);
    expect(Math.max(...vq)).toBeLessThanOrEqual(9);
  });
});
