// Krippendorff's alpha for inter-rater agreement (Krippendorff 2011, "Computing Krippendorff's alpha-
// reliability"): alpha = 1 - D_o / D_e over the coincidence matrix of pairable values. Units rated by fewer
// than two raters are not pairable and are left out.

export type AlphaLevel = 'interval' | 'ordinal' | 'nominal';

/** ratings: one array per unit (e.g. per explanation) of the values the raters gave it. */
export function krippendorffAlpha(units: number[][], level: AlphaLevel = 'interval'): { alpha: number; units: number; pairable: number } {
  const pairable = units.filter((u) => u.length >= 2);
  const values = [...new Set(pairable.flat())].sort((a, b) => a - b);
  const index = new Map(values.map((v, i) => [v, i]));
  const V = values.length;
  const o = Array.from({ length: V }, () => new Float64Array(V));
  for (const u of pairable) {
    const m = u.length;
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) {
      if (i !== j) o[index.get(u[i])!][index.get(u[j])!] += 1 / (m - 1);
    }
  }
  const nc = o.map((row) => row.reduce((a, b) => a + b, 0));
  const n = nc.reduce((a, b) => a + b, 0);
  if (n === 0 || V < 2) return { alpha: V < 2 && n > 0 ? 1 : NaN, units: units.length, pairable: pairable.length };
  const delta = (c: number, k: number): number => {
    if (level === 'nominal') return c === k ? 0 : 1;
    if (level === 'interval') return (values[c] - values[k]) ** 2;
    // ordinal: (sum of n_g for g from c to k, minus half the ends)^2
    const [lo, hi] = c < k ? [c, k] : [k, c];
    let s = 0;
    for (let g = lo; g <= hi; g++) s += nc[g];
    return (s - (nc[lo] + nc[hi]) / 2) ** 2;
  };
  let Do = 0;
  let De = 0;
  for (let c = 0; c < V; c++) for (let k = 0; k < V; k++) {
    const d = delta(c, k);
    Do += o[c][k] * d;
    De += nc[c] * nc[k] * d;
  }
  Do /= n;
  De /= n * (n - 1);
  return { alpha: De === 0 ? 1 : 1 - Do / De, units: units.length, pairable: pairable.length };
}
