// The report's numbers as CSV (one row per metric value, one per series x metric summary, one per compared pair).
import type { ReportData } from './collect.ts';

const cell = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
export const csv = (header: string[], rows: unknown[][]) => [header.join(','), ...rows.map((r) => r.map(cell).join(','))].join('\n') + '\n';

export function metricsCsv(data: ReportData): string {
  const images = new Map(data.images.map((i) => [i.id, i]));
  const expl = new Map(data.explanations.map((e) => [e.id, e]));
  return csv(
    ['image_id', 'image', 'true_class', 'predicted_class', 'method', 'explanation_id', 'run_id', 'target_class', 'metric', 'value', 'random_control', 'higher_is_better', 'seed'],
    data.metrics.map((m) => {
      const img = images.get(m.imageId)!;
      const e = expl.get(m.explanationId)!;
      return [m.imageId, img.relPath, img.trueClass, img.predictedClass, m.method, m.explanationId, e.runId, e.targetClass, m.metric, m.value, m.randomControl, m.higherIsBetter, m.seed];
    }),
  );
}

export function summaryCsv(data: ReportData): string {
  return csv(
    ['series', 'series_label', 'method', 'metric', 'category', 'kind', 'rank', 'higher_is_better', 'n', 'mean', 'ci95_lo', 'ci95_hi', 'std', 'median',
      'random_control_mean', 'vs_control_diff', 'vs_control_ci95_lo', 'vs_control_ci95_hi', 'beats_control_share', 'beats_control_ci95_lo', 'beats_control_ci95_hi'],
    data.summary.map((s) => [s.series, s.seriesLabel, s.method, s.metric, s.category, s.kind, s.rank, s.higherIsBetter, s.n, s.mean, s.ci95[0], s.ci95[1], s.std, s.median,
      s.controlMean, s.vsControl?.diff, s.vsControl?.ci95[0], s.vsControl?.ci95[1], s.beatsControl, s.beatsControlCi95?.[0], s.beatsControlCi95?.[1]]),
  );
}

/** Pairs of series per metric: the paired difference a - b over images, its interval, p, Holm p and the verdict. */
export function pairsCsv(data: ReportData): string {
  return csv(
    ['metric', 'a', 'b', 'a_label', 'b_label', 'kind', 'n', 'diff', 'ci95_lo', 'ci95_hi', 'p', 'p_holm', 'winner', 'verdict'],
    data.pairs.map((p) => [p.metric, p.a, p.b, p.aLabel, p.bLabel, p.kind, p.n, p.diff, p.ci95[0], p.ci95[1], p.p, p.pHolm, p.winner, p.verdict]),
  );
}
