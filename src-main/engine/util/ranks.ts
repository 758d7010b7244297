// Average ranks (ties share the mean of their ranks), shared by the metrics and the ensembles.

/**
 * Ranks 0..n-1 of the finite values (ascending; ties share their average rank); non-finite entries get NaN.
 * Average ranks make the result independent of the order in which tied pixels are stored.
 */
export function averageRanks(data: ArrayLike<number>): Float64Array {
  const idx: number[] = [];
  for (let i = 0; i < data.length; i++) if (Number.isFinite(data[i])) idx.push(i);
  idx.sort((a, b) => data[a] - data[b]);
  const ranks = new Float64Array(data.length).fill(NaN);
  for (let start = 0; start < idx.length; ) {
    let end = start + 1;
    while (end < idx.length && data[idx[end]] === data[idx[start]]) end++;
    const r = (start + end - 1) / 2;
    for (let k = start; k < end; k++) ranks[idx[k]] = r;
    start = end;
  }
  return ranks;
}
