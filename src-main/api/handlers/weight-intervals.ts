// How far to trust derived ensemble weights: per member, its sample size and a 95% percentile-bootstrap interval
// of its weight (engine/stats/bootstrap-statistic.ts, seed 1), re-deriving the whole weight set from each resample
// of the units the weights came from: Likert ratings, A/B choices, or images (metric-derived weights).
import { bootstrapStatistic } from '../../engine/stats/bootstrap-statistic.ts';
import { weightsFromLikert, weightsFromMetrics, weightsFromPairwise } from '../../engine/ensemble/index.ts';
import type { LikertRow } from '../../engine/ensemble/weights/likert.ts';
import type { PairwiseRow } from '../../engine/ensemble/weights/bradley-terry.ts';
import type { MetricRow } from '../../engine/ensemble/weights/from-metrics.ts';

export type WeightIntervals = Record<string, { n: number; lo: number | null; hi: number | null }>;
export const WEIGHT_INTERVAL_NOTE = '95% percentile-bootstrap intervals (1000 resamples, seed 1)';
const OPTS = { seed: 1, resamples: 1000 };

const intervals = (n: Record<string, number>, ci: Record<string, { lo: number; hi: number } | null>): WeightIntervals =>
  Object.fromEntries(Object.keys(n).map((m) => [m, { n: n[m], lo: ci[m]?.lo ?? null, hi: ci[m]?.hi ?? null }]));
const count = <T,>(rows: T[], keys: (r: T) => string[]) => {
  const n: Record<string, number> = {};
  for (const r of rows) for (const k of new Set(keys(r))) n[k] = (n[k] ?? 0) + 1;
  return n;
};

/** Likert: resampling the ratings; n = the member's ratings. */
export function likertIntervals(rows: LikertRow[]): WeightIntervals {
  const n = count(rows, (r) => [r.method]);
  return intervals(n, bootstrapStatistic(rows.length, (u) => weightsFromLikert(Array.from(u, (i) => rows[i])).weights, Object.keys(n), OPTS));
}

/** Bradley-Terry: resampling the A/B choices; n = the choices the member took part in. */
export function pairwiseIntervals(rows: PairwiseRow[]): WeightIntervals {
  const n = count(rows, (r) => [r.a, r.b]);
  return intervals(n, bootstrapStatistic(rows.length, (u) => weightsFromPairwise(Array.from(u, (i) => rows[i])).weights, Object.keys(n), OPTS));
}

/** Metrics: resampling images (every row of a drawn image comes along); n = the member's images. */
export function metricIntervals(rows: (MetricRow & { image: string })[]): WeightIntervals {
  const images = [...new Set(rows.map((r) => r.image))];
  const byImage = new Map(images.map((img) => [img, rows.filter((r) => r.image === img)]));
  const n = count(rows, (r) => [r.method]);
  for (const m of Object.keys(n)) n[m] = new Set(rows.filter((r) => r.method === m).map((r) => r.image)).size;
  return intervals(n, bootstrapStatistic(images.length, (u) => weightsFromMetrics(Array.from(u, (i) => byImage.get(images[i])!).flat()).weights, Object.keys(n), OPTS));
}
