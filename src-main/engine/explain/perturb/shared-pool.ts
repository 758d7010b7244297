// One seeded pool of coalitions that LIME and KernelSHAP both use (opt-in `sharedPool=true` on each; a deviation
// from lime's and shap's samplers, the same estimands): each antithetic pair (z, 1-z) is, with probability
// SHARED_POOL_UNIFORM_SHARE, LIME's uniform pair, and otherwise a pair of the leverage-score size distribution
// (every size 1..M-1 equally likely, Musco & Witter 2025, as KernelSHAP's `leverage` sampler: a uniform coalition of
// that size and its complement). A row of size k then has the mixture density q(z) = lambda 2^-M + (1 - lambda)
// l(k) / C(M, k), l(k) = 1 / (M - 1), and each method weighs the rows by importance: LIME by its kernel times
// 2^-M / q (its rows are uniform), self-normalised to a mean of 1 so that its ridge penalty keeps its weight;
// KernelSHAP by the Shapley kernel's row density r(k) / C(M, k) over q, self-normalised to the sampled mass as
// shap's counts are (prefixWeights). With the same segments, baseline and seed both methods ask the scheduler for
// the same masked images, so the second is served from its cache: together they cost the longer of the two
// prefixes instead of the sum. Rows are prefix-stable, and a repeated coalition is a repeated row (its evaluation
// is cached). shap's enumeration of complete sizes is not done: with few segments (where shap enumerates every
// coalition) the plain samplers are better, and enumerating sizes 1 and M-1 first did not pay on the tuning
// images (README). Until the twelfth session the second proposal was the Shapley kernel's own size distribution
// (shap's folded mass) with a uniform share of 0.6: pools of that version differ from today's.
import { Random } from '../../util/random.ts';
import { PrefixCache } from '../../util/prefix-cache.ts';
import { kernelSizeMass, logChoose, proposalMass, randomSubset, type KernelCoalitions } from './shapley-sampler.ts';

/** The share of pairs drawn uniformly (LIME's) rather than by leverage-score sizes; chosen with that proposal on
 *  the tuning images (README, "One pool of coalitions for LIME and KernelSHAP"). */
export const SHARED_POOL_UNIFORM_SHARE = 0.5;
/** samples=auto's cap with the pool: the two methods' default budgets together (1,000 each), since the pool's
 *  evaluations serve both; an explicit samples value is the cap as usual. */
export const SHARED_POOL_AUTO_CAP = 2000;

/** The samples value to validate: with the pool and an auto budget and no samples given, SHARED_POOL_AUTO_CAP. */
export function poolCap(budget: unknown, sharedPool: unknown, anytime: { auto?: boolean }): number | undefined {
  return (budget ?? (sharedPool === true && anytime.auto === true ? SHARED_POOL_AUTO_CAP : undefined)) as number | undefined;
}

export interface SharedPool {
  /** Row 0 = all on, row 1 = all off, then antithetic pairs. */
  rows: Uint8Array[];
  /** 2^-M / q(z) for each row (1 for the anchors). */
  uniformRatio: Float64Array;
  /** r(k) / C(M, k) / q(z): the Shapley kernel over the pool's density, up to one constant (0 for the anchors). */
  kernelRatio: Float64Array;
}

const cache = new PrefixCache<SharedPool>(8, (pool) => pool.rows.length);

export function sharedCoalitionPool(M: number, samples: number, seed: number): SharedPool {
  const pool = cache.get(`${M}:${seed}`, samples, (n) => generate(M, n, seed));
  return { rows: pool.rows.slice(0, samples), uniformRatio: pool.uniformRatio.slice(0, samples), kernelRatio: pool.kernelRatio.slice(0, samples) };
}

function generate(M: number, n: number, seed: number): SharedPool {
  const lambda = M >= 2 ? SHARED_POOL_UNIFORM_SHARE : 1; // one segment: no proper coalition to propose
  const sizes = Math.ceil((M - 1) / 2);
  const paired = Math.floor((M - 1) / 2);
  const mass = M >= 2 ? kernelSizeMass(M) : new Float64Array(0);
  const proposal = M >= 2 ? proposalMass(M, true) : mass; // leverage: folded sizes, a paired size twice
  const cdf = new Float64Array(sizes);
  let acc = 0;
  for (let i = 0; i < sizes; i++) { acc += proposal[i]; cdf[i] = acc; }
  // log of a size distribution's row density m(k) / C(M, k): a paired size's mass is split over its two sizes
  const logDensity = (m: Float64Array, k: number) => {
    const s = Math.min(k, M - k);
    return Math.log(m[s - 1] / (s <= paired ? 2 : 1)) - logChoose(M, k);
  };
  // both importance ratios depend on a row's size only: one table each, by size. The anchors' sizes (0, M) come
  // only from uniform draws: LIME's ratio 1 / lambda, the kernel's 0.
  const logUniform = -M * Math.LN2;
  const uniformBySize = new Float64Array(M + 1).fill(1 / lambda);
  const kernelBySize = new Float64Array(M + 1);
  for (let k = 1; k < M; k++) {
    // ratios as 1 / (a e^x + b e^y), so that the tiny densities never meet in one exp
    const logK = logDensity(mass, k);
    const logP = logDensity(proposal, k);
    uniformBySize[k] = 1 / (lambda + (1 - lambda) * Math.exp(logP - logUniform));
    kernelBySize[k] = 1 / (lambda * Math.exp(logUniform - logK) + (1 - lambda) * Math.exp(logP - logK));
  }
  const rng = Random.derive(seed, 'shared-pool');
  const perm = Array.from({ length: M }, (_, i) => i);
  const rows: Uint8Array[] = [new Uint8Array(M).fill(1), new Uint8Array(M)];
  const uniformRatio: number[] = [1, 1];
  const kernelRatio: number[] = [0, 0];
  while (rows.length < n) {
    let z: Uint8Array;
    if (rng.next() < lambda) {
      z = new Uint8Array(M);
      for (let j = 0; j < M; j++) z[j] = rng.nextUint32() >>> 31;
    } else {
      const u = rng.next() * acc;
      let i = 0;
      while (i < sizes - 1 && cdf[i] <= u) i++;
      z = randomSubset(rng, perm, i + 1);
    }
    for (const row of [z, z.map((v) => 1 - v)]) {
      let k = 0;
      for (const v of row) k += v;
      rows.push(row);
      uniformRatio.push(uniformBySize[k]);
      kernelRatio.push(kernelBySize[k]);
    }
  }
  return { rows: rows.slice(0, n), uniformRatio: Float64Array.from(uniformRatio.slice(0, n)), kernelRatio: Float64Array.from(kernelRatio.slice(0, n)) };
}

/** LIME's weights for a fit on the first n rows: its kernel times the uniform ratio, the ratios of the sampled
 *  rows self-normalised to a mean of 1 over the prefix (the anchors keep LIME's weights). */
export function limePoolWeights(pool: SharedPool, kernel: ArrayLike<number>, n: number): Float64Array {
  let sum = 0;
  for (let i = 2; i < n; i++) sum += pool.uniformRatio[i];
  const scale = sum > 0 ? (n - 2) / sum : 0;
  return Float64Array.from({ length: n }, (_, i) => kernel[i] * (i < 2 ? 1 : pool.uniformRatio[i] * scale));
}

/** The given rows of a pool (anchors first): a half-sample for the split-half criterion (convergence.ts). */
export function subPool(pool: SharedPool, rows: number[]): SharedPool {
  return {
    rows: rows.map((i) => pool.rows[i]),
    uniformRatio: Float64Array.from(rows, (i) => pool.uniformRatio[i]),
    kernelRatio: Float64Array.from(rows, (i) => pool.kernelRatio[i]),
  };
}

/** The pool as KernelSHAP's coalitions: nothing enumerated, every row past the anchors sampled with the kernel's
 *  importance weight (prefixWeights normalises a prefix's to the sampled mass), clusters = the pairs. */
export function kernelCoalitionsOf(pool: SharedPool): KernelCoalitions {
  const n = pool.rows.length;
  return {
    rows: pool.rows, weights: pool.kernelRatio, fullSizes: 0, fixedRows: Math.min(2, n), sampledMass: n > 2 ? 1 : 0,
    cluster: Int32Array.from({ length: n }, (_, i) => i >> 1),
  };
}
