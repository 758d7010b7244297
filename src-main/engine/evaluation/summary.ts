// The summary of `saliency evaluate` (and scripts/eval-faithfulness.ts): per method and metric n, mean with a
// seeded 95% bootstrap interval, the random-map control and the paired difference to it; and the `pairs`:
// paired bootstrap differences between methods over images with Holm-adjusted sign-flip p-values and a
// verdict (src-main/engine/stats). Ensembles ('ensemble:*') are ranked apart from single methods and each is
// compared with the best single method.
import { comparePairs, summariseGroups, type GroupSummary, type Interval, type Observation } from '../stats/index.ts';
import { formatNumber } from '../stats/verdict.ts';
import { METRICS } from '../metrics/registry.ts';

/** One metric value of one method's map of one image (evaluate's per-image row). */
export interface PerImageRow {
  image: string; method: string; metric: string; value: number; higherIsBetter: boolean; control: number | null;
  beatsControl?: boolean | null; millis?: number;
  /** The individual random maps' values (the control is their mean). */
  controlValues?: number[];
}

/** A method's summary for one metric (stats/compare.ts GroupSummary, named by method). */
export type SummaryRow = Omit<GroupSummary, 'group'> & { method: string };

export interface PairRow {
  metric: string; a: string; b: string; kind: string; n: number; diff: number; ci95: Interval; p: number; pHolm: number;
  winner: string | null; verdict: string;
}

export interface EvaluationSummary { summary: SummaryRow[]; pairs: PairRow[]; notes: string[] }

export interface SummaryOptions { seed?: number; resamples?: number }

/** Metrics whose rows compare two methods' maps (spearman, topk-iou): summarised, never ranked. */
const isAgreementMetric = (metric: string) => METRICS.get(metric)?.tags.needs.referenceMap === true;

export function evaluationSummary(rows: PerImageRow[], opts: SummaryOptions = {}): EvaluationSummary {
  const seed = opts.seed ?? 0;
  const resamples = opts.resamples ?? 2000;
  const obs: Observation[] = rows.map((r) => ({ unit: r.image, group: r.method, metric: r.metric, value: r.value, control: r.control, higherIsBetter: r.higherIsBetter }));
  const groups = summariseGroups(obs, { seed, resamples });
  const pairs = comparePairs(obs, groups, { seed, resamples, noPairs: isAgreementMetric });
  const summary: SummaryRow[] = groups.map(({ group, ...g }) => ({ method: group, ...g }));
  return {
    summary,
    pairs: pairs.map((p) => ({ metric: p.metric, a: p.a, b: p.b, kind: p.kind, n: p.n, diff: p.diff, ci95: p.ci95, p: p.p, pHolm: p.pHolm, winner: p.winner, verdict: p.verdict })),
    notes: [
      `ci95: percentile bootstrap over images (${resamples} resamples, seed ${seed}); null when n < 2.`,
      'vsControl: mean of (map - random-map control) per image with its paired bootstrap interval; better = the interval excludes 0 on the metric\'s good side.',
      'pairs: diff = mean of (a - b) over the images both have, paired bootstrap interval; p = two-sided sign-flip permutation test (exact for n <= 16, else 10,000 seeded draws); pHolm = Holm-adjusted within each metric. A method is "better" only when the interval excludes 0 and pHolm < 0.05.',
      'Single methods and ensembles (ensemble:*) are ranked separately (rank = by mean, not a claim); each ensemble is compared with the best single method.',
    ],
  };
}

export const SUMMARY_CSV_HEADER = ['method', 'metric', 'kind', 'rank', 'higher_is_better', 'n', 'mean', 'ci95_lo', 'ci95_hi', 'std', 'median', 'control_mean',
  'vs_control_diff', 'vs_control_ci95_lo', 'vs_control_ci95_hi', 'share_beating_control', 'share_ci95_lo', 'share_ci95_hi'];

export const summaryCsvRow = (s: SummaryRow): unknown[] => [s.method, s.metric, s.kind, s.rank, s.higherIsBetter, s.n, s.mean, s.ci95[0], s.ci95[1], s.std, s.median, s.controlMean,
  s.vsControl?.diff ?? null, s.vsControl?.ci95[0] ?? null, s.vsControl?.ci95[1] ?? null, s.shareBeatingControl, s.shareCi95?.[0] ?? null, s.shareCi95?.[1] ?? null];

export const PAIRS_CSV_HEADER = ['metric', 'a', 'b', 'kind', 'n', 'diff', 'ci95_lo', 'ci95_hi', 'p', 'p_holm', 'winner', 'verdict'];
export const pairsCsvRow = (p: PairRow): unknown[] => [p.metric, p.a, p.b, p.kind, p.n, p.diff, p.ci95[0], p.ci95[1], p.p, p.pHolm, p.winner, p.verdict];

const ci = (c: Interval) => `[${formatNumber(c[0])}, ${formatNumber(c[1])}]`;

/** Console lines: one per method and metric, then the pair verdicts. */
export function formatSummary(result: EvaluationSummary): string {
  const lines = result.summary.map((s) => `${s.method.padEnd(16)} ${s.metric.padEnd(16)} mean ${formatNumber(s.mean)} ${ci(s.ci95)} (n=${s.n})` +
    (s.vsControl ? `  control ${formatNumber(s.controlMean!)}; map - control ${formatNumber(s.vsControl.diff)} ${ci(s.vsControl.ci95)}${s.vsControl.better === true ? ' better than the control' : s.vsControl.better === false ? ' WORSE than the control' : ' no clear difference from the control'}` : ''));
  for (const p of result.pairs) lines.push(`${p.metric}: ${p.a} vs ${p.b}: ${p.verdict}`);
  return lines.join('\n');
}
