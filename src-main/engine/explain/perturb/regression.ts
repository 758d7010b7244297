// The surrogate fits behind LIME and KernelSHAP, on binary "segment on/off" design rows.
import { SaliencyError } from '../../types.ts';

/** Solves A x = b (A n x n row-major, copied) by Gaussian elimination with partial pivoting. */
export function solveLinear(A: Float64Array, b: Float64Array, n: number): Float64Array {
  const a = Float64Array.from(A);
  const x = Float64Array.from(b);
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r * n + col]) > Math.abs(a[piv * n + col])) piv = r;
    if (Math.abs(a[piv * n + col]) < 1e-300) throw new SaliencyError('the regression is singular (too few distinct samples for the number of segments)', 'SINGULAR');
    if (piv !== col) {
      for (let c = 0; c < n; c++) { const t = a[col * n + c]; a[col * n + c] = a[piv * n + c]; a[piv * n + c] = t; }
      const t = x[col]; x[col] = x[piv]; x[piv] = t;
    }
    const d = a[col * n + col];
    for (let r = col + 1; r < n; r++) {
      const f = a[r * n + col] / d;
      if (f === 0) continue;
      for (let c = col; c < n; c++) a[r * n + c] -= f * a[col * n + c];
      x[r] -= f * x[col];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = x[r];
    for (let c = r + 1; c < n; c++) s -= a[r * n + c] * x[c];
    x[r] = s / a[r * n + r];
  }
  return x;
}

export interface RidgeFit {
  coef: Float64Array;
  intercept: number;
  /** Weighted R^2 of the fit on its own samples (sklearn's score with sample_weight). */
  r2: number;
  /** The penalised normal matrix Xc'WXc + alpha I (M x M) and the weighted column means: the sandwich
   *  standard errors (convergence.ts) reuse them. */
  gram: Float64Array;
  xMean: Float64Array;
}

/**
 * Weighted ridge regression with an unpenalised intercept, as sklearn's Ridge(alpha).fit(X, y, sample_weight):
 * centre X and y on their weighted means, then minimise sum_k w_k (yc_k - xc_k.b)^2 + alpha |b|^2.
 * Only the first n rows are used.
 */
export function weightedRidge(X: Uint8Array[], y: ArrayLike<number>, w: ArrayLike<number>, alpha: number, n = X.length): RidgeFit {
  const M = X[0].length;
  let sw = 0;
  let ym = 0;
  const xm = new Float64Array(M);
  for (let k = 0; k < n; k++) {
    sw += w[k];
    ym += w[k] * y[k];
    const row = X[k];
    for (let j = 0; j < M; j++) if (row[j]) xm[j] += w[k];
  }
  if (!(sw > 0)) throw new SaliencyError('all sample weights are zero', 'SINGULAR');
  ym /= sw;
  for (let j = 0; j < M; j++) xm[j] /= sw;
  const A = new Float64Array(M * M);
  const b = new Float64Array(M);
  const xc = new Float64Array(M);
  for (let k = 0; k < n; k++) {
    const wk = w[k];
    if (wk === 0) continue;
    const row = X[k];
    for (let j = 0; j < M; j++) xc[j] = row[j] - xm[j];
    const yc = y[k] - ym;
    for (let i = 0; i < M; i++) {
      const wi = wk * xc[i];
      b[i] += wi * yc;
      for (let j = i; j < M; j++) A[i * M + j] += wi * xc[j];
    }
  }
  for (let i = 0; i < M; i++) {
    A[i * M + i] += alpha;
    for (let j = 0; j < i; j++) A[i * M + j] = A[j * M + i];
  }
  const coef = solveLinear(A, b, M);
  let intercept = ym;
  for (let j = 0; j < M; j++) intercept -= xm[j] * coef[j];
  let ssRes = 0;
  let ssTot = 0;
  for (let k = 0; k < n; k++) {
    const p = predictRow(X[k], coef, intercept);
    ssRes += w[k] * (y[k] - p) ** 2;
    ssTot += w[k] * (y[k] - ym) ** 2;
  }
  return { coef, intercept, r2: ssTot > 0 ? 1 - ssRes / ssTot : ssRes === 0 ? 1 : 0, gram: A, xMean: xm };
}

export function predictRow(row: ArrayLike<number>, coef: Float64Array, intercept: number): number {
  let s = intercept;
  for (let j = 0; j < coef.length; j++) if (row[j]) s += coef[j];
  return s;
}

/**
 * Weighted least squares y_k - base ~ z_k . phi subject to sum(phi) = total (KernelSHAP's efficiency
 * constraint), solved exactly through the KKT system [Z'WZ 1; 1' 0] [phi; lambda] = [Z'W(y-base); total].
 * A tiny ridge keeps the system solvable when some segments never vary across the samples.
 */
export function constrainedWeightedLeastSquares(
  Z: Uint8Array[], y: ArrayLike<number>, w: ArrayLike<number>, base: number, total: number, n = Z.length,
): Float64Array {
  const M = Z[0].length;
  const { A, b } = kktSystem(Z, y, w, base, total, n);
  const sol = solveLinear(A, b, M + 1);
  const phi = sol.subarray(0, M).slice();
  // Remove the last rounding error so the values sum to the total exactly (up to double precision).
  let s = 0;
  for (let i = 0; i < M; i++) s += phi[i];
  const fix = (total - s) / M;
  for (let i = 0; i < M; i++) phi[i] += fix;
  return phi;
}

/** The KKT system of constrainedWeightedLeastSquares ((M+1) x (M+1), row-major) and its right-hand side. */
export function kktSystem(
  Z: Uint8Array[], y: ArrayLike<number>, w: ArrayLike<number>, base: number, total: number, n = Z.length,
): { A: Float64Array; b: Float64Array } {
  const M = Z[0].length;
  const D = M + 1;
  const A = new Float64Array(D * D);
  const b = new Float64Array(D);
  for (let k = 0; k < n; k++) {
    const wk = w[k];
    if (wk === 0) continue;
    const row = Z[k];
    const r = wk * (y[k] - base);
    for (let i = 0; i < M; i++) {
      if (!row[i]) continue;
      b[i] += r;
      for (let j = i; j < M; j++) if (row[j]) A[i * D + j] += wk;
    }
  }
  let trace = 0;
  for (let i = 0; i < M; i++) trace += A[i * D + i];
  const eps = 1e-9 * (trace / M || 1);
  for (let i = 0; i < M; i++) {
    A[i * D + i] += eps;
    for (let j = 0; j < i; j++) A[i * D + j] = A[j * D + i];
    A[i * D + M] = 1;
    A[M * D + i] = 1;
  }
  b[M] = total;
  return { A, b };
}
