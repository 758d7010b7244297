// On a model whose evidence is known exactly, the true evidence map must get the best faithfulness scores and
// hit the pointing game every time; results are reproducible with the same seed and carry their curves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Classifier } from '../../src-main/engine/model/classifier.ts';
import type { Map2D } from '../../src-main/engine/types.ts';
import { getMetric } from '../../src-main/engine/metrics/registry.ts';
import type { MetricInput } from '../../src-main/engine/metrics/types.ts';
import { schedulerFor } from '../../src-main/engine/infer/scheduler.ts';
import { Random } from '../../src-main/engine/util/random.ts';
import { baselineImage } from '../../src-main/engine/metrics/perturb.ts';
import { BOX, SIZE, knownEvidenceImage, loadKnownEvidence, trueEvidence } from './known-evidence.ts';

let model: Classifier;
beforeAll(async () => { model = await loadKnownEvidence(); });
afterAll(async () => { await model?.dispose(); });

const target = { classIndex: 0, score: 'logit' as const };

function candidates(truth: Map2D, seed: number): Record<string, Map2D> {
  const r = new Random(seed);
  const grid = (f: (x: number, y: number, i: number) => number): Map2D => {
    const data = new Float32Array(SIZE * SIZE);
    for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) data[y * SIZE + x] = f(x, y, y * SIZE + x);
    return { width: SIZE, height: SIZE, data };
  };
  const max = Math.max(...truth.data);
  const inBox = (x: number, y: number, dx = 0, dy = 0) => x >= BOX[0] + dx && x < BOX[2] + dx && y >= BOX[1] + dy && y < BOX[3] + dy;
  const cx = (BOX[0] + BOX[2]) / 2, cy = (BOX[1] + BOX[3]) / 2;
  return {
    random: grid(() => r.next()),
    inverted: grid((_x, _y, i) => max - truth.data[i]),
    uniformBox: grid((x, y) => (inBox(x, y) ? 1 : 0)),
    shiftedBox: grid((x, y) => (inBox(x, y, 6, 4) ? 1 : 0)),
    blob: grid((x, y) => Math.exp(-((x - cx - 3) ** 2 + (y - cy) ** 2) / 50)),
    noisyTruth: grid((_x, _y, i) => truth.data[i] + 0.02 * r.next()),
  };
}

/** The true evidence of each pixel against insertion's blurred start instead of black (the model is linear). */
function evidenceAgainstBlur(image: ReturnType<typeof knownEvidenceImage>, truth: Map2D): Map2D {
  const blurred = baselineImage(image.input, 'blur', new Random(0), 5, model).data;
  const red = image.input.data;
  return { ...truth, data: truth.data.map((v, p) => (v === 0 ? 0 : v * (1 - blurred[p] / red[p]))) };
}

describe('known-evidence model', () => {
  it('the graph computes the known evidence', async () => {
    const img = knownEvidenceImage(1);
    const out = await model.predict([img.input]);
    expect(out.logits[0]).toBeCloseTo(trueEvidence(img).data.reduce((a, b) => a + b, 0), 4);
  });

  it('the true evidence map gets the best deletion, insertion and AOPC scores and hits the pointing game', async () => {
    const metrics = {
      deletion: getMetric('deletion').settings({ baseline: 'black', control: false }),
      insertion: getMetric('insertion').settings({ control: false }),
      'aopc-morf': getMetric('aopc-morf').settings({ patch: 4, baseline: 'black', control: false }),
      'aopc-lerf': getMetric('aopc-lerf').settings({ patch: 4, baseline: 'black', control: false }),
    } as const;
    let hits = 0;
    const images = [1, 2, 3, 4, 5];
    for (const seed of images) {
      const image = knownEvidenceImage(seed);
      const truth = trueEvidence(image);
      const others = candidates(truth, seed);
      for (const [name, settings] of Object.entries(metrics)) {
        const metric = getMetric(name);
        const score = async (map: Map2D) => (await metric.compute({ image, target, map, model }, settings, 11)).value;
        // Insertion starts from the blurred image (RISE's kernel): the exact evidence is then against that start.
        const best = await score(name === 'insertion' ? evidenceAgainstBlur(image, truth) : truth);
        for (const [other, map] of Object.entries(others)) {
          const v = await score(map);
          const better = metric.tags.higherIsBetter ? best >= v - 1e-9 : best <= v + 1e-9;
          expect(better, `${name}: truth ${best.toFixed(4)} vs ${other} ${v.toFixed(4)} (image ${seed})`).toBe(true);
        }
      }
      const pg = await getMetric('pointing-game').compute({ image, target, map: truth, annotation: { boxes: [BOX] } }, getMetric('pointing-game').settings({ tolerance: 0 }), 1);
      hits += pg.value;
    }
    expect(hits / images.length).toBe(1);
  });

  it('ROAD and energy pointing game also rank the true map above the random-map control', async () => {
    const image = knownEvidenceImage(9);
    const map = trueEvidence(image);
    const input: MetricInput = { image, target, map, model, annotation: { boxes: [BOX] } };
    const morf = await getMetric('road-morf').compute(input, getMetric('road-morf').settings({}), 3);
    const lerf = await getMetric('road-lerf').compute(input, getMetric('road-lerf').settings({}), 3);
    expect(morf.value).toBeLessThan(morf.control!.value);
    expect(lerf.value).toBeGreaterThan(lerf.control!.value);
    expect(morf.curve!.y).toHaveLength(9);
    expect((await getMetric('energy-pointing-game').compute(input, {}, 1)).value).toBe(1);
  });

  it('curves are stored with the numbers and the control comes from the same code on a random map', async () => {
    const image = knownEvidenceImage(2);
    const map = trueEvidence(image);
    const del = await getMetric('deletion').compute({ image, target, map, model }, getMetric('deletion').settings({ steps: 20, baseline: 'black' }), 5);
    const curve = del.curve!;
    expect(curve.x).toHaveLength(21);
    expect(curve.y).toHaveLength(21);
    expect(curve.x[0]).toBe(0);
    expect(curve.x[20]).toBe(1);
    const original = (await model.predict([image.input])).logits[0];
    expect(curve.y[0]).toBeCloseTo(original, 5);
    expect(curve.y[20]).toBeCloseTo(0, 5); // all black: the box holds no evidence
    // Trapezoid over the actual fractions removed (counts are rounded, so steps are not all exactly 1/20).
    expect(del.value).toBeCloseTo(curve.y.reduce((s, y, i) => (i === 0 ? s : s + ((y + curve.y[i - 1]) / 2) * (curve.x[i] - curve.x[i - 1])), 0), 6);
    expect(del.control).toBeDefined();
    expect(del.control!.curve!.y).toHaveLength(21);
    expect(del.control!.value).toBeGreaterThan(del.value);
    // AOPC is the documented average: mean over k = 0..L of f(x) - f(x_k).
    const aopc = await getMetric('aopc-morf').compute({ image, target, map, model }, getMetric('aopc-morf').settings({ patch: 8, steps: 10 }), 5);
    const y = aopc.curve!.y;
    expect(y).toHaveLength(11);
    expect(aopc.value).toBeCloseTo(y.reduce((s, v) => s + (y[0] - v), 0) / 11, 10);
  });

  it('the control is the mean over controlSamples random maps, shared by every map of the image', async () => {
    const image = knownEvidenceImage(4);
    const map = trueEvidence(image);
    const metric = getMetric('deletion');
    const four = await metric.compute({ image, target, map, model }, metric.settings({ steps: 10, controlSamples: 4 }), 9);
    const one = await metric.compute({ image, target, map, model }, metric.settings({ steps: 10, controlSamples: 1 }), 9);
    const values = four.control!.extras!.values as number[];
    expect(values).toHaveLength(4);
    expect(new Set(values).size).toBe(4); // four different random maps
    expect(values[0]).toBe(one.control!.value); // the first map is the one-map control
    expect(four.control!.value).toBeCloseTo(values.reduce((a, b) => a + b, 0) / 4, 12);
    // The curve is the pointwise mean, so its area is the mean area.
    const { x, y } = four.control!.curve!;
    expect(y).toHaveLength(11);
    expect(four.control!.value).toBeCloseTo(y.reduce((s, v, i) => (i === 0 ? s : s + ((v + y[i - 1]) / 2) * (x[i] - x[i - 1])), 0), 10);
    // Another map of the same image reuses the control curves from the score cache: only its own curve is new.
    const scheduler = schedulerFor(model);
    const before = { ...scheduler.stats };
    await metric.compute({ image, target, map: candidates(map, 4).blob, model }, metric.settings({ steps: 10, controlSamples: 4 }), 9);
    expect(scheduler.stats.requested - before.requested).toBe(5 * 11);
    expect(scheduler.stats.evaluated - before.evaluated).toBeLessThanOrEqual(11);
    expect(() => metric.settings({ controlSamples: 0 })).toThrow(/controlSamples/);
  });

  it("the 'zero' baseline is the model's zero input: black for this unit-preset model", async () => {
    const image = knownEvidenceImage(5);
    const map = trueEvidence(image);
    const metric = getMetric('deletion');
    const zero = await metric.compute({ image, target, map, model }, metric.settings({ steps: 10, baseline: 'zero', control: false }), 3);
    const black = await metric.compute({ image, target, map, model }, metric.settings({ steps: 10, baseline: 'black', control: false }), 3);
    const grey = await metric.compute({ image, target, map, model }, metric.settings({ steps: 10, baseline: 'mean', control: false }), 3);
    expect(zero.curve!.y).toEqual(black.curve!.y);
    expect(grey.curve!.y).not.toEqual(black.curve!.y);
    expect(() => baselineImage(image.input, 'zero', new Random(1))).toThrow(/needs the model/);
  });

  it('is reproducible with the same seed and goes through the shared scheduler', async () => {
    const image = knownEvidenceImage(3);
    const map = trueEvidence(image);
    const scheduler = schedulerFor(model);
    const before = scheduler.stats.requested;
    for (const name of ['deletion', 'insertion', 'aopc-morf', 'road-morf']) {
      const metric = getMetric(name);
      const s = metric.settings(name === 'aopc-morf' ? { patch: 8 } : {});
      const a = await metric.compute({ image, target, map, model }, s, 42);
      scheduler.clearCache(); // recomputed from scratch, not read back from the score cache
      const b = await metric.compute({ image, target, map, model }, s, 42);
      expect(b.value).toBe(a.value);
      expect(b.curve).toEqual(a.curve);
      expect(b.control).toEqual(a.control);
      const c = await metric.compute({ image, target, map, model }, s, 43);
      expect(c.control!.value, name).not.toBe(a.control!.value);
    }
    expect(scheduler.stats.requested).toBeGreaterThan(before);
    expect(scheduler.stats.cacheHits).toBeGreaterThan(0);
  });
});
