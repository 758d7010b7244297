// One pool of coalitions for LIME and KernelSHAP (sharedPool=true): a mixture of LIME's uniform pairs and pairs of
// leverage-score sizes, importance-weighted for each method. Checked: the pool's densities (the importance
// ratios average 1 under the pool, as they must), KernelSHAP's values on games with known Shapley values, LIME's
// weights against its population solution (every coalition enumerated), and that on a real model the second
// method costs only the rows the first did not score.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_DATA, MODELS, model, sample } from '../helpers/data.ts';
import { NO_CLOCK } from '../helpers/demo-image.ts';
import { SHARED_POOL_UNIFORM_SHARE, kernelCoalitionsOf, limePoolWeights, sharedCoalitionPool, subPool } from '../../src-main/engine/explain/perturb/shared-pool.ts';
import { remainingAgreementShare, spearmanBrown, spearmanOf, splitHalves } from '../../src-main/engine/explain/perturb/convergence.ts';
import { autoMinimum } from '../../src-main/engine/explain/perturb/anytime-segments.ts';
import { solveKernelShap } from '../../src-main/engine/explain/perturb/shapley-sampler.ts';
import { weightedRidge } from '../../src-main/engine/explain/perturb/regression.ts';
import { cosineDistanceToAllOn, LIME_POOL_AUTO_PRECISION } from '../../src-main/engine/explain/perturb/lime.ts';
import { KERNELSHAP_POOL_AUTO_PRECISION } from '../../src-main/engine/explain/perturb/kernelshap.ts';
import { getExplainer } from '../../src-main/engine/explain/registry.ts';
import { resolveSettings } from '../../src-main/engine/explain/check-settings.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../../src-main/engine/image/prepare.ts';
import { schedulerFor } from '../../src-main/engine/infer/scheduler.ts';
import { Random } from '../../src-main/engine/util/random.ts';
import { harsanyiGame } from '../helpers/harsanyi.ts';

const sizeOf = (z: Uint8Array) => z.reduce((a, b) => a + b, 0);
const mean = (xs: ArrayLike<number>, from = 0) => { let s = 0; for (let i = from; i < xs.length; i++) s += xs[i]; return s / (xs.length - from); };
const l2 = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2; return Math.sqrt(s); };

describe('the shared pool', () => {
  const M = 100;
  const pool = sharedCoalitionPool(M, 40_000, 3);

  it('is prefix-stable, pairs each row with its complement, and mixes the two proposals in the stated shares', () => {
    const short = sharedCoalitionPool(M, 501, 3);
    expect(short.rows.length).toBe(501);
    for (let i = 0; i < 501; i++) expect(short.rows[i]).toEqual(pool.rows[i]);
    expect(sizeOf(pool.rows[0])).toBe(M);
    expect(sizeOf(pool.rows[1])).toBe(0);
    for (let i = 2; i + 1 < pool.rows.length; i += 2) expect(sizeOf(pool.rows[i]) + sizeOf(pool.rows[i + 1])).toBe(M);
    // sizes 1 and 99: uniform rows never, the leverage pairs 2 of their 99 equally likely sizes
    let extreme = 0;
    for (let i = 2; i < pool.rows.length; i++) { const k = sizeOf(pool.rows[i]); if (k === 1 || k === M - 1) extreme++; }
    const expected = (1 - SHARED_POOL_UNIFORM_SHARE) * 2 / (M - 1);
    const se = Math.sqrt(expected * (1 - expected) / (pool.rows.length / 2)); // pairs are the independent draws
    expect(Math.abs(extreme / (pool.rows.length - 2) - expected)).toBeLessThan(4 * se);
  });

  it('importance ratios are the densities\' ratios by size, and the sizes fall as the mixture says', () => {
    // the mixture's share of rows of size k: uniform coalitions, or sizes 1..M-1 equally likely (leverage); the
    // Shapley kernel's share computed here directly (unfolded)
    const lam = SHARED_POOL_UNIFORM_SHARE;
    const logC = (k: number) => { let s = 0; for (let i = 1; i <= k; i++) s += Math.log(M - k + i) - Math.log(i); return s; };
    let norm = 0;
    for (let k = 1; k < M; k++) norm += 1 / (k * (M - k));
    const uniformShare = (k: number) => Math.exp(logC(k) - M * Math.LN2);
    const kernelShare = (k: number) => 1 / (k * (M - k)) / norm;
    const share = (k: number) => lam * uniformShare(k) + (1 - lam) / (M - 1);
    const counts = new Float64Array(M + 1);
    for (let i = 2; i < pool.rows.length; i++) {
      const k = sizeOf(pool.rows[i]);
      counts[k]++;
      if (k === 0 || k === M) continue;
      expect(pool.uniformRatio[i]).toBeCloseTo(uniformShare(k) / share(k), 9);
      expect(pool.kernelRatio[i]).toBeCloseTo(kernelShare(k) / share(k), 9);
    }
    // size bands (pairs are the independent draws, so the SE uses half the rows)
    const rows = pool.rows.length - 2;
    for (const [lo, hi] of [[1, 1], [2, 10], [11, 30], [31, 39], [40, 49], [50, 50]]) {
      let expected = 0, seen = 0;
      for (let k = lo; k <= hi; k++) for (const kk of new Set([k, M - k])) { expected += share(kk); seen += counts[kk]; }
      const se = Math.sqrt(expected * (1 - expected) / (rows / 2));
      expect(Math.abs(seen / rows - expected), `sizes ${lo}-${hi} and their complements`).toBeLessThan(4 * se);
    }
    // E_q[p / q] = 1 for any density p the pool covers
    const u = mean(pool.uniformRatio, 2);
    const k = mean(pool.kernelRatio, 2);
    console.log(`shared pool, M = 100, 40,000 rows: mean uniform ratio ${u.toFixed(3)}, mean kernel ratio ${k.toFixed(3)}`);
    expect(Math.abs(u - 1)).toBeLessThan(0.03);
    expect(Math.abs(k - 1)).toBeLessThan(0.03);
    const w = limePoolWeights(pool, new Float64Array(pool.rows.length).fill(1), 1000);
    expect(mean(w, 2)).toBeCloseTo(1, 10); // self-normalised over the prefix
  });
});

describe('KernelSHAP on the shared pool', () => {
  it('is exact on an additive game and converges to the Shapley values of a Harsanyi game', () => {
    const rng = new Random(2);
    const a = Float64Array.from({ length: 100 }, () => rng.normal());
    const add = (z: Uint8Array) => z.reduce((s, zi, i) => s + zi * a[i], 0);
    const c = kernelCoalitionsOf(sharedCoalitionPool(100, 1000, 4));
    expect(l2(solveKernelShap(c, Float64Array.from(c.rows, add)), a)).toBeLessThan(1e-6);
    const g = harsanyiGame(100, 3, 200, 4);
    const err = (n: number) => [1, 2, 3, 4, 5].reduce((s, seed) => {
      const k = kernelCoalitionsOf(sharedCoalitionPool(100, n, seed));
      return s + l2(solveKernelShap(k, Float64Array.from(k.rows, g.v)), g.exact);
    }, 0) / 5;
    const [e1, e8] = [err(1000), err(8000)];
    console.log(`KernelSHAP on the shared pool, Harsanyi game (M = 100, 200 interactions of 2-4 players): mean L2 error ${e1.toFixed(3)} at 1,000 rows, ${e8.toFixed(3)} at 8,000 (5 seeds)`);
    expect(e8).toBeLessThan(0.55 * e1); // ~1/sqrt(8) = 0.35 for an unbiased estimator
  }, 300_000);
});

describe('LIME on the shared pool', () => {
  // M = 10: LIME's population solution is its weighted least squares over all 1,024 coalitions, each weighing
  // its LIME kernel (the uniform distribution puts the same mass on each).
  const M = 10;
  const v = (z: Uint8Array) => 1 / (1 + Math.exp(-(2 * z[0] + 1.5 * z[1] * z[2] - z[3] + z[4] * z[5] * z[6] - 2.5)));
  const kernel = (z: Uint8Array) => Math.exp(-(cosineDistanceToAllOn(z) ** 2) / 0.0625);
  const all = Array.from({ length: 1 << M }, (_, i) => Uint8Array.from({ length: M }, (_, j) => (i >> j) & 1));
  const population = weightedRidge(all, all.map(v), all.map(kernel), 0).coef;

  it('converges to LIME\'s population weights; without the importance ratios it would not', () => {
    const n = 40_000;
    const pool = sharedCoalitionPool(M, n, 7);
    const y = pool.rows.map(v);
    const k = pool.rows.map(kernel);
    const fit = weightedRidge(pool.rows, y, limePoolWeights(pool, k, n), 0, n).coef;
    const naive = weightedRidge(pool.rows, y, k, 0, n).coef; // the pool's rows taken as if uniform
    const range = Math.max(...population) - Math.min(...population);
    console.log(`LIME on the shared pool, M = 10, 40,000 rows: max |weight - population| ${(Math.max(...fit.map((x, i) => Math.abs(x - population[i]))) / range).toFixed(4)} of the range; without importance weights ${(Math.max(...naive.map((x, i) => Math.abs(x - population[i]))) / range).toFixed(4)}`);
    for (let i = 0; i < M; i++) expect(Math.abs(fit[i] - population[i])).toBeLessThan(0.015 * range);
    expect(Math.max(...naive.map((x, i) => Math.abs(x - population[i])))).toBeGreaterThan(0.03 * range);
  });
});

describe('the split-half criterion (the pool\'s auto stop)', () => {
  it('splits anchors + pairs into two disjoint halves of whole pairs, each with both anchors', () => {
    const [a, b] = splitHalves(11); // 2 anchors, 4 pairs, an unpaired last row
    expect(a).toEqual([0, 1, 2, 3, 6, 7]);
    expect(b).toEqual([0, 1, 4, 5, 8, 9]);
    expect(spearmanBrown(0.5)).toBeCloseTo(2 / 3, 12);
    expect(spearmanBrown(-0.2)).toBe(-0.2);
  });

  it('predicts the seed-to-seed Spearman of KernelSHAP on the pool from one seed\'s rows (Harsanyi game, M = 100)', () => {
    // measured: Spearman between seeds s and s + 100 at n rows; predicted: Spearman-Brown of seed s's two halves.
    // Below ~5 rows per player a half's fit is far noisier than the 1/n scaling assumes: the prediction is then
    // too low (the rule stops later, never earlier), so the check is at 1,000 and 2,000 rows.
    const g = harsanyiGame(100, 3, 200, 4);
    const fit = (p: ReturnType<typeof sharedCoalitionPool>) => solveKernelShap(kernelCoalitionsOf(p), p.rows.map(g.v));
    const seen: Record<number, { predicted: number; measured: number }> = {};
    for (const n of [1000, 2000]) {
      let predicted = 0, measured = 0, raw = 0;
      for (let s = 1; s <= 8; s++) {
        const p = sharedCoalitionPool(100, n, s);
        const [a, b] = splitHalves(n);
        const r = spearmanOf(fit(subPool(p, a)), fit(subPool(p, b)));
        raw += r / 8;
        predicted += spearmanBrown(r) / 8;
        measured += spearmanOf(fit(p), fit(sharedCoalitionPool(100, n, s + 100))) / 8;
      }
      seen[n] = { predicted, measured };
      console.log(`split half, KernelSHAP on the pool, Harsanyi game, ${n} rows, 8 seeds: predicted ${predicted.toFixed(3)}, measured ${measured.toFixed(3)} (the halves' own Spearman ${raw.toFixed(3)})`);
      expect(Math.abs(predicted - measured)).toBeLessThan(0.03);
      expect(measured - raw).toBeGreaterThan(0.04); // the halves alone understate it: the extrapolation matters
    }
    // the relative stop's premise: the same formula carries the prediction at 1,000 rows on to 2,000 (the cap), so
    // the share the rows from 1,000 to 2,000 add is predicted at 1,000 (remainingAgreementShare)
    const rho = seen[1000].predicted;
    const atCap = (2 * rho) / (1 + rho);
    const share = remainingAgreementShare(rho, 1000, 2000)!;
    const measuredShare = (seen[2000].measured - seen[1000].measured) / seen[2000].measured;
    console.log(`relative stop, Harsanyi game: at 1,000 rows predicted Spearman at 2,000 ${atCap.toFixed(3)} (measured ${seen[2000].measured.toFixed(3)}), share still to gain predicted ${share.toFixed(3)}, measured ${measuredShare.toFixed(3)}`);
    expect(Math.abs(atCap - seen[2000].measured)).toBeLessThan(0.03);
    expect(Math.abs(share - measuredShare)).toBeLessThan(0.03);
  }, NO_CLOCK);

  it('the relative stop: the share of the cap\'s predicted agreement the remaining rows would add', () => {
    // written out from the generalised Spearman-Brown formula rho_N = k rho / (1 + (k - 1) rho), k = N / n
    for (const [rho, n, cap] of [[0.5, 500, 2000], [0.8, 1200, 2000], [0.3, 100, 1000], [0.95, 1900, 2000]]) {
      const k = cap / n;
      const rhoCap = (k * rho) / (1 + (k - 1) * rho);
      expect(remainingAgreementShare(rho, n, cap)).toBeCloseTo((rhoCap - rho) / rhoCap, 12);
    }
    expect(remainingAgreementShare(0.7, 2000, 2000)).toBe(0); // at the cap nothing is left to gain
    expect(remainingAgreementShare(1, 400, 2000)).toBe(0);
    // no prediction, or none the model can carry (rho <= 0): no stop
    expect(remainingAgreementShare(null, 400, 2000)).toBeNull();
    expect(remainingAgreementShare(0, 400, 2000)).toBeNull();
    expect(remainingAgreementShare(-0.1, 400, 2000)).toBeNull();
  });
});

describe('sharedPool setting', () => {
  it('is an opt-in switch of both methods with its own auto precision, exclusive with leverage', () => {
    for (const [name, precision] of [['lime', LIME_POOL_AUTO_PRECISION], ['kernelshap', KERNELSHAP_POOL_AUTO_PRECISION]] as const) {
      const ex = getExplainer(name);
      expect(ex.settings({})).not.toHaveProperty('sharedPool');
      expect(resolveSettings(ex, { sharedPool: false })).not.toHaveProperty('sharedPool');
      expect(ex.settings({ samples: 'auto', sharedPool: true } as never)).toMatchObject({ auto: true, sharedPool: true, precision });
      expect(() => ex.settings({ sharedPool: 'yes' } as never)).toThrow(`${name}: sharedPool must be true or false (got yes)`);
    }
    expect(() => getExplainer('kernelshap').settings({ sharedPool: true, leverage: true } as never)).toThrow('kernelshap: leverage and sharedPool are alternative samplers; set one');
  });
});

describe.skipIf(!HAS_DATA)('LIME and KernelSHAP sharing the pool on SqueezeNet', () => {
  let m: Classifier;
  beforeAll(async () => { m = await Classifier.load(model(MODELS.squeezenet), { batchSize: 8 }); });
  afterAll(async () => m?.dispose());

  it('the second method pays only for the rows past the first one\'s prefix, and the maps are deterministic', async () => {
    const img = (await prepareImageFile(sample('n01443537_goldfish.JPEG'), m)).prepared;
    const target = { classIndex: 1, score: 'probability' as const };
    const run = (name: string, samples: number) => {
      const ex = getExplainer(name);
      return ex.explain(img, target, ex.settings({ samples, segments: 40, sharedPool: true } as never), 5, { model: m });
    };
    const s = schedulerFor(m);
    s.clearCache();
    s.resetStats();
    const lime = await run('lime', 300);
    const M = lime.extras.segments as number;
    const key = (z: Uint8Array) => z.join('');
    const rows = sharedCoalitionPool(M, 400, 5).rows.map(key);
    expect(lime.extras.freshEvaluations).toBe(new Set(rows.slice(0, 300)).size);
    const shap = await run('kernelshap', 400);
    const before = new Set(rows.slice(0, 300));
    expect(shap.extras.freshEvaluations).toBe(new Set(rows.slice(300).filter((k) => !before.has(k))).size);
    expect(s.stats.evaluated).toBe(new Set(rows).size);
    expect(Math.abs((shap.extras.efficiencyGap as number))).toBeLessThan(1e-6);
    const again = await run('lime', 300);
    expect(again.extras.freshEvaluations).toBe(0);
    expect(Buffer.from(again.map.data.buffer).equals(Buffer.from(lime.map.data.buffer))).toBe(true);
  }, NO_CLOCK);

  it('samples=auto stops at the first check where the remaining agreement share reaches the precision', async () => {
    const img = (await prepareImageFile(sample('n01443537_goldfish.JPEG'), m)).prepared;
    const target = { classIndex: 1, score: 'probability' as const };
    for (const name of ['lime', 'kernelshap']) {
      const ex = getExplainer(name);
      const settings = ex.settings({ samples: 'auto', precision: 0.12, segments: 40, sharedPool: true } as never) as { progressEvery: number; samples: number };
      const e = await ex.explain(img, target, settings as never, 3, { model: m });
      const auto = e.extras.auto as { rule: string; evaluations: number; cap: number; stoppedEarly: boolean; finalRemainingShare: number; finalPredictedSpearman: number };
      const conv = e.extras.convergence as { samples: number; splitHalf: number | null }[];
      const minimum = autoMinimum(e.extras.segments as number, true);
      expect(auto.rule).toMatch(/^stop when the share of the cap's predicted seed-to-seed Spearman that the remaining rows would add/);
      expect(auto.cap).toBe(2000);
      expect(conv.every((c) => (c.samples < 100) === (c.splitHalf === null))).toBe(true);
      // the stop: the first check on the rule's grid whose criterion is within the precision, plus the chunk in
      // flight (progressEvery rows, as with the standard-error rule), or the cap
      // the criterion written out: (1 - rho)(1 - n / cap), rho the split-half prediction (no stop while rho <= 0)
      const criterion = (c: { samples: number; splitHalf: number | null }) => (c.splitHalf! > 0 ? (1 - c.splitHalf!) * (1 - c.samples / 2000) : Infinity);
      const first = conv.find((c) => c.samples >= minimum && c.samples % settings.progressEvery === 0 && criterion(c) <= 0.12);
      console.log(`${name} on the pool, samples=auto precision 0.12 (SqueezeNet, 40 segments): criterion met at ${first?.samples} rows, stopped at ${auto.evaluations}, final predicted seed-to-seed Spearman ${auto.finalPredictedSpearman.toFixed(3)}`);
      expect(first).toBeDefined(); // this image and precision stop early (the checks below need it)
      expect(auto.evaluations).toBe(Math.min(first!.samples + settings.progressEvery, 2000));
      expect(auto.stoppedEarly).toBe(auto.evaluations < 2000);
      expect(conv.filter((c) => c.samples >= minimum && c.samples < first!.samples && c.samples % settings.progressEvery === 0).every((c) => criterion(c) > 0.12)).toBe(true);
      expect(auto.finalPredictedSpearman).toBe(conv.at(-1)!.splitHalf);
      expect(auto.finalRemainingShare).toBeCloseTo(criterion(conv.at(-1)!), 12);
      // the map is the fixed-budget map at those rows (the pool is prefix-stable)
      const fixed = await ex.explain(img, target, ex.settings({ samples: auto.evaluations, segments: 40, sharedPool: true } as never), 3, { model: m });
      expect(Array.from(fixed.map.data)).toEqual(Array.from(e.map.data));
    }
  }, NO_CLOCK);
});
