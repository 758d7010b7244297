// RISE with a regression control variate on the mask's grid cells (rise.cellRegression=true; opt-in; a deviation
// from the authors' estimator, same estimand up to O(1/N) from fitting on the same masks).
// RISE's map is E[f M(x)] / p over random masks M with score f. Fit g = a + sum_j b_j c_j by least squares of the
// scores on the mask's s x s grid cells c_j (0/1), then E[f M(x)] = E[(f - g) M(x)] + E[g M(x)], and the second
// term is known exactly: a mask is a bilinear blend of its cells with weights summing to 1, so E[M(x)] = p and
// E[c_j M(x)] = p^2 + p (1 - p) W_j(x), W_j(x) the weight of cell j at x averaged over the random shift. So
//   map(x) = sum_i (f_i - g_i) M_i(x) / (N p) + a + p sum_j b_j + (1 - p) sum_j b_j W_j(x):
// only the residual f - g is Monte Carlo. With b = 0 (a = mean score) this is controlVariate=true; the cells'
// linear part of the score is what that leaves as noise. The fit starts at MIN_ROWS_PER_COEFFICIENT masks per
// coefficient (the mean alone before). Exploratory, before building it (SqueezeNet, the first 4 tuning images,
// 8,000 masks scored once and split into disjoint sets as seeds): at 1,000 masks the cells explain R^2 0.30-0.64
// of the score's variance and the Spearman between sets is 0.963 / 0.897 / 0.936 / 0.884 against the mean
// control variate's 0.929 / 0.826 / 0.877 / 0.821; adding adjacent cell pairs as features (2 images) overfitted
// at 250 masks and gained nothing at 500-1,000, so the fit is linear (README).
import type { RiseMaskDraw, RiseMaskGenerator } from './rise.ts';
import { weightedRidge } from './regression.ts';

/** Masks per fitted coefficient before the cells enter the fit (fewer: the mean score alone). */
const MIN_ROWS_PER_COEFFICIENT = 2;
/** The most grid cells per side the regression accepts (one coefficient per cell). */
export const CELL_REGRESSION_MAX_CELLS = 16;

export class RiseCellRegression {
  private readonly draws: RiseMaskDraw[] = [];
  private readonly scores: number[] = [];
  private readonly weights: { x: Float64Array; y: Float64Array };
  private last: { n: number; map: Float32Array; se: Float64Array } | null = null;

  constructor(private readonly gen: RiseMaskGenerator) {
    this.weights = gen.expectedCellWeights();
  }

  add(score: number, _mask: Float32Array, draw: RiseMaskDraw): void {
    this.draws.push(draw);
    this.scores.push(score);
  }

  map(n: number): Float32Array {
    return this.estimate(n).map;
  }

  /** Per-pixel standard errors of the Monte Carlo part (the fit treated as fixed; variance scaled by
   *  (n - 1) / (n - coefficients) for the fitted ones). */
  standardErrors(n: number): Float64Array {
    return this.estimate(n).se;
  }

  private estimate(n: number): { map: Float32Array; se: Float64Array } {
    if (this.last?.n === n) return this.last;
    const { gen, scores } = this;
    const { width, height, cells: s, p } = gen;
    const K = s * s;
    const grids = this.draws.slice(0, n).map((d) => d.grid);
    let a = 0;
    let b: Float64Array = new Float64Array(K);
    let fitted = 1;
    if (n >= MIN_ROWS_PER_COEFFICIENT * (K + 1)) {
      const fit = weightedRidge(grids, scores, new Float64Array(n).fill(1), 1e-6 * n, n);
      a = fit.intercept;
      b = fit.coef;
      fitted = K + 1;
    } else {
      for (let i = 0; i < n; i++) a += scores[i] / n;
    }
    // The Monte Carlo part: residuals times their masks, re-rendered from the stored draws.
    const P = width * height;
    const sumT = new Float64Array(P);
    const sumT2 = new Float64Array(P);
    for (let i = 0; i < n; i++) {
      let r = scores[i] - a;
      const g = grids[i];
      for (let j = 0; j < K; j++) if (g[j]) r -= b[j];
      if (r === 0) continue;
      const m = gen.render(this.draws[i]);
      for (let q = 0; q < P; q++) { const t = r * m[q]; sumT[q] += t; sumT2[q] += t * t; }
    }
    // The exactly known part: a + p sum_j b_j + (1 - p) sum_j b_j W_j(x), W_j separable per axis.
    let sumB = 0;
    for (let j = 0; j < K; j++) sumB += b[j];
    const { x: wx, y: wy } = this.weights;
    const rowPart = new Float64Array(s * width); // per grid row r: sum_c b_rc Wx_c(x)
    for (let r = 0; r < s; r++) for (let c = 0; c < s; c++) {
      const coef = b[r * s + c];
      if (coef !== 0) for (let x = 0; x < width; x++) rowPart[r * width + x] += coef * wx[c * width + x];
    }
    const map = new Float32Array(P);
    const se = new Float64Array(P);
    const dof = n > fitted ? (n - 1) / (n - fitted) : Infinity;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let linear = 0;
        for (let r = 0; r < s; r++) linear += wy[r * height + y] * rowPart[r * width + x];
        const q = y * width + x;
        const mean = sumT[q] / (n * p);
        map[q] = mean + a + p * sumB + (1 - p) * linear;
        se[q] = n < 2 ? Infinity : Math.sqrt(Math.max(0, (sumT2[q] / (n * p * p) - mean * mean) / (n - 1)) * dof);
      }
    }
    this.last = { n, map, se };
    return this.last;
  }
}
