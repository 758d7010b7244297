// Seeded percentile bootstrap intervals (Efron & Tibshirani 1993, ch. 13): the mean of n values, and the mean
// of paired per-image differences. Seeded so the same numbers always give the same interval.
import { Random } from '../util/random.ts';
import { quantileSorted } from '../ensemble/stats.ts';

export interface BootstrapOptions {
  seed?: number;
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
  /** Coverage of the interval (default 0.95). */
  level?: number;
}

export interface MeanCI {
  mean: number;
  /** Interval bounds; NaN when there are fewer than 2 values (no interval can be claimed). */
  lo: number;
  hi: number;
  n: number;
}

const finite = (values: ArrayLike<number>) => Array.from(values).filter(Number.isFinite);

/**
 * Percentile bootstrap interval of the mean of the finite values: the level/2 and 1 - level/2 quantiles of
 * the means of `resamples` resamples with replacement (numpy-style interpolated quantiles).
 */
export function bootstrapMeanCI(values: ArrayLike<number>, opts: BootstrapOptions = {}): MeanCI {
  const v = finite(values);
  const n = v.length;
  const mean = n ? v.reduce((a, b) => a + b, 0) / n : NaN;
  if (n < 2) return { mean, lo: NaN, hi: NaN, n };
  const resamples = opts.resamples ?? 2000;
  const alpha = 1 - (opts.level ?? 0.95);
  const rng = Random.derive(opts.seed ?? 0, 'bootstrap-mean');
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let t = 0;
    for (let i = 0; i < n; i++) t += v[rng.int(n)];
    means[r] = t / n;
  }
  means.sort();
  return { mean, lo: quantileSorted(means, alpha / 2), hi: quantileSorted(means, 1 - alpha / 2), n };
}

/** Per-pair differences a[i] - b[i], keeping only pairs where both are finite. */
export function pairedDifferences(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  if (a.length !== b.length) throw new RangeError(`paired values must have equal lengths (${a.length} vs ${b.length})`);
  const d: number[] = [];
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i]) && Number.isFinite(b[i])) d.push(a[i] - b[i]);
  return d;
}

/** Percentile bootstrap interval of the mean paired difference a - b (resampling pairs, i.e. images). */
export function pairedBootstrapCI(a: ArrayLike<number>, b: ArrayLike<number>, opts: BootstrapOptions = {}): MeanCI {
  return bootstrapMeanCI(pairedDifferences(a, b), opts);
}
