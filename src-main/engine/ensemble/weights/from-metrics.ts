// Weights from measured faithfulness: each method's metric values (deletion AUC, insertion AUC, AOPC, ...) over
// one image, one class or a whole set, turned into weights. Each metric is oriented (lower-is-better negated)
// and standardised across methods so metrics on different scales count equally; the mean standardised score
// goes through a score transform (softmax by default).
import { SaliencyError } from '../../types.ts';
import type { WeightSet } from '../types.ts';
import { type Row, booleanCell, column, numberCell, stringCell } from './table.ts';
import { type ScoreTransform, hasSpread, scoresToWeights } from './weight-set.ts';

export interface MetricRow {
  method: string;
  value: number;
  higherIsBetter: boolean;
  /** Metric name (rows of several metrics may be mixed); default "metric". */
  metric?: string;
  image?: string;
  classIndex?: number;
}

export interface MetricWeightOptions {
  name?: string;
  transform?: ScoreTransform;
  temperature?: number;
  /** Restrict to one image / one class (per-image or per-class weights); default: the whole set. */
  image?: string;
  classIndex?: number;
  /** Restrict to these metrics. */
  metrics?: string[];
}

/** Metric rows from a parsed table (columns method, value, higherIsBetter, and optional metric, image, classIndex). */
export function metricRows(rows: Row[], where = 'metrics table'): MetricRow[] {
  return rows.map((r, i) => {
    const at = `${where} row ${i + 1}`;
    const classIndex = column(r, 'classIndex', 'class_index', 'class');
    const image = column(r, 'image', 'file', 'filename');
    return {
      method: stringCell(r, at, 'method'),
      value: numberCell(r, at, 'value'),
      higherIsBetter: booleanCell(r, at, 'higherIsBetter', 'higher_is_better'),
      metric: (column(r, 'metric') as string | undefined) ?? 'metric',
      ...(image !== undefined ? { image: String(image) } : {}),
      ...(classIndex !== undefined ? { classIndex: numberCell(r, at, 'classIndex', 'class_index', 'class') } : {}),
    };
  });
}

export function weightsFromMetrics(rows: MetricRow[], opts: MetricWeightOptions = {}): WeightSet {
  const selected = rows.filter((r) => (opts.image === undefined || r.image === opts.image)
    && (opts.classIndex === undefined || r.classIndex === opts.classIndex)
    && (opts.metrics === undefined || opts.metrics.includes(r.metric ?? 'metric')));
  const scope = opts.image !== undefined ? `image ${opts.image}` : opts.classIndex !== undefined ? `class ${opts.classIndex}` : 'set';
  if (selected.length === 0) throw new SaliencyError(`no metric rows for ${scope}`, 'BAD_INPUT');

  const byMetric = new Map<string, { higherIsBetter: boolean; values: Map<string, number[]> }>();
  for (const r of selected) {
    const name = r.metric ?? 'metric';
    let m = byMetric.get(name);
    if (!m) byMetric.set(name, (m = { higherIsBetter: r.higherIsBetter, values: new Map() }));
    if (m.higherIsBetter !== r.higherIsBetter) throw new SaliencyError(`metric "${name}" is marked both higher- and lower-is-better`, 'BAD_INPUT');
    if (!Number.isFinite(r.value)) continue;
    const list = m.values.get(r.method) ?? [];
    list.push(r.value);
    m.values.set(r.method, list);
  }

  const methods = [...new Set(selected.map((r) => r.method))];
  const zSum = new Map<string, number>();
  const zCount = new Map<string, number>();
  const perMetric: Record<string, { higherIsBetter: boolean; mean: Record<string, number>; n: Record<string, number> }> = {};
  for (const [name, m] of byMetric) {
    const means = new Map([...m.values].map(([method, v]) => [method, v.reduce((a, b) => a + b, 0) / v.length]));
    const oriented = [...means.values()].map((v) => (m.higherIsBetter ? v : -v));
    const mu = oriented.reduce((a, b) => a + b, 0) / oriented.length;
    const sd = Math.sqrt(oriented.reduce((a, b) => a + (b - mu) ** 2, 0) / oriented.length);
    for (const [method, v] of means) {
      const z = hasSpread(oriented, sd) ? ((m.higherIsBetter ? v : -v) - mu) / sd : 0;
      zSum.set(method, (zSum.get(method) ?? 0) + z);
      zCount.set(method, (zCount.get(method) ?? 0) + 1);
    }
    perMetric[name] = { higherIsBetter: m.higherIsBetter, mean: Object.fromEntries(means), n: Object.fromEntries([...m.values].map(([k, v]) => [k, v.length])) };
  }
  const noValue = methods.filter((m) => !zCount.has(m));
  if (noValue.length) throw new SaliencyError(`no finite metric value for ${noValue.join(', ')} (${scope})`, 'BAD_INPUT');
  // Averaged z-scores are O(1); residues below 1e-12 are rounding noise from cancelling metrics, not a ranking.
  const score = Object.fromEntries(methods.map((m) => {
    const z = zSum.get(m)! / zCount.get(m)!;
    return [m, Math.abs(z) < 1e-12 ? 0 : z];
  }));
  const transform = opts.transform ?? 'softmax';
  return {
    name: opts.name ?? `metrics-${scope.replace(/\s+/g, '-')}`,
    source: 'metrics',
    weights: scoresToWeights(score, transform, opts.temperature ?? 1),
    provenance: { scope, metrics: perMetric, score, transform, temperature: opts.temperature ?? 1, rows: selected.length, createdAt: new Date().toISOString() },
  };
}

/** One weight set per image or per class found in the rows. */
export function weightSetsPer(rows: MetricRow[], per: 'image' | 'class', opts: MetricWeightOptions = {}): WeightSet[] {
  if (per === 'image') {
    const images = [...new Set(rows.map((r) => r.image).filter((v): v is string => v !== undefined))];
    if (!images.length) throw new SaliencyError('per-image weights need an "image" column in the metrics table', 'BAD_INPUT');
    return images.map((image) => weightsFromMetrics(rows, { ...opts, image, name: `${opts.name ?? 'metrics'}-image-${image}` }));
  }
  const classes = [...new Set(rows.map((r) => r.classIndex).filter((v): v is number => v !== undefined))];
  if (!classes.length) throw new SaliencyError('per-class weights need a "classIndex" column in the metrics table', 'BAD_INPUT');
  return classes.map((classIndex) => weightsFromMetrics(rows, { ...opts, classIndex, name: `${opts.name ?? 'metrics'}-class-${classIndex}` }));
}
