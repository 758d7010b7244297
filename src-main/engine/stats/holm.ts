// Holm's step-down adjustment (Holm 1979) of a family of p-values: controls the family-wise error rate with
// no assumption about their dependence. Sorted ascending, p_(i) becomes max_{j<=i} min(1, (m - j + 1) p_(j));
// returned in the input order, so "adjusted p < 0.05" is Holm's test at level 0.05 (as R's p.adjust "holm").
export function holm(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p);
  const out = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    out[i] = running;
  });
  return out;
}
