// p-value for paired differences: the two-sided sign-flip permutation test of the mean difference (Fisher's
// randomisation test for paired data; e.g. Good, "Permutation Tests", 2005, 3.1). Under H0 each per-image
// difference is symmetric about zero, so its sign is exchangeable; p is the share of sign assignments whose
// |mean| is at least the observed one. Exact (all 2^n assignments) for n <= 16, otherwise seeded Monte Carlo
// with the (1 + hits) / (1 + draws) estimate, which never gives p = 0.
import { Random } from '../util/random.ts';

export function signFlipPValue(differences: ArrayLike<number>, opts: { seed?: number; draws?: number } = {}): number {
  const d = Array.from(differences).filter(Number.isFinite);
  const n = d.length;
  if (n === 0) return 1;
  const observed = Math.abs(d.reduce((a, b) => a + b, 0));
  // Relative tolerance so that assignments equal to the observed sum up to rounding count as "as extreme".
  const tol = 1e-9 * d.reduce((a, b) => a + Math.abs(b), 0);
  if (n <= 16) {
    let hits = 0;
    const total = 2 ** n;
    for (let mask = 0; mask < total; mask++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += mask & (1 << i) ? -d[i] : d[i];
      if (Math.abs(s) >= observed - tol) hits++;
    }
    return hits / total;
  }
  const draws = opts.draws ?? 10000;
  const rng = Random.derive(opts.seed ?? 0, 'sign-flip');
  let hits = 0;
  for (let r = 0; r < draws; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += rng.next() < 0.5 ? -d[i] : d[i];
    if (Math.abs(s) >= observed - tol) hits++;
  }
  return (1 + hits) / (1 + draws);
}
