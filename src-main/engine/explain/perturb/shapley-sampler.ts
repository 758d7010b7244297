// KernelSHAP's own coalition sampler and solver, as shap's KernelExplainer does it (shap/explainers/_kernel.py),
// usable on any value function v(z) over M players (a model behind masked images, or a game in a test):
// - the budget is shap's nsamples = samples - 2 (our `samples` also counts the all-on and all-off rows, which
//   are the efficiency constraint's anchors f(x) and f(baseline), not regression rows); for M <= 30 it is capped
//   at 2^M - 2, every proper coalition;
// - the kernel's mass per size s, (M-1)/(s(M-s)), is folded onto sizes 1..ceil((M-1)/2) (a size and its
//   complement M-s together, except the unpaired middle size);
// - complete sizes are enumerated, smallest first, while budget * remaining mass of the size >= its number of
//   coalitions (shap's rule; each enumerated coalition weighs mass(s) / C(M,s), halved for paired sizes);
// - the rest of the budget is drawn by the remaining sizes' kernel mass, a uniform coalition of the drawn size
//   plus its complement (paired sampling); a coalition drawn again adds 1 to its weight instead of a row; the
//   sampled rows' weights are then scaled to the kernel mass left after enumeration;
// - phi solves the kernel-weighted least squares under sum(phi) = v(all) - v(none), exactly (shap eliminates
//   one variable; the KKT system in regression.ts gives the same solution).
// leverage=true (opt-in; a deviation from shap's sampler, same estimand): the sizes are drawn uniformly instead
// of by the kernel's mass — the leverage scores of the Shapley regression (Musco & Witter, "Provably Accurate
// Shapley Value Estimation via Leverage Score Sampling", ICLR 2025) — and each sampled row is weighted by kernel
// mass / proposal (importance weights, self-normalised to the mass left as shap's counts are). Enumeration uses
// the same rule on the proposal. With 100 players shap's sampler puts 19.5% of its rows on sizes 1 and 99, leverage 2%.
// Deviation: shap's l1_reg='auto' feature selection (LassoLarsIC when < 20% of coalitions are evaluated) is
// not applied: every player keeps a value (shap with l1_reg=False).
import { Random } from '../../util/random.ts';
import { constrainedWeightedLeastSquares } from './regression.ts';

export interface KernelCoalitions {
  /** Row 0 = all on, row 1 = all off, then the enumerated coalitions, then the sampled ones. */
  rows: Uint8Array[];
  /** Kernel weight of each row (0 for the two anchors). */
  weights: Float64Array;
  /** How many complete subset sizes (with their complements) were enumerated (shap's num_full_subsets). */
  fullSizes: number;
  /** Rows before the sampled part (anchors + enumerated). */
  fixedRows: number;
  /** Kernel mass the sampled rows carry in total (shap's weight_left). */
  sampledMass: number;
  /** Each row's cluster for the standard errors: a coalition and its complement drawn (or enumerated) with it share one. */
  cluster: Int32Array;
}

/** log C(n, k). */
export function logChoose(n: number, k: number): number {
  k = Math.min(k, n - k);
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/**
 * shap's weight_vector: the Shapley kernel's mass on coalition size s = 1..ceil((M-1)/2), each paired size
 * together with its complement size M-s, normalised to sum 1 (index s-1).
 */
export function kernelSizeMass(M: number): Float64Array {
  const sizes = Math.ceil((M - 1) / 2);
  const paired = Math.floor((M - 1) / 2);
  const w = new Float64Array(sizes);
  for (let s = 1; s <= sizes; s++) w[s - 1] = ((M - 1) / (s * (M - s))) * (s <= paired ? 2 : 1);
  let sum = 0;
  for (const v of w) sum += v;
  for (let i = 0; i < sizes; i++) w[i] /= sum;
  return w;
}

/** Calls fn with every subset of {0..M-1} of size k as a 0/1 row (lexicographic, like itertools.combinations). */
function forEachSubset(M: number, k: number, fn: (z: Uint8Array) => void): void {
  const idx = Array.from({ length: k }, (_, i) => i);
  for (;;) {
    const z = new Uint8Array(M);
    for (const i of idx) z[i] = 1;
    fn(z);
    let i = k - 1;
    while (i >= 0 && idx[i] === M - k + i) i--;
    if (i < 0) return;
    idx[i]++;
    for (let j = i + 1; j < k; j++) idx[j] = idx[j - 1] + 1;
  }
}

/** A uniform coalition of size s: the first s of a random permutation, shuffled in place in `perm` (0..M-1). */
export function randomSubset(rng: Random, perm: number[], s: number): Uint8Array {
  const M = perm.length;
  for (let i = 0; i < s; i++) {
    const j = i + rng.int(M - i);
    const t = perm[i]; perm[i] = perm[j]; perm[j] = t;
  }
  const z = new Uint8Array(M);
  for (let i = 0; i < s; i++) z[perm[i]] = 1;
  return z;
}

const complement = (z: Uint8Array) => z.map((v) => 1 - v);
const keyOf = (z: Uint8Array) => Buffer.from(z.buffer, z.byteOffset, z.byteLength).toString('latin1');

/** The share of sampled rows each folded size gets: the kernel's mass (shap) or uniform over sizes 1..M-1
 *  (leverage: a paired size stands for two sizes). */
export function proposalMass(M: number, leverage: boolean): Float64Array {
  const mass = kernelSizeMass(M);
  if (!leverage) return mass;
  const paired = Math.floor((M - 1) / 2);
  const q = Float64Array.from(mass, (_, i) => (i + 1 <= paired ? 2 : 1));
  const sum = q.reduce((a, b) => a + b, 0);
  return q.map((v) => v / sum);
}

/** shap's coalitions for M players and a budget of `samples` rows including the all-on and all-off anchors
 *  (with `leverage`, sizes drawn by leverage scores instead of kernel mass; header). */
export function kernelShapCoalitions(M: number, samples: number, seed: number, leverage = false): KernelCoalitions {
  const rows: Uint8Array[] = [new Uint8Array(M).fill(1), new Uint8Array(M)];
  const w: number[] = [0, 0];
  const cluster: number[] = [0, 0];
  let clusters = 1;
  let budget = Math.max(0, samples - 2);
  if (M <= 30) budget = Math.min(budget, 2 ** M - 2);
  const sizes = Math.ceil((M - 1) / 2);
  const paired = Math.floor((M - 1) / 2);
  const mass = kernelSizeMass(M);
  const proposal = proposalMass(M, leverage);

  // Enumerate complete sizes while the budget covers them (by the proposal's share of the rows left).
  let full = 0;
  let left = budget;
  const remaining = Float64Array.from(proposal);
  for (let s = 1; s <= sizes; s++) {
    const count = Math.exp(logChoose(M, s)) * (s <= paired ? 2 : 1);
    if (left * remaining[s - 1] / count < 1 - 1e-8) break;
    full++;
    left -= Math.round(count);
    const rest = 1 - remaining[s - 1];
    if (rest > 0) for (let i = 0; i < sizes; i++) remaining[i] /= rest;
    const wk = mass[s - 1] / Math.exp(logChoose(M, s)) / (s <= paired ? 2 : 1);
    forEachSubset(M, s, (z) => {
      rows.push(z);
      w.push(wk);
      cluster.push(clusters);
      if (s <= paired) { rows.push(complement(z)); w.push(wk); cluster.push(clusters); }
      clusters++;
    });
  }
  const fixedRows = rows.length;

  // Sample the remaining sizes by their kernel mass (per drawn pair for paired sizes).
  let sampledMass = 0;
  if (full < sizes) {
    for (let i = full; i < sizes; i++) sampledMass += mass[i];
    // Per draw (a paired size draws a row and its complement): the proposal's row share / rows per draw; each
    // row then weighs kernel mass / proposal (1 for shap's sampler, whose proposal is the kernel's mass).
    const p = Float64Array.from(proposal.subarray(full), (v, i) => (i + full < paired ? v / 2 : v));
    const rowWeight = Float64Array.from(mass.subarray(full), (v, i) => v / proposal[i + full]);
    const cdf = new Float64Array(p.length);
    let acc = 0;
    for (let i = 0; i < p.length; i++) { acc += p[i]; cdf[i] = acc; }
    const rng = Random.derive(seed, 'kernelshap-coalitions');
    const perm = Array.from({ length: M }, (_, i) => i);
    const seen = new Map<string, { at: number; comp: number }>(); // row of a drawn coalition and of its complement (-1: none)
    let toDraw = budget - (fixedRows - 2);
    // shap draws 4 x the samples left and stops when they run out (then fewer rows than the budget remain).
    for (let draws = 4 * toDraw; toDraw > 0 && draws > 0; draws--) {
      const u = rng.next() * acc;
      let k = 0;
      while (k < cdf.length - 1 && cdf[k] <= u) k++;
      const s = k + full + 1;
      const z = randomSubset(rng, perm, s);
      const key = keyOf(z);
      const old = seen.get(key);
      const rw = rowWeight[k];
      if (old) {
        w[old.at] += rw;
        if (old.comp >= 0) w[old.comp] += rw;
        continue;
      }
      const entry = { at: rows.length, comp: -1 };
      seen.set(key, entry);
      rows.push(z); w.push(rw); cluster.push(clusters); toDraw--;
      if (toDraw > 0 && s <= paired) { entry.comp = rows.length; rows.push(complement(z)); w.push(rw); cluster.push(clusters); toDraw--; }
      clusters++;
    }
    let sum = 0;
    for (let i = fixedRows; i < w.length; i++) sum += w[i];
    for (let i = fixedRows; i < w.length; i++) w[i] *= sampledMass / sum;
  }
  return { rows, weights: Float64Array.from(w), fullSizes: full, fixedRows, sampledMass, cluster: Int32Array.from(cluster) };
}

/**
 * Weights for a fit on the first n rows only (progressive maps): the sampled rows present are rescaled to
 * carry the whole sampled mass, as if the draw had stopped at n.
 */
export function prefixWeights(c: KernelCoalitions, n: number): Float64Array {
  const w = c.weights.slice(0, n);
  if (n <= c.fixedRows || c.sampledMass === 0) return w;
  let sum = 0;
  for (let i = c.fixedRows; i < n; i++) sum += w[i];
  for (let i = c.fixedRows; i < n; i++) w[i] *= c.sampledMass / sum;
  return w;
}

/** Shapley values from the first n rows' values y (y[0] = v(all), y[1] = v(none)), efficiency exact. */
export function solveKernelShap(c: KernelCoalitions, y: ArrayLike<number>, n = c.rows.length): Float64Array {
  return constrainedWeightedLeastSquares(c.rows, y, prefixWeights(c, n), y[1], y[0] - y[1], n);
}

/** KernelSHAP on a value function over M players without a model (games with known Shapley values). */
export function kernelShapGame(value: (z: Uint8Array) => number, M: number, samples: number, seed: number, leverage = false) {
  const c = kernelShapCoalitions(M, samples, seed, leverage);
  const y = Float64Array.from(c.rows, value);
  return { phi: solveKernelShap(c, y), evaluations: c.rows.length, coalitions: c };
}
