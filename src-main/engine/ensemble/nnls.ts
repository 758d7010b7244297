// Non-negative least squares (Lawson & Hanson 1974, active set) in Gram form: minimise w'Gw - 2b'w subject
// to w >= 0, with G = X'X and b = X'y accumulated beforehand, so fitting over millions of pixels costs one
// pass over them and the solver only sees an m x m system (m = number of methods).
import { Matrix, solve } from 'ml-matrix';

function solveSubset(G: number[][], b: number[], set: number[]): number[] {
  const A = new Matrix(set.map((i) => set.map((j) => G[i][j])));
  const rhs = Matrix.columnVector(set.map((i) => b[i]));
  return solve(A, rhs, true).to1DArray(); // least-squares solve copes with a singular (collinear) subset
}

export function nnlsGram(G: number[][], b: number[], tolerance = 1e-12, maxIterations = 1000): number[] {
  const m = b.length;
  const w = new Array<number>(m).fill(0);
  const passive = new Set<number>();
  const scale = Math.max(1e-300, ...G.map((row, i) => Math.abs(row[i])));
  const tol = tolerance * scale;
  for (let iter = 0; iter < maxIterations; iter++) {
    const grad = b.map((bi, i) => bi - G[i].reduce((s, g, j) => s + g * w[j], 0));
    let t = -1;
    for (let i = 0; i < m; i++) if (!passive.has(i) && grad[i] > tol && (t < 0 || grad[i] > grad[t])) t = i;
    if (t < 0) break;
    passive.add(t);
    for (;;) {
      const set = [...passive].sort((a, c) => a - c);
      const s = solveSubset(G, b, set);
      if (s.every((v) => v > 0)) {
        for (let i = 0; i < m; i++) w[i] = 0;
        set.forEach((i, k) => { w[i] = s[k]; });
        break;
      }
      // Step from w toward s until the first passive weight hits zero, then drop the zeros and re-solve.
      let alpha = 1;
      set.forEach((i, k) => { if (s[k] <= 0) alpha = Math.min(alpha, w[i] / (w[i] - s[k])); });
      set.forEach((i, k) => { w[i] += alpha * (s[k] - w[i]); });
      for (const i of set) if (w[i] <= tol) { w[i] = 0; passive.delete(i); }
      if (passive.size === 0) break;
    }
  }
  return w;
}
