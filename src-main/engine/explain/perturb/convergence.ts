// Convergence measures of the sampling explainers' progressive estimates, and the stopping rule of their
// `auto` budgets (samples=auto / masks=auto / maxEvals=auto).
// - LIME and KernelSHAP: cluster-robust (sandwich, CR1) standard errors of the segment weights, a cluster being a
//   coalition and its complement drawn together (LIME's antithetic pairs, KernelSHAP's paired sampling):
//   Var(b) = B^-1 (sum_c g_c g_c') B^-1 with g_c = sum over the cluster's rows of w_k r_k x_k, B the (penalised /
//   KKT) normal matrix the fit solved and r_k the fit's residuals, scaled by G/(G-1) (n-1)/(n-df) (G clusters, n
//   rows, df = the fit's effective degrees of freedom: M - alpha tr(B^-1) + 1 for LIME's ridge, M - 1 for
//   KernelSHAP's constrained fit). Rows of a pair are not independent: the even part of f cancels within a pair,
//   so treating them as independent (HC1, used until the eighth session) overstated the spread over seeds by
//   1.1-2.3x on real images (README). Chosen over the bootstrap because it costs one matrix inverse per check
//   instead of one refit per resample.
// - RISE: the running per-pixel standard error of the Monte Carlo mean (the map is a mean over masks).
// - The scale-free criterion of both: relativeSE = RMS(standard errors) / SD(estimate across segments or
//   pixels), i.e. the noise relative to the spatial contrast the ranking depends on. A method stops when it is
//   <= `precision` (checked every progressEvery evaluations, after a minimum), or at the hard cap.
// - Rank stability between successive partial estimates (Spearman, top-k IoU) is reported alongside.
// - With the shared pool (shared-pool.ts) LIME and KernelSHAP stop on a split-half criterion instead: the rows so
//   far are split into two independent halves, each method is refitted on each, and the Spearman between the
//   halves' estimates, carried to the whole sample by Spearman-Brown, predicts the seed-to-seed Spearman rho_n the
//   issue's comparison measures. The same formula carries rho_n on to the cap N (signal plus noise falling as 1/n):
//   rho_N = k rho_n / (1 + (k - 1) rho_n), k = N / n, so the share of the cap's agreement that finishing the budget
//   would still add is (rho_N - rho_n) / rho_N = (1 - rho_n)(1 - n / N); stop when that is <= precision. Why
//   relative: the earlier rule (1 - rho_n <= precision, an absolute agreement) stopped early on images and models
//   whose attainable agreement was high and late where it was low, so its mean stop moved between image sets and
//   models and its stops lost agreement against a fixed budget of the same mean (README, "Why the stops fail");
//   a share of what the cap gives adapts to both. Why split-half at all: the importance-weighted sandwich SEs at a
//   few hundred rows were small by chance often enough that their stops did not carry over (README, "One pool of
//   coalitions"); the split-half agreement measures the target quantity itself.
import { SaliencyError } from '../../types.ts';
import { numberSetting, switchSetting } from '../check-settings.ts';
import { pearson, averageRanks } from '../../metrics/rank.ts';
import type { RidgeFit } from './regression.ts';
import { kktSystem } from './regression.ts';

/** Inverse of an n x n row-major matrix by Gauss-Jordan with partial pivoting. */
export function invert(A: Float64Array, n: number): Float64Array {
  const a = Float64Array.from(A);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r * n + col]) > Math.abs(a[piv * n + col])) piv = r;
    if (Math.abs(a[piv * n + col]) < 1e-300) throw new SaliencyError('the normal matrix is singular', 'SINGULAR');
    if (piv !== col) {
      for (let c = 0; c < n; c++) {
        let t = a[col * n + c]; a[col * n + c] = a[piv * n + c]; a[piv * n + c] = t;
        t = inv[col * n + c]; inv[col * n + c] = inv[piv * n + c]; inv[piv * n + c] = t;
      }
    }
    const d = 1 / a[col * n + col];
    for (let c = 0; c < n; c++) { a[col * n + c] *= d; inv[col * n + c] *= d; }
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = a[r * n + col];
      if (f === 0) continue;
      for (let c = 0; c < n; c++) { a[r * n + c] -= f * a[col * n + c]; inv[r * n + c] -= f * inv[col * n + c]; }
    }
  }
  return inv;
}

/** sqrt(diag(P S P)) for symmetric P (read as M x M from a D-wide row-major matrix) and S (M x M). */
function sandwichDiag(P: Float64Array, D: number, S: Float64Array, M: number, scale: number): Float64Array {
  const se = new Float64Array(M);
  const PS = new Float64Array(M);
  for (let j = 0; j < M; j++) {
    // (P S P)_jj = sum_a P_ja (S P)_aj = p_j' S p_j with p_j row j of P.
    PS.fill(0);
    for (let a = 0; a < M; a++) {
      const pa = P[j * D + a];
      if (pa === 0) continue;
      for (let b = 0; b < M; b++) PS[b] += pa * S[a * M + b];
    }
    let v = 0;
    for (let b = 0; b < M; b++) v += PS[b] * P[j * D + b];
    se[j] = Math.sqrt(Math.max(0, v * scale));
  }
  return se;
}

/** sum_c g_c g_c' with g_c = sum over cluster c's rows (w_k != 0) of w_k r_k x_k, x_k = row - centre (the
 *  sandwich's meat; rows with equal cluster ids are consecutive). `rows`: rows used; `clusters`: their clusters. */
function meat(X: Uint8Array[], w: ArrayLike<number>, r: (k: number) => number, n: number, centre: Float64Array | null, cluster: ArrayLike<number>): { S: Float64Array; rows: number; clusters: number } {
  const M = X[0].length;
  const S = new Float64Array(M * M);
  const g = new Float64Array(M);
  let rows = 0;
  let clusters = 0;
  let open = false;
  const flush = () => {
    if (!open) return;
    clusters++;
    for (let a = 0; a < M; a++) {
      const ga = g[a];
      if (ga === 0) continue;
      for (let b = a; b < M; b++) S[a * M + b] += ga * g[b];
    }
    g.fill(0);
    open = false;
  };
  for (let k = 0; k < n; k++) {
    if (k > 0 && cluster[k] !== cluster[k - 1]) flush();
    if (w[k] === 0) continue;
    rows++;
    open = true;
    const gk = w[k] * r(k);
    if (gk === 0) continue;
    const row = X[k];
    for (let j = 0; j < M; j++) g[j] += gk * (row[j] - (centre ? centre[j] : 0));
  }
  flush();
  for (let a = 0; a < M; a++) for (let b = 0; b < a; b++) S[a * M + b] = S[b * M + a];
  return { S, rows, clusters };
}

/** CR1's small-sample factor G/(G-1) (n-1)/(n-df), or null when the rows or clusters cannot carry df. */
function cr1Scale(rows: number, clusters: number, df: number): number | null {
  if (rows <= df + 1 || clusters < 2) return null;
  return (clusters / (clusters - 1)) * ((rows - 1) / (rows - df));
}

/** CR1 sandwich standard errors of LIME's weighted ridge coefficients (first n rows; `cluster`: each row's pair),
 *  or null when n <= df + 1. */
export function ridgeStandardErrors(X: Uint8Array[], y: ArrayLike<number>, w: ArrayLike<number>, alpha: number, fit: RidgeFit, n: number, cluster: ArrayLike<number>): Float64Array | null {
  const M = X[0].length;
  const H = invert(fit.gram, M);
  let trH = 0;
  for (let i = 0; i < M; i++) trH += H[i * M + i];
  const df = M - alpha * trH + 1; // + the intercept
  const resid = (k: number) => {
    let p = fit.intercept;
    const row = X[k];
    for (let j = 0; j < M; j++) if (row[j]) p += fit.coef[j];
    return y[k] - p;
  };
  const { S, rows, clusters } = meat(X, w, resid, n, fit.xMean, cluster);
  const scale = cr1Scale(rows, clusters, df);
  return scale === null ? null : sandwichDiag(H, M, S, M, scale);
}

/** CR1 sandwich standard errors of KernelSHAP's constrained fit (first n rows, weights w; `cluster`: each row's
 *  pair), or null when too few rows. */
export function kernelShapStandardErrors(Z: Uint8Array[], y: ArrayLike<number>, w: ArrayLike<number>, phi: ArrayLike<number>, n: number, cluster: ArrayLike<number>): Float64Array | null {
  const M = Z[0].length;
  const base = y[1];
  const { A } = kktSystem(Z, y, w, base, y[0] - y[1], n);
  const K = invert(A, M + 1); // the top-left M x M block maps Z'W(y - base) to phi
  const resid = (k: number) => {
    let p = base;
    const row = Z[k];
    for (let j = 0; j < M; j++) if (row[j]) p += phi[j];
    return y[k] - p;
  };
  const { S, rows, clusters } = meat(Z, w, resid, n, null, cluster);
  const scale = cr1Scale(rows, clusters, M - 1);
  return scale === null ? null : sandwichDiag(K, M + 1, S, M, scale);
}

/** RMS of the standard errors over the SD of the estimate across its entries (Infinity for a flat estimate). */
export function relativeSE(se: ArrayLike<number>, values: ArrayLike<number>): number {
  const n = values.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += values[i];
  m /= n;
  let v = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) { v += (values[i] - m) ** 2; s2 += se[i] ** 2; }
  if (!(v > 0)) return s2 > 0 ? Infinity : 0;
  return Math.sqrt(s2 / v);
}

/** Intersection over union of the k largest entries of two vectors (ties by index). */
export function topSetIoU(a: ArrayLike<number>, b: ArrayLike<number>, k: number): number {
  const top = (v: ArrayLike<number>) => new Set(Array.from({ length: v.length }, (_, i) => i).sort((x, y) => v[y] - v[x] || x - y).slice(0, k));
  const A = top(a);
  let inter = 0;
  for (const i of top(b)) if (A.has(i)) inter++;
  return inter / (2 * k - inter);
}

/** Spearman correlation of two equal-length vectors (ties averaged). */
export function spearmanOf(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return pearson(averageRanks(a), averageRanks(b));
}

// ---- split-half agreement (the shared pool's stopping criterion) ----

/**
 * The two halves of the first n rows of a design of two anchors (rows 0 and 1, in both halves) followed by
 * independent antithetic pairs (rows 2j+2, 2j+3): pairs alternate between the halves, so each half is the same
 * design at half the rows, independent of the other. An unpaired last row is left out.
 */
export function splitHalves(n: number): [number[], number[]] {
  const a = [0, 1].filter((i) => i < n);
  const b = [...a];
  for (let j = 0; 2 * j + 3 < n; j++) (j % 2 === 0 ? a : b).push(2 * j + 2, 2 * j + 3);
  return [a, b];
}

/**
 * Seed-to-seed Spearman predicted at n rows from the Spearman r of two independent fits on n/2 rows each:
 * the Spearman-Brown formula 2r / (1 + r) (noise variance halves when the rows double; exact for Pearson's r of
 * signal plus independent noise, applied to ranks here). r <= 0 is returned as is.
 */
export function spearmanBrown(r: number): number {
  return r > 0 ? (2 * r) / (1 + r) : r;
}

/**
 * The shared pool's stopping criterion: the share of the agreement at the cap that the rows from n to the cap would
 * still add, (1 - rho)(1 - n / cap), with rho the split-half predicted seed-to-seed Spearman at n rows (see the
 * header). Null (no stop) while rho is unknown or <= 0, where the Spearman-Brown model says nothing.
 */
export function remainingAgreementShare(rho: number | null, n: number, cap: number): number | null {
  if (rho === null || !(rho > 0)) return null;
  return (1 - Math.min(1, rho)) * Math.max(0, 1 - n / cap);
}

/** One progressive check: how precise the estimate is and how much its ranking still moves. */
export interface ConvergenceCheck {
  /** RMS standard error / SD of the estimate; null when not yet estimable. */
  relativeSE: number | null;
  /** Versus the previous check (null at the first). */
  spearman: number | null;
  topKIoU: number | null;
}

/** Rank stability of `cur` against the previous estimate (top k = 10% of entries, at least 1). */
export function stability(prev: ArrayLike<number> | null, cur: ArrayLike<number>): { spearman: number | null; topKIoU: number | null } {
  if (!prev) return { spearman: null, topKIoU: null };
  return { spearman: spearmanOf(prev, cur), topKIoU: topSetIoU(prev, cur, Math.max(1, Math.round(0.1 * cur.length))) };
}

// ---- auto budgets ----

export type AnytimeSettings = {
  /** Stop when relativeSE (the shared pool: the remaining agreement share) <= precision (the budget setting is then the hard cap). */
  auto?: boolean;
  precision?: number;
};
export const ANYTIME_KEYS = ['auto', 'precision'];
/** The opt-in switch of an auto budget (Explainer.switches). */
export const ANYTIME_SWITCHES = ['auto'] as const;

/**
 * Reads `<budget>=auto` (or auto=true with a numeric budget as the cap): returns the budget value to validate
 * (undefined = the method's default, which is then the cap) and the anytime keys to store with the settings
 * (none when auto is off, so fixed-budget settings stay as they were).
 */
export function readAnytime<P extends Record<string, unknown>>(method: string, budgetKey: string, p: P, defaultPrecision: number): { budget: unknown; anytime: AnytimeSettings; rest: P } {
  const { auto: _auto, precision: _precision, ...rest } = p;
  const raw = p[budgetKey];
  const auto = raw === 'auto' || p.auto === true;
  switchSetting(method, 'auto', p.auto);
  if (!auto) {
    if (p.precision !== undefined) throw new SaliencyError(`${method}: precision applies only with ${budgetKey}=auto`, 'BAD_SETTING');
    return { budget: raw, anytime: {}, rest: rest as P };
  }
  const precision = numberSetting(method, 'precision', p.precision, defaultPrecision, 0, Infinity, false);
  return { budget: raw === 'auto' ? undefined : raw, anytime: { auto: true, precision }, rest: rest as P };
}

/** The stopping rule as recorded in results extras. */
export function stopRuleText(what: string, precision: number, cap: number, every: number, minimum: number): string {
  return `stop when RMS standard error / SD of the ${what} <= ${precision} (checked every ${every} evaluations from ${minimum}), at most ${cap}`;
}

/** The shared pool's stopping rule as recorded in results extras. */
export function splitHalfRuleText(precision: number, cap: number, every: number, minimum: number): string {
  return `stop when the share of the cap's predicted seed-to-seed Spearman that the remaining rows would add, (1 - rho)(1 - n / ${cap}) with rho predicted from two half-samples (Spearman-Brown), <= ${precision} (checked every ${every} evaluations from ${minimum}), at most ${cap}`;
}

/** What an auto budget did (results extras `auto`): the rule, the evaluations used and the final criterion. */
export type AutoOutcome = {
  rule: string;
  precision: number;
  cap: number;
  evaluations: number;
  stoppedEarly: boolean;
} & ({ finalRelativeSE: number | null } | { finalUnexplainedMass: number } | { finalRemainingShare: number | null; finalPredictedSpearman: number | null });
