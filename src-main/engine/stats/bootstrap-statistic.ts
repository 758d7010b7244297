// Seeded percentile bootstrap of any statistic with named components (e.g. one ensemble weight per method),
// over n resampling units (ratings, comparisons, images): the same resampling and quantiles as bootstrap.ts's
// interval of a mean, for statistics that are not means.
import { Random } from '../util/random.ts';
import { quantileSorted } from '../ensemble/stats.ts';
import type { BootstrapOptions } from './bootstrap.ts';

/** Per component: the level/2 and 1 - level/2 quantiles over `resamples` resamples of the n units with
 *  replacement (a component missing from a resample's statistic counts as 0); none below 2 units. */
export function bootstrapStatistic(
  n: number, statistic: (units: Int32Array) => Record<string, number>, keys: string[], opts: BootstrapOptions = {},
): Record<string, { lo: number; hi: number } | null> {
  if (n < 2) return Object.fromEntries(keys.map((k) => [k, null]));
  const resamples = opts.resamples ?? 1000;
  const alpha = 1 - (opts.level ?? 0.95);
  const rng = Random.derive(opts.seed ?? 0, 'bootstrap-statistic');
  const draws = Object.fromEntries(keys.map((k) => [k, new Float64Array(resamples)]));
  const units = new Int32Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) units[i] = rng.int(n);
    const s = statistic(units);
    for (const k of keys) draws[k][r] = s[k] ?? 0;
  }
  return Object.fromEntries(keys.map((k) => {
    const sorted = draws[k].sort();
    return [k, { lo: quantileSorted(sorted, alpha / 2), hi: quantileSorted(sorted, 1 - alpha / 2) }];
  }));
}
