// The report's numbers as CSV (one row per metric value, and one per method x metric summary) and JSON.
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
    ['method', 'metric', 'category', 'higher_is_better', 'n', 'mean', 'std', 'median', 'random_control_mean', 'beats_control_share'],
    data.summary.map((s) => [s.method, s.metric, s.category, s.higherIsBetter, s.n, s.mean, s.std, s.median, s.controlMean, s.beatsControl]),
  );
}
