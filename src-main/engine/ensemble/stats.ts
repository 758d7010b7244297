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

export { averageRanks } from '../util/ranks.ts';

/** Median of the finite entries of a small scratch array (sorted in place); NaN when there are none. */
export function medianInPlace(values: number[]): number {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  return quantileSorted(finite, 0.5);
}
