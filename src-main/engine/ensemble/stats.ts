// NaN-aware statistics over maps and per-pixel method stacks, shared by normalisers, combiners and weights.

/** The finite values of data, sorted ascending (NaN and +-Infinity left out). */
export function sortedFinite(data: ArrayLike<number>): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < data.length; i++) if (Number.isFinite(data[i])) out.push(data[i]);
  return Float64Array.from(out).sort();
}

/** Quantile q in [0,1] of sorted values, linear interpolation between order statistics (numpy's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = Math.min(Math.max(q, 0), 1) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export interface Moments { count: number; mean: number; std: number; rms: number }

/** Mean, population standard deviation and root mean square of the finite values. */
export function moments(data: ArrayLike<number>): Moments {
  let count = 0;
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) continue;
    count++;
    sum += v;
    sumSq += v * v;
  }
  if (count === 0) return { count, mean: NaN, std: NaN, rms: NaN };
  const mean = sum / count;
  return { count, mean, std: Math.sqrt(Math.max(0, sumSq / count - mean * mean)), rms: Math.sqrt(sumSq / count) };
}

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

/** Median of the finite entries of a small scratch array (sorted in place); NaN when there are none. */
export function medianInPlace(values: number[]): number {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  return quantileSorted(finite, 0.5);
}
