// issue 20 building blocks without a model: splits, simulated raters (known noisy preference -> the rating
// pipeline recovers it), stacking search, per-image signal weights.
import { describe, expect, it } from 'vitest';
import { checkSplit, kFolds, summarise, type CompareResult } from '../../src-main/engine/ensemble/compare.ts';
import { simulateRatings } from '../../src-main/engine/ensemble/weights/simulated-raters.ts';
import { weightsFromPairwise } from '../../src-main/engine/ensemble/weights/bradley-terry.ts';
import { weightsFromLikert } from '../../src-main/engine/ensemble/weights/likert.ts';
import { fitStacking } from '../../src-main/engine/ensemble/weights/stacking.ts';
import { mapEntropy, memberSignals, signalWeights } from '../../src-main/engine/ensemble/weights/signals.ts';

describe('ensemble-compare building blocks', () => {
  it('k folds test every image once and never train on it; overlapping splits are refused', () => {
    const images = Array.from({ length: 7 }, (_, i) => `img${i}`);
    const folds = kFolds(images, 3);
    expect(folds.flatMap((f) => f.test).sort()).toEqual(images);
    for (const f of folds) { checkSplit(f); expect(f.train.filter((t) => f.test.includes(t))).toEqual([]); }
    expect(() => checkSplit({ train: ['a', 'b'], test: ['b', 'c'] })).toThrow(/overlap \(b\)/);
    expect(() => kFolds(images, 1)).toThrow(/--folds/);
  });

  it('simulated raters: a known preference is recovered by Bradley-Terry and Likert; heavy noise gives near-uniform weights', () => {
    const quality = Array.from({ length: 20 }, (_, i) => ({ a: 0.6 + 0.01 * (i % 3), b: 0.4, c: 0.2 }));
    const clean = simulateRatings(quality, { raters: 5, noise: 0.3, seed: 1 });
    const bt = weightsFromPairwise(clean.pairwise).weights;
    expect(bt.a).toBeGreaterThan(bt.b);
    expect(bt.b).toBeGreaterThan(bt.c);
    const lk = weightsFromLikert(clean.likert).weights;
    expect(lk.a).toBeGreaterThan(lk.b);
    expect(lk.b).toBeGreaterThan(lk.c);
    const noisy = weightsFromPairwise(simulateRatings(quality, { raters: 5, noise: 50, seed: 1 }).pairwise).weights;
    for (const w of Object.values(noisy)) expect(Math.abs(w - 1 / 3)).toBeLessThan(0.08);
  });

  it('stacking moves weight toward the member the objective rewards, and records what it tried', async () => {
    const fit = await fitStacking(['x', 'y', 'z'], async (w) => w.y - 0.1 * w.z);
    expect(fit.weights.y).toBeGreaterThan(1 / 3);
    expect(fit.objective).toBeGreaterThan(fit.start);
    expect(fit.tried.length).toBe(1 + 3 * 2);
  });

  it('signal weights: the member that agrees with the others and is less diffuse gets more weight', () => {
    const n = 64;
    const peak = (c: number) => Float32Array.from({ length: n }, (_, i) => Math.exp(-((i - c) ** 2) / 20));
    const flat = new Float32Array(n).fill(0.5).map((v, i) => v + 0.01 * (i % 7));
    const stack = { width: 8, height: 8, methods: ['a', 'b', 'c'], maps: [peak(30), peak(32), flat], weights: [1 / 3, 1 / 3, 1 / 3] };
    expect(mapEntropy(flat)).toBeGreaterThan(mapEntropy(peak(30)));
    const w = signalWeights(memberSignals(stack), { agreement: 1, entropy: 1 });
    expect(w[2]).toBeLessThan(w[0]);
    expect(signalWeights(memberSignals(stack), { agreement: 0, entropy: 0 })).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });

  it('summarise: paired differences against the mean and the best member, Holm over all, images better counted', () => {
    const r: CompareResult = { splits: [], perImage: [], summary: [], comparisons: [], notes: [] };
    for (let i = 0; i < 12; i++) r.perImage.push({ image: `i${i}`, split: 0, gains: { mean: 0.5, w: 0.6 + 0.001 * i, 'member:a': 0.4 }, bestMember: 0.4, control: 0.1 });
    summarise(r, ['mean', 'w']);
    const wm = r.comparisons.find((c) => c.weighting === 'w' && c.against === 'mean')!;
    expect(wm.better).toBe(12);
    expect(wm.ci95[0]).toBeGreaterThan(0);
    expect(wm.winner).toBe('w');
    expect(r.comparisons).toHaveLength(3);
    expect(r.summary.find((s) => s.name === 'w')!.vsControl.diff).toBeCloseTo(0.5055, 6);
  });
});
