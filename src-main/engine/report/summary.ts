// The report's statistics per series and metric (issue 14 #4): n, mean with a seeded 95% bootstrap interval,
// the random-map control and the paired difference to it; and the pairs of series compared over the images
// both have (paired bootstrap interval, sign-flip p, Holm within the metric, verdict). Single methods and
// ensembles are ranked separately and each ensemble is compared with the best single method. The same code as
// `saliency evaluate` (src-main/engine/stats/compare.ts); rows are grouped by `series` (method | target |
// score kind), or by method where a row has no series.
import { comparePairs, summariseGroups, type GroupSummary, type Interval, type Observation } from '../stats/index.ts';
import type { ReportMetric } from './collect.ts';

/** A series' summary for one metric (stats/compare.ts GroupSummary, named by series). */
export type MetricSummary = Omit<GroupSummary, 'group' | 'shareBeatingControl' | 'shareCi95'> & {
  /** Series key (or method) and its label. */
  series: string; seriesLabel: string; method: string; category: string;
  /** Share of images where the map beats its random-map control (by the metric's direction), and its Wilson interval. */
  beatsControl: number | null; beatsControlCi95: Interval | null;
};

export interface ReportPair {
  metric: string; a: string; b: string; aLabel: string; bLabel: string;
  kind: 'single' | 'ensemble' | 'ensemble-vs-best-single';
  n: number; diff: number; ci95: Interval; p: number; pHolm: number; winner: string | null; verdict: string;
}

export interface ReportStatistics { summary: MetricSummary[]; pairs: ReportPair[] }

/** Seed of the report's bootstrap and permutation draws (fixed: a report's numbers never change between runs). */
export const REPORT_STATS_SEED = 1;

type Row = Pick<ReportMetric, 'imageId' | 'method' | 'metric' | 'value' | 'randomControl' | 'higherIsBetter' | 'category'> & { series?: string; seriesLabel?: string; isEnsemble?: boolean };

const groupOf = (m: Row) => m.series ?? m.method;

export function summariseReport(metrics: Row[], opts: { seed?: number; resamples?: number } = {}): ReportStatistics {
  const seed = opts.seed ?? REPORT_STATS_SEED;
  const info = new Map<string, Row>();
  for (const m of metrics) if (!info.has(groupOf(m))) info.set(groupOf(m), m);
  const category = new Map(metrics.map((m) => [m.metric, m.category]));
  const label = (g: string) => info.get(g)?.seriesLabel ?? g;
  const isEnsemble = (g: string) => info.get(g)?.isEnsemble ?? info.get(g)?.method.startsWith('ensemble') ?? false;
  const obs: Observation[] = metrics.map((m) => ({ unit: m.imageId, group: groupOf(m), metric: m.metric, value: m.value, control: m.randomControl, higherIsBetter: m.higherIsBetter }));
  const groups = summariseGroups(obs, { seed, resamples: opts.resamples, isEnsemble });
  const pairs = comparePairs(obs, groups, { seed, resamples: opts.resamples, isEnsemble, label, noPairs: (metric) => category.get(metric) === 'agreement' });
  const metricOrder = [...new Set(metrics.map((m) => m.metric))].sort();
  const summary: MetricSummary[] = groups.map((g) => ({
    series: g.group, seriesLabel: label(g.group), method: info.get(g.group)!.method, metric: g.metric, category: category.get(g.metric) ?? 'other',
    higherIsBetter: g.higherIsBetter, kind: g.kind, rank: g.rank, n: g.n, mean: g.mean, std: g.std, median: g.median, ci95: g.ci95,
    controlMean: g.controlMean, vsControl: g.vsControl, beatsControl: g.shareBeatingControl, beatsControlCi95: g.shareCi95,
  })).sort((x, y) => metricOrder.indexOf(x.metric) - metricOrder.indexOf(y.metric));
  return {
    summary,
    pairs: pairs.map((p) => ({ ...p, aLabel: label(p.a), bLabel: label(p.b) })).sort((x, y) => metricOrder.indexOf(x.metric) - metricOrder.indexOf(y.metric)),
  };
}

/** How the report's statistics are made, in one paragraph (shown in the report). */
export const STATISTICS_NOTE = 'Means with 95% percentile-bootstrap intervals over images (2000 resamples, seed 1). "vs control": the mean per-image difference between the map and the random-map control with its paired interval. Pairs: the mean per-image difference over the images both series have, its paired bootstrap interval, a two-sided sign-flip permutation p-value, Holm-adjusted within each metric. A series "wins" only when that interval excludes zero and the Holm p is below 0.05; otherwise the report says "no clear difference". Single methods and ensembles are ranked separately; each ensemble is compared with the best single method.';
