// Method weights from human ratings for the Ensemble screen.
// TODO(ensemble engineer): replace by the ensemble module's weight sources when they land.

/** Scales non-negative weights to sum 1 (all zero -> uniform). */
export function normaliseWeights(w: Record<string, number>): Record<string, number> {
  const entries = Object.entries(w).map(([k, v]) => [k, Math.max(0, v)] as const);
  const sum = entries.reduce((a, [, v]) => a + v, 0);
  return Object.fromEntries(entries.map(([k, v]) => [k, sum > 0 ? v / sum : 1 / entries.length]));
}

/**
 * Bradley-Terry strengths from pairwise choices (Hunter's MM algorithm; a tie counts half a win each way).
 * A small prior (one virtual tie against every other method) keeps unbeaten methods finite.
 */
export function bradleyTerry(comparisons: { a: string; b: string; winner: 'a' | 'b' | 'tie' }[], iterations = 200): Map<string, number> {
  const names = [...new Set(comparisons.flatMap((c) => [c.a, c.b]))];
  const idx = new Map(names.map((n, i) => [n, i]));
  const n = names.length;
  const wins = new Float64Array(n);
  const games = Array.from({ length: n }, () => new Float64Array(n));
  for (const c of comparisons) {
    const i = idx.get(c.a)!;
    const j = idx.get(c.b)!;
    if (i === j) continue;
    games[i][j]++; games[j][i]++;
    if (c.winner === 'a') wins[i]++; else if (c.winner === 'b') wins[j]++; else { wins[i] += 0.5; wins[j] += 0.5; }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) { games[i][j] += 1; wins[i] += 0.5; }
  let p = new Float64Array(n).fill(1 / Math.max(n, 1));
  for (let it = 0; it < iterations; it++) {
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let denom = 0;
      for (let j = 0; j < n; j++) if (j !== i && games[i][j] > 0) denom += games[i][j] / (p[i] + p[j]);
      next[i] = denom > 0 ? wins[i] / denom : p[i];
    }
    const s = next.reduce((a, b) => a + b, 0);
    for (let i = 0; i < n; i++) next[i] /= s;
    p = next;
  }
  return new Map(names.map((name, i) => [name, p[i]]));
}
