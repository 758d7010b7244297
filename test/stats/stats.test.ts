// Known answers for the statistics behind every comparison (src-main/engine/stats).
import { describe, expect, it } from 'vitest';
import {
  binomialTest, bootstrapMeanCI, comparePairs, holm, pairedBootstrapCI, rmsFrequency, signFlipPValue, summariseGroups, verdictText, wilson,
  type Observation,
} from '../../src-main/engine/stats/index.ts';
import { Random } from '../../src-main/engine/util/random.ts';

describe('holm', () => {
  it('matches R p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm")', () => {
    const got = holm([0.01, 0.04, 0.03, 0.005]);
    [0.03, 0.06, 0.06, 0.02].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 12));
  });
  it('caps at 1 and keeps monotone order', () => {
    expect(holm([0.5, 0.6, 0.01])).toEqual([1, 1, 0.03]);
    expect(holm([])).toEqual([]);
  });
});

describe('binomialTest and wilson', () => {
  it('exact values (scipy.stats.binomtest / R binom.test)', () => {
    expect(binomialTest(7, 10, 0.5)).toBeCloseTo(0.34375, 12);
    expect(binomialTest(7, 10, 0.5, 'greater')).toBeCloseTo(0.171875, 12);
    expect(binomialTest(2, 20, 1 / 3)).toBeCloseTo(0.030565923424870835, 10);
    expect(binomialTest(12, 30, 0.25)).toBeCloseTo(0.08810760577535248, 10);
    expect(binomialTest(12, 30, 0.25, 'greater')).toBeCloseTo(0.05065828005155163, 10);
    expect(binomialTest(0, 5, 0, 'two-sided')).toBe(1);
    expect(() => binomialTest(6, 5, 0.5)).toThrow(/0 <= k <= n/);
  });
  it('Wilson interval of 24/30 is [0.6269, 0.9049]', () => {
    const [lo, hi] = wilson(24, 30);
    expect(lo).toBeCloseTo(0.62694, 4);
    expect(hi).toBeCloseTo(0.90495, 4);
    expect(wilson(0, 0)).toEqual([0, 1]);
  });
});

describe('signFlipPValue', () => {
  it('exact enumeration for small n', () => {
    // Of the 8 sign assignments of [1, 2, 3], only +++ and --- reach |sum| >= 6.
    expect(signFlipPValue([1, 2, 3])).toBeCloseTo(0.25, 12);
    expect(signFlipPValue([1, -1])).toBe(1);
  });
  it('Monte Carlo for larger n: small for a clear shift, large for none, seeded', () => {
    const rng = new Random(3);
    const shifted = Array.from({ length: 40 }, () => 1 + rng.normal());
    const centred = Array.from({ length: 40 }, () => rng.normal());
    expect(signFlipPValue(shifted, { seed: 1 })).toBeLessThan(0.001);
    expect(signFlipPValue(centred, { seed: 1 })).toBeGreaterThan(0.05);
    expect(signFlipPValue(shifted, { seed: 1 })).toBe(signFlipPValue(shifted, { seed: 1 }));
  });
});

describe('bootstrapMeanCI', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const v = [0.1, 0.5, 0.3, 0.9, 0.2, 0.4];
    expect(bootstrapMeanCI(v, { seed: 7 })).toEqual(bootstrapMeanCI(v, { seed: 7 }));
    expect(bootstrapMeanCI(v, { seed: 7 }).lo).not.toBe(bootstrapMeanCI(v, { seed: 8 }).lo);
    expect(bootstrapMeanCI(v, { seed: 7 }).mean).toBeCloseTo(0.4, 12);
  });
  it('claims no interval from fewer than 2 values', () => {
    const r = bootstrapMeanCI([3]);
    expect(r).toMatchObject({ mean: 3, n: 1 });
    expect(r.lo).toBeNaN();
  });
  it('covers the true mean of a normal sample about 95% of the time', () => {
    const trials = 300;
    let covered = 0;
    for (let t = 0; t < trials; t++) {
      const rng = new Random(1000 + t);
      const v = Array.from({ length: 30 }, () => 5 + 2 * rng.normal());
      const ci = bootstrapMeanCI(v, { seed: t, resamples: 1000 });
      if (ci.lo <= 5 && 5 <= ci.hi) covered++;
    }
    // The percentile bootstrap undercovers slightly at n = 30 (~93-94%); 300 trials give +-2.5% noise.
    expect(covered / trials).toBeGreaterThan(0.89);
    expect(covered / trials).toBeLessThan(0.985);
  });
  it('pairs values: a constant shift gives a zero-width interval at the shift', () => {
    const a = [1, 5, 2, 8, 3];
    const r = pairedBootstrapCI(a, a.map((x) => x - 0.5));
    expect(r.mean).toBeCloseTo(0.5, 12);
    expect(r.lo).toBeCloseTo(0.5, 12);
    expect(r.hi).toBeCloseTo(0.5, 12);
    expect(() => pairedBootstrapCI([1], [1, 2])).toThrow(/equal lengths/);
  });
});

describe('verdictText', () => {
  it('names the winner only when the interval excludes zero and Holm p < 0.05', () => {
    expect(verdictText({ a: 'lime', b: 'rise', diff: 0.1, ci95: [0.05, 0.15], n: 30, pHolm: 0.002, higherIsBetter: true }))
      .toBe('lime better than rise (diff 0.100, 95% CI [0.050, 0.150], n = 30, Holm p = 0.002)');
    // Lower is better (deletion): a positive a - b means b wins; the numbers are restated as winner - loser.
    expect(verdictText({ a: 'lime', b: 'rise', diff: 0.1, ci95: [0.05, 0.15], n: 30, pHolm: 0.0001, higherIsBetter: false }))
      .toBe('rise better than lime (diff -0.100, 95% CI [-0.150, -0.050], n = 30, Holm p < 0.001)');
    expect(verdictText({ a: 'lime', b: 'rise', diff: 0.026, ci95: [-2.1, 2.3], n: 6, pHolm: 0.9, higherIsBetter: true })).toBe('no clear difference (n = 6)');
    expect(verdictText({ a: 'lime', b: 'rise', diff: 0.1, ci95: [0.05, 0.15], n: 30, pHolm: 0.09, higherIsBetter: true })).toBe('no clear difference (n = 30)');
  });
});

describe('summariseGroups and comparePairs', () => {
  const rng = new Random(11);
  const obs: Observation[] = [];
  for (let img = 0; img < 20; img++) {
    const base = rng.normal();
    const control = base + 0.5 + 0.1 * rng.normal();
    // strong beats weak clearly; twin is weak plus noise (no clear difference); the ensemble is strong + 0.01.
    const weak = base + 0.2 * rng.normal();
    const put = (group: string, value: number) => obs.push({ unit: img, group, metric: 'deletion', value, control, higherIsBetter: false });
    put('strong', base - 1 + 0.1 * rng.normal());
    put('weak', weak);
    put('twin', weak + 0.3 * rng.normal());
    put('ensemble:mean', base - 1.01 + 0.1 * rng.normal());
  }
  const summary = summariseGroups(obs, { seed: 1 });
  const pairs = comparePairs(obs, summary, { seed: 1 });
  it('ranks single methods and ensembles separately, with intervals and the paired control difference', () => {
    const s = summary.find((r) => r.group === 'strong')!;
    expect(s).toMatchObject({ kind: 'single', rank: 1, n: 20 });
    expect(s.ci95[0]).toBeLessThan(s.mean);
    expect(s.ci95[1]).toBeGreaterThan(s.mean);
    expect(s.vsControl!.better).toBe(true);
    expect(s.vsControl!.ci95[1]).toBeLessThan(0);
    expect(summary.find((r) => r.group === 'ensemble:mean')).toMatchObject({ kind: 'ensemble', rank: 1 });
  });
  it('compares singles pairwise, ensembles only with the best single method, with Holm within the metric', () => {
    expect(pairs.map((p) => `${p.a}/${p.b}/${p.kind}`)).toEqual(['strong/weak/single', 'strong/twin/single', 'weak/twin/single', 'ensemble:mean/strong/ensemble-vs-best-single']);
    expect(pairs[0].winner).toBe('strong');
    expect(pairs[0].verdict).toMatch(/^strong better than weak \(diff -1\.\d+, 95% CI/);
    expect(pairs[2].verdict).toBe('no clear difference (n = 20)');
    for (const p of pairs) expect(p.pHolm).toBeGreaterThanOrEqual(p.p);
  });
});

describe('rmsFrequency', () => {
  it('is ~f for a sinusoid of f cycles per image, 0 for a constant, and scale-free', () => {
    const w = 224;
    const wave = (f: number, scale = 1) => ({ width: w, height: w, data: Float32Array.from({ length: w * w }, (_, i) => scale * Math.sin((2 * Math.PI * f * (i % w)) / w) + 3) });
    expect(rmsFrequency(wave(4))).toBeCloseTo(4, 1);
    expect(rmsFrequency(wave(16))).toBeCloseTo(16, 0);
    expect(rmsFrequency(wave(16, 7))).toBeCloseTo(rmsFrequency(wave(16)), 4);
    expect(rmsFrequency({ width: 4, height: 4, data: new Float32Array(16).fill(2) })).toBe(0);
  });
});
