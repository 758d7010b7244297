// The one wording of a comparison's outcome (DESIGN.md): a side "wins" only when the paired 95% interval of
// the difference excludes zero AND the Holm-adjusted p-value of its family is below 0.05; otherwise "no clear
// difference (n = k)". Both conditions, because the percentile interval is per comparison while Holm's
// adjustment covers the family of comparisons made on one metric.

export interface ComparedPair {
  a: string; b: string;
  /** Mean of a - b over the paired units (images). */
  diff: number;
  ci95: [number, number];
  n: number;
  pHolm: number;
  higherIsBetter: boolean;
}

export const ALPHA = 0.05;

const num = (x: number) => (!Number.isFinite(x) ? '–' : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : Math.abs(x) >= 0.01 ? x.toFixed(3) : x.toPrecision(2));
const pText = (p: number) => (p < 0.001 ? '< 0.001' : `= ${p.toFixed(3)}`);

/** The better side, or null when the comparison does not support a claim. */
export function winnerOf(c: ComparedPair): string | null {
  const [lo, hi] = c.ci95;
  if (!(c.n >= 2) || !(c.pHolm < ALPHA) || !(lo > 0 || hi < 0)) return null;
  const aHigher = lo > 0;
  return aHigher === c.higherIsBetter ? c.a : c.b;
}

export function verdictText(c: ComparedPair): string {
  const w = winnerOf(c);
  if (w === null) return `no clear difference (n = ${c.n})`;
  const loser = w === c.a ? c.b : c.a;
  // Report the difference as winner - loser, so the numbers read with the sentence.
  const s = w === c.a ? 1 : -1;
  const lo = s === 1 ? c.ci95[0] : -c.ci95[1];
  const hi = s === 1 ? c.ci95[1] : -c.ci95[0];
  return `${w} better than ${loser} (diff ${num(s * c.diff)}, 95% CI [${num(lo)}, ${num(hi)}], n = ${c.n}, Holm p ${pText(c.pHolm)})`;
}

export { num as formatNumber };
