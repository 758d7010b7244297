// Convergence measures and auto budgets: the sandwich standard errors match the spread of the estimates over
// repeated draws (regressions with known noise), and LIME, KernelSHAP and RISE with auto budgets stop at the
// stated precision (or at the cap), recording the rule, the evaluations and the final criterion.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { Random } from '../../src-main/engine/util/random.ts';
import { weightedRidge } from '../../src-main/engine/explain/perturb/regression.ts';
import { kernelShapCoalitions, prefixWeights, solveKernelShap } from '../../src-main/engine/explain/perturb/shapley-sampler.ts';
import {
  kernelShapStandardErrors, readAnytime, relativeSE, ridgeStandardErrors, topSetIoU,
} from '../../src-main/engine/explain/perturb/convergence.ts';
import { coalitionPairs, sampleCoalitions } from '../../src-main/engine/explain/perturb/coalitions.ts';
import { cosineDistanceToAllOn } from '../../src-main/engine/explain/perturb/lime.ts';
import { getExplainer } from '../../src-main/engine/explain/registry.ts';
import { LIME_AUTO_PRECISION } from '../../src-main/engine/explain/perturb/lime.ts';
import { KERNELSHAP_AUTO_PRECISION } from '../../src-main/engine/explain/perturb/kernelshap.ts';
import { schedulerFor } from '../../src-main/engine/infer/scheduler.ts';
import { nextCheckpoint } from '../../src-main/engine/explain/perturb/checkpoints.ts';
import type { PreparedImage } from '../../src-main/engine/explain/types.ts';
import type { PlanarImage, Target } from '../../src-main/engine/types.ts';
import { evidenceModelBytes, texturedImage, type Square } from '../explain-core/evidence-model.ts';
import { identityTransform } from '../helpers/prepared.ts';

const sd = (xs: number[]) => { const m = xs.reduce((a, b) => a + b, 0) / xs.length; return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)); };
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ownClusters = (n: number) => Int32Array.from({ length: n }, (_, k) => k);

/** A deterministic game with pairwise and three-way interactions: over seeds only the design varies, as in LIME
 *  and KernelSHAP on a model. */
function interactionGame(M: number, seed: number) {
  const rng = new Random(seed);
  const a = Array.from({ length: M }, () => rng.normal());
  const b = Array.from({ length: M * M }, () => rng.normal() * 0.5);
  const c = Array.from({ length: M }, () => rng.normal() * 0.5);
  return (z: Uint8Array) => {
    let s = 0;
    for (let i = 0; i < M; i++) {
      if (!z[i]) continue;
      s += a[i];
      for (let j = i + 1; j < M; j++) if (z[j]) s += b[i * M + j];
      if (z[(i + 1) % M] && z[(i + 2) % M]) s += c[i];
    }
    return s;
  };
}

/** Mean over coefficients of (mean reported SE) / (SD of the estimate over replications). */
function calibration(reps: number, M: number, one: (r: number) => { est: ArrayLike<number>; se: ArrayLike<number> }): number {
  const est: number[][] = Array.from({ length: M }, () => []);
  const ses: number[][] = Array.from({ length: M }, () => []);
  for (let r = 0; r < reps; r++) {
    const o = one(r);
    for (let j = 0; j < M; j++) { est[j].push(o.est[j]); ses[j].push(o.se[j]); }
  }
  return mean(est.map((e, j) => mean(ses[j]) / sd(e)));
}

describe('sandwich standard errors', () => {
  it('of a weighted ridge fit match the spread of the coefficients over 300 replications (heteroskedastic noise)', () => {
    const M = 6, n = 300, reps = 300;
    const beta = [1, -0.5, 0.25, 0, 2, -1];
    const coefs: number[][] = Array.from({ length: M }, () => []);
    const ses: number[][] = Array.from({ length: M }, () => []);
    for (let r = 0; r < reps; r++) {
      const rng = new Random(1000 + r);
      const X = Array.from({ length: n }, () => Uint8Array.from({ length: M }, () => (rng.next() < 0.5 ? 1 : 0)));
      const w = Array.from({ length: n }, () => 0.5 + rng.next());
      const y = X.map((x) => x.reduce((s, v, j) => s + v * beta[j], 0.3) + rng.normal() * (0.2 + 0.6 * x[0]));
      const fit = weightedRidge(X, y, w, 1e-6);
      const se = ridgeStandardErrors(X, y, w, 1e-6, fit, n, ownClusters(n))!; // i.i.d. rows: each its own cluster
      for (let j = 0; j < M; j++) { coefs[j].push(fit.coef[j]); ses[j].push(se[j]); }
    }
    for (let j = 0; j < M; j++) {
      const ratio = mean(ses[j]) / sd(coefs[j]);
      expect(ratio, `coefficient ${j}`).toBeGreaterThan(0.8);
      expect(ratio, `coefficient ${j}`).toBeLessThan(1.25);
    }
  });

  it('of KernelSHAP match the spread of the Shapley estimates over 200 seeds (noisy game)', () => {
    const M = 14;
    const phiTrue = Array.from({ length: M }, (_, j) => (j % 3) - 1 + j / M);
    const ratio = calibration(200, M, (r) => {
      const rng = new Random(5000 + r);
      const c = kernelShapCoalitions(M, 400, r);
      const y = Float64Array.from(c.rows, (z, k) => z.reduce((s, v, j) => s + v * phiTrue[j], 0) + (k < 2 ? 0 : rng.normal() * 0.5));
      const phi = solveKernelShap(c, y);
      return { est: phi, se: kernelShapStandardErrors(c.rows, y, prefixWeights(c, c.rows.length), phi, c.rows.length, c.cluster)! };
    });
    expect(ratio).toBeGreaterThan(0.75);
    expect(ratio).toBeLessThan(1.33);
  });

  // The rows come in complement pairs (LIME's antithetic pairs, KernelSHAP's paired sampling), whose even part
  // cancels: rows treated as independent (HC1) overstate the spread; the pair as the cluster (CR1) does not.
  it('of LIME on paired rows match the spread over 300 seeds only with the pairs as clusters', () => {
    const M = 12, n = 300;
    const v = interactionGame(M, 3);
    const run = (r: number, clusters: (n: number) => Int32Array) => {
      const Z = sampleCoalitions(M, n, r);
      const y = Z.map(v);
      const w = Z.map((z) => Math.exp(-(cosineDistanceToAllOn(z) ** 2) / 0.0625));
      const fit = weightedRidge(Z, y, w, 1);
      return { est: fit.coef, se: ridgeStandardErrors(Z, y, w, 1, fit, n, clusters(n))! };
    };
    const paired = calibration(300, M, (r) => run(r, coalitionPairs));
    const independent = calibration(300, M, (r) => run(r, ownClusters));
    console.log(`LIME standard errors / spread over 300 seeds (M = 12, 300 paired rows, interaction game): pairs as clusters ${paired.toFixed(3)}, rows as independent ${independent.toFixed(3)}`);
    expect(paired).toBeGreaterThan(0.8);
    expect(paired).toBeLessThan(1.25);
    expect(independent).toBeGreaterThan(paired + 0.1); // smaller than KernelSHAP's: a pair's two rows weigh differently
  });

  it('of KernelSHAP on paired coalitions match the spread over 200 seeds only with the pairs as clusters', () => {
    const M = 30, n = 400;
    const v = interactionGame(M, 4);
    const run = (r: number, leverage: boolean, own: boolean) => {
      const c = kernelShapCoalitions(M, n, r, leverage);
      const y = Float64Array.from(c.rows, v);
      const phi = solveKernelShap(c, y);
      return { est: phi, se: kernelShapStandardErrors(c.rows, y, prefixWeights(c, c.rows.length), phi, c.rows.length, own ? ownClusters(c.rows.length) : c.cluster)! };
    };
    const rows: string[] = [];
    for (const leverage of [false, true]) {
      const paired = calibration(200, M, (r) => run(r, leverage, false));
      const independent = calibration(200, M, (r) => run(r, leverage, true));
      rows.push(`${leverage ? 'leverage' : 'shap\'s sampler'}: pairs as clusters ${paired.toFixed(3)}, rows as independent ${independent.toFixed(3)}`);
      expect(paired).toBeGreaterThan(0.75);
      expect(paired).toBeLessThan(1.33);
      expect(independent).toBeGreaterThan(1.33);
    }
    console.log(`KernelSHAP standard errors / spread over 200 seeds (M = 30, 400 rows, interaction game): ${rows.join('; ')}`);
  });

  it('relative SE and top-k IoU', () => {
    expect(relativeSE([0.1, 0.1], [1, -1])).toBeCloseTo(0.1, 12);
    expect(relativeSE([0, 0], [1, 1])).toBe(0);
    expect(relativeSE([1, 0], [1, 1])).toBe(Infinity);
    expect(topSetIoU([5, 4, 3, 2, 1], [5, 4, 3, 2, 1], 2)).toBe(1);
    expect(topSetIoU([5, 4, 0, 0, 0], [0, 4, 5, 0, 0], 2)).toBeCloseTo(1 / 3, 12);
  });

  it('auto settings: samples=auto takes the default budget as the cap; precision alone is refused', () => {
    expect(readAnytime('lime', 'samples', { samples: 'auto' }, 0.5)).toMatchObject({ budget: undefined, anytime: { auto: true, precision: 0.5 } });
    expect(readAnytime('lime', 'samples', { samples: 300, auto: true, precision: 0.2 }, 0.5)).toMatchObject({ budget: 300, anytime: { auto: true, precision: 0.2 } });
    expect(readAnytime('lime', 'samples', { samples: 300 }, 0.5).anytime).toEqual({});
    expect(() => readAnytime('lime', 'samples', { precision: 0.2 }, 0.5)).toThrow('lime: precision applies only with samples=auto');
    expect(() => getExplainer('rise').settings({ masks: 'auto', precision: -1 } as never)).toThrow(/rise: precision/);
    expect(getExplainer('lime').settings({ samples: 'auto' } as never)).toMatchObject({ samples: 1000, auto: true });
    expect(getExplainer('lime').settings({})).not.toHaveProperty('auto'); // fixed budgets keep their settings as before
  });
});

describe('auto budgets on a model whose evidence is known', () => {
  const SIZE = 64;
  const SQ: Square = { x0: 40, y0: 8, x1: 56, y1: 24 };
  let m: Classifier;
  const input: PlanarImage = texturedImage(SIZE, 1);
  const image: PreparedImage = { id: 'anytime', input, transform: identityTransform(SIZE) };
  const target: Target = { classIndex: 0, score: 'logit' };
  beforeAll(async () => { m = await Classifier.load({ bytes: evidenceModelBytes(SIZE, SQ), name: 'evidence' }); });
  afterAll(async () => m?.dispose());

  for (const method of ['lime', 'kernelshap'] as const) {
    it(`${method} samples=auto stops once the weights are precise, and records the rule`, async () => {
      const ex = getExplainer(method);
      const notes: string[] = [];
      const e = await ex.explain(image, target, ex.settings({ samples: 'auto', segments: 16, segmentation: 'grid', progressEvery: 50 } as never), 3, {
        model: m, onProgress: (p) => { if (p.note) notes.push(p.note); },
      });
      const auto = e.extras.auto as { rule: string; evaluations: number; cap: number; finalRelativeSE: number; precision: number; stoppedEarly: boolean };
      // The model is linear in the segments: the fit is exact after the minimum, so the stop is at the first check past it.
      expect(auto.stoppedEarly).toBe(true);
      expect(e.evaluations).toBe(auto.evaluations);
      expect(e.evaluations).toBeLessThan(1000);
      expect(e.evaluations).toBeGreaterThanOrEqual(100);
      expect(auto.finalRelativeSE).toBeLessThanOrEqual(auto.precision);
      expect(auto.precision).toBe(method === 'lime' ? LIME_AUTO_PRECISION : KERNELSHAP_AUTO_PRECISION);
      expect(auto.rule).toMatch(new RegExp(`RMS standard error / SD of the segment weights <= ${auto.precision} .* at most 1000`));
      expect(notes.some((n) => /relative SE \d/.test(n))).toBe(true);
      const conv = e.extras.convergence as { samples: number; relativeSE: number | null; spearman: number | null; topKIoU: number | null }[];
      expect(conv.at(-1)!.samples).toBe(e.evaluations);
      expect(conv.at(-1)!.spearman).not.toBeNull();
      // The strongest segment is on the square, as with the full budget.
      const se = e.extras.standardErrors as number[];
      expect(se.length).toBe(16);
    });
  }

  it('rise masks=auto with an unreachable precision runs to its cap and says so', async () => {
    const ex = getExplainer('rise');
    const e = await ex.explain(image, target, ex.settings({ masks: 96, auto: true, precision: 1e-6, cells: 4, progressEvery: 32 } as never), 1, { model: m });
    const auto = e.extras.auto as { evaluations: number; cap: number; finalRelativeSE: number; stoppedEarly: boolean };
    expect(auto).toMatchObject({ evaluations: 96, cap: 96, stoppedEarly: false });
    expect(auto.finalRelativeSE).toBeGreaterThan(1e-6);
    const conv = e.extras.convergence as { masks: number; relativeSE: number }[];
    // Partial maps after one model batch, then doubling up to every progressEvery (checkpoints.ts), and the final map.
    const batch = schedulerFor(m).batchSize;
    const due: number[] = [];
    for (let c = nextCheckpoint(0, batch, 32); c < 96; c = nextCheckpoint(c, batch, 32)) due.push(c);
    expect(conv.map((c) => c.masks)).toEqual([...due, 96]);
    // More masks, smaller relative SE (the Monte Carlo error falls as 1/sqrt(N)).
    expect(conv.at(-1)!.relativeSE).toBeLessThan(conv.at(-3)!.relativeSE);
  });

  it('rise masks=auto with a loose precision stops early', async () => {
    const ex = getExplainer('rise');
    const e = await ex.explain(image, target, ex.settings({ masks: 2000, auto: true, precision: 0.9, cells: 4, progressEvery: 32 } as never), 1, { model: m });
    const auto = e.extras.auto as { evaluations: number; stoppedEarly: boolean; finalRelativeSE: number };
    expect(auto.stoppedEarly).toBe(true);
    expect(e.evaluations).toBeLessThan(2000);
    expect(e.evaluations).toBeGreaterThanOrEqual(250);
  });
});
