// LIME and KernelSHAP: evidence found on a model built to use one square, efficiency on the real models,
// one shared set of evaluations, determinism, progress, cancellation and clear errors for bad settings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_DATA, MODELS, model, sample } from '../helpers/data.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../../src-main/engine/image/prepare.ts';
import { schedulerFor } from '../../src-main/engine/infer/scheduler.ts';
import { EXPLAINER_NAMES, getExplainer } from '../../src-main/engine/explain/registry.ts';
import { Lime } from '../../src-main/engine/explain/perturb/lime.ts';
import { KernelShap } from '../../src-main/engine/explain/perturb/kernelshap.ts';
import { kernelShapCoalitions } from '../../src-main/engine/explain/perturb/shapley-sampler.ts';
import { sampleCoalitions } from '../../src-main/engine/explain/perturb/coalitions.ts';
import { segmentImage } from '../../src-main/engine/explain/perturb/segment-sampling.ts';
import type { PreparedImage } from '../../src-main/engine/explain/types.ts';
import type { Explanation, ExplainContext } from '../../src-main/engine/explain/types.ts';
import type { Map2D, PlanarImage, Target } from '../../src-main/engine/types.ts';
import { argmax } from '../../src-main/engine/util/math.ts';
import { evidenceModelBytes, texturedImage, type Square } from './evidence-model.ts';

const SIZE = 64;
const SQ: Square = { x0: 40, y0: 8, x1: 56, y1: 24 };
const inSquare = (p: number) => { const x = p % SIZE; const y = Math.floor(p / SIZE); return x >= SQ.x0 && x < SQ.x1 && y >= SQ.y0 && y < SQ.y1; };

function prepared(input: PlanarImage, id = 'test'): PreparedImage {
  return { id, input, transform: { originalWidth: input.width, originalHeight: input.height, crop: { x: 0, y: 0, width: input.width, height: input.height }, inputWidth: input.width, inputHeight: input.height } };
}
const bits = (m: Map2D) => Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);

describe('explainers on a model whose evidence is known (logit = brightness of one square)', () => {
  let m: Classifier;
  const image = prepared(texturedImage(SIZE, 1));
  const target: Target = { classIndex: 0, score: 'logit' };
  beforeAll(async () => {
    m = await Classifier.load({ bytes: evidenceModelBytes(SIZE, SQ), name: 'evidence' });
  });
  afterAll(async () => m?.dispose());

  for (const segmentation of ['slic', 'grid'] as const) {
    it(`LIME and KernelSHAP put the strongest region on the square (${segmentation})`, async () => {
      const ctx: ExplainContext = { model: m };
      for (const ex of [new Lime(), new KernelShap()]) {
        const s = ex.settings({ samples: 300, segments: 36, segmentation, baseline: 'black' });
        const r = await ex.explain(image, target, s as never, 3, ctx);
        expect(r.native!.width).toBe(segmentImage(image.input, s).count);
        // Grid cells align with the square, so the map's peak is on it; superpixels may spill over its edge.
        if (segmentation === 'grid') expect(inSquare(argmax(r.map.data))).toBe(true);
        let sumIn = 0, sumOut = 0;
        r.map.data.forEach((v, p) => { if (inSquare(p)) sumIn += v; else sumOut += Math.abs(v); });
        expect(sumIn / 256).toBeGreaterThan(5 * (sumOut / (SIZE * SIZE - 256)));
        // The top segment lies mostly on the square.
        const labels = segmentImage(image.input, s).labels; // the segmentation is deterministic: recomputed here
        const top = argmax(r.native!.data);
        let inside = 0, total = 0;
        labels.forEach((l, p) => { if (l === top) { total++; if (inSquare(p)) inside++; } });
        expect(inside / total).toBeGreaterThan(0.5);
        // Nothing outside the square matters to this model: segments with no pixel on it get ~0.
        const touches = new Uint8Array(r.native!.width);
        labels.forEach((l, p) => { if (inSquare(p)) touches[l] = 1; });
        const max = Math.max(...r.native!.data);
        r.native!.data.forEach((v, i) => { if (!touches[i]) expect(Math.abs(v)).toBeLessThan(0.05 * max); });
      }
    });
  }

  it('KernelSHAP recovers the exact contributions of a linear model (sum = f(x) - f(baseline))', async () => {
    const ks = new KernelShap();
    const s = ks.settings({ samples: 200, segments: 16, segmentation: 'grid', baseline: 'black' });
    const r = await ks.explain(image, target, s, 1, { model: m });
    // Exact contribution of each grid cell: 10/255 * (sum of its in-square pixel brightness) / square area.
    const labels = segmentImage(image.input, s).labels;
    const plane = SIZE * SIZE;
    const exact = new Float64Array(16);
    const area = (SQ.x1 - SQ.x0) * (SQ.y1 - SQ.y0);
    labels.forEach((l, p) => {
      if (!inSquare(p)) return;
      const d = image.input.data;
      exact[l] += (10 / 255) * ((d[p] + d[plane + p] + d[2 * plane + p]) / 3) / area;
    });
    const values = r.extras.values as number[];
    values.forEach((v, i) => expect(v).toBeCloseTo(exact[i], 4));
    expect(r.extras.efficiencyGap as number).toBeLessThan(1e-9);
  });

  it('bad settings give clear errors', async () => {
    const lime = new Lime();
    expect(() => lime.settings({ samples: 0 })).toThrow(/samples must be a whole number between 3 and 100000 \(got 0\)/);
    expect(() => new KernelShap().settings({ samples: 0 })).toThrow(/samples/);
    expect(() => lime.settings({ segments: 0 })).toThrow(/segments must be a whole number between 1 and 1000/);
    expect(() => lime.settings({ kernelWidth: 0 })).toThrow(/lime: kernelWidth must be a number in \(0, Infinity\) \(got 0\)/);
    expect(() => lime.settings({ samplez: 10 } as never)).toThrow(/lime: unknown setting "samplez" \(known: samples, /);
    expect(() => new KernelShap().settings({ kernelWidth: 1 } as never)).toThrow(/kernelshap: unknown setting "kernelWidth"/);
    expect(() => lime.settings({ baseline: 'purple' as never })).toThrow(/baseline "purple" is not one of segment-mean, mean, black, gray, zero, blur/);
    expect(() => lime.settings({ segmentation: 'voronoi' as never })).toThrow(/segmentation "voronoi"/);
    // Segments are capped at 1000 (memory bound); more segments than pixels is refused by the segmentations
    // themselves (segment.test.ts), which this 64x64 image cannot reach under the cap.
    expect(() => lime.settings({ segments: 5000 })).toThrow(/segments must be a whole number between 1 and 1000 \(got 5000\)/);
    for (const classIndex of [2, -1, 0.5]) {
      await expect(new KernelShap().explain(image, { classIndex, score: 'logit' }, new KernelShap().settings({}), 1, { model: m }))
        .rejects.toThrow(new RegExp(`target class ${classIndex} is out of range: the model has classes 0\\.\\.1`));
    }
    expect(() => getExplainer('limey')).toThrow(/unknown explanation method "limey"; known methods: .*gradcam.*/);
    expect(() => getExplainer('toString')).toThrow(/unknown explanation method/);
    expect(EXPLAINER_NAMES).toEqual(expect.arrayContaining(['gradcam', 'lime', 'kernelshap']));
    expect(getExplainer('lime').name).toBe('lime');
  });

  it('reports progress: a partial map after 50 samples, then doubling up to every progressEvery, with a convergence estimate', async () => {
    const lime = new Lime();
    const seen: { fraction: number; note?: string; size: number }[] = [];
    const r = await lime.explain(image, target, lime.settings({ samples: 500, segments: 25, progressEvery: 100 }), 2, {
      model: m, onProgress: (p) => seen.push({ fraction: p.fraction, note: p.note, size: p.partial?.data.length ?? 0 }),
    });
    expect(seen.map((p) => p.fraction)).toEqual([0.1, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(seen.every((p) => p.size === SIZE * SIZE)).toBe(true);
    expect(seen[3].note).toMatch(/300\/500 samples; values changed \d+\.\d% since the previous fit/);
    const conv = r.extras.convergence as { samples: number; change: number | null }[];
    expect(conv.map((c) => c.samples)).toEqual([50, 100, 200, 300, 400, 500]);
    expect(conv[5].change!).toBeLessThan(conv[2].change!);
    expect(r.extras.r2 as number).toBeGreaterThan(0.9); // the model is linear in the segments
    expect(r.extras.localPrediction as number).toBeCloseTo(r.extras.prediction as number, 0);
  });

  it('can be cancelled mid-way', async () => {
    const ac = new AbortController();
    const lime = new Lime();
    const p = lime.explain(image, target, lime.settings({ samples: 2000, segments: 30 }), 77, {
      model: m, signal: ac.signal, onProgress: () => ac.abort(),
    });
    await expect(p).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});

describe('LIME\'s coalition sampler', () => {
  it('is prefix-stable, antithetic, and seed-dependent', () => {
    const a = sampleCoalitions(20, 50, 1);
    const b = sampleCoalitions(20, 10, 1);
    expect(b.map((r) => Array.from(r))).toEqual(a.slice(0, 10).map((r) => Array.from(r)));
    expect(Array.from(a[0])).toEqual(new Array(20).fill(1));
    expect(Array.from(a[1])).toEqual(new Array(20).fill(0));
    for (let i = 2; i + 1 < 50; i += 2) a[i].forEach((v, j) => expect(v + a[i + 1][j]).toBe(1));
    const c = sampleCoalitions(20, 50, 2);
    expect(c.slice(2).some((r, i) => r.some((v, j) => v !== a[i + 2][j]))).toBe(true);
  });
});

describe.skipIf(!HAS_DATA)('LIME and KernelSHAP on the real models', () => {
  const models: Classifier[] = [];
  afterAll(async () => { for (const m of models) await m.dispose(); });

  for (const name of ['squeezenet', 'mobilenet', 'shufflenet'] as const) {
    it(`KernelSHAP values sum to f(x) - f(baseline) within 1e-3 (${name})`, async () => {
      const m = await Classifier.load(model(MODELS[name]), { batchSize: 8 });
      models.push(m);
      const { prepared: img } = await prepareImageFile(sample('n01443537_goldfish.JPEG'), m);
      const out = await m.predict([img.input]);
      for (const score of ['logit', 'probability'] as const) {
        const target: Target = { classIndex: argmax(out.logits), score };
        const ks = new KernelShap();
        const r = await ks.explain(img, target, ks.settings({ samples: 120, segments: 20 }), 4, { model: m });
        const fx = r.extras.prediction as number;
        const fb = r.extras.baselinePrediction as number;
        expect(fx).toBe(score === 'logit' ? out.logits[target.classIndex] : out.probabilities[target.classIndex]);
        const sum = (r.extras.values as number[]).reduce((a, b) => a + b, 0);
        expect(Math.abs(sum - (fx - fb))).toBeLessThanOrEqual(1e-3 * Math.abs(fx - fb));
        expect(Math.abs(fx - fb)).toBeGreaterThan(0);
      }
    });
  }

  describe('sharing, determinism', () => {
    let m: Classifier;
    let img: PreparedImage;
    let target: Target;
    beforeAll(async () => {
      m = await Classifier.load(model(MODELS.squeezenet), { batchSize: 8 });
      models.push(m);
      img = (await prepareImageFile(sample('n01443537_goldfish.JPEG'), m)).prepared;
      target = { classIndex: 1, score: 'probability' };
    });
    const settings = { samples: 120, segments: 24 };
    const run = (name: string, seed: number, over: Partial<typeof settings> = {}): Promise<Explanation> => {
      const ex = getExplainer(name);
      return ex.explain(img, target, ex.settings({ ...settings, ...over }), seed, { model: m });
    };

    // Each method draws its own coalitions; the cache (keyed by the masked image's pixels) shares the ones they
    // have in common: KernelSHAP after LIME pays exactly for its coalitions LIME did not ask for.
    const key = (z: Uint8Array) => z.join('');
    const rowSets = (M: number, seed: number) => ({
      lime: new Set(sampleCoalitions(M, settings.samples, seed).map(key)),
      shap: new Set(kernelShapCoalitions(M, settings.samples, seed).rows.map(key)),
    });

    for (const segments of [24, 6]) {
      it(`LIME then KernelSHAP (${segments} segments): the second pays only for coalitions LIME did not evaluate`, async () => {
        const s = schedulerFor(m);
        s.clearCache();
        s.resetStats();
        const lime = await run('lime', 11, { segments });
        const afterLime = s.stats.evaluated;
        expect(afterLime).toBe(lime.extras.freshEvaluations);
        const M = lime.extras.segments as number;
        const rows = rowSets(M, 11);
        expect(afterLime).toBe(rows.lime.size);
        const shared = [...rows.shap].filter((k) => rows.lime.has(k)).length;
        const shap = await run('kernelshap', 11, { segments });
        expect(shap.extras.freshEvaluations).toBe(rows.shap.size - shared);
        expect(s.stats.evaluated).toBe(afterLime + rows.shap.size - shared);
        expect(lime.extras.prediction).toBe(shap.extras.prediction);
        expect(lime.extras.baselinePrediction).toBe(shap.extras.baselinePrediction);
        if (segments === 24) {
          expect(shared).toBeGreaterThanOrEqual(2); // all on, all off
          expect(shap.evaluations).toBe(settings.samples);
        } else {
          // few segments: KernelSHAP enumerates every coalition, most of which LIME's uniform rows already hit
          expect(shap.evaluations).toBe(2 ** M);
          expect(shared).toBeGreaterThan(rows.shap.size / 2);
        }
        // the same explanation again is free
        const again = await run('kernelshap', 11, { segments });
        expect(again.extras.freshEvaluations).toBe(0);
      });
    }

    it('run concurrently, they still share every evaluation they have in common', async () => {
      const s = schedulerFor(m);
      s.clearCache();
      s.resetStats();
      const [lime, shap] = await Promise.all([run('lime', 12), run('kernelshap', 12)]);
      const M = lime.extras.segments as number;
      const rows = rowSets(M, 12);
      const union = new Set([...rows.lime, ...rows.shap]).size;
      expect((lime.extras.freshEvaluations as number) + (shap.extras.freshEvaluations as number)).toBe(s.stats.evaluated);
      expect(s.stats.evaluated).toBe(union);
      expect(s.stats.requested).toBe(240);
    });

    it('same seed -> identical maps bit for bit (recomputed, not cached); different seed -> different samples', async () => {
      const s = schedulerFor(m);
      for (const name of ['lime', 'kernelshap']) {
        s.clearCache();
        const small = { samples: 60, segments: 16 };
        const a = await run(name, 21, small);
        s.clearCache();
        const b = await run(name, 21, small);
        expect(b.extras.freshEvaluations).toBeGreaterThan(0);
        expect(bits(a.map).equals(bits(b.map))).toBe(true);
        const c = await run(name, 22, small);
        expect(bits(a.map).equals(bits(c.map))).toBe(false);
      }
    });
  });
});
