// What a report is made from, read from the store: a selection of images, their explanations (single
// methods and ensembles), metrics with random-map controls and curves, ratings, weight sets, runs and the
// model. Every number in the HTML, PDF, CSV and JSON comes from here. Explanations are grouped into series
// (method, top-1 or fixed class, score kind: report/series.ts) and two series are never merged; metric rows
// that the evaluation protocol says are not comparable are kept out of every summary, with a note saying why
// (`refusals`).
import path from 'node:path';
import type { Store } from '../store/store.ts';
import type { ImageRecord } from '../store/images-repo.ts';
import { METRICS } from '../metrics/registry.ts';
import { SaliencyError } from '../types.ts';
import { krippendorffAlpha } from './krippendorff.ts';
import { fitBradleyTerry } from '../ensemble/weights/bradley-terry.ts';
import { summariseReport, type MetricSummary, type ReportPair } from './summary.ts';
import { APP_VERSION } from '../store/app-version.ts';
import { PRE_PROTOCOL, PROTOCOL_VERSION } from '../protocol.ts';
import { applyProtocol } from './comparable.ts';
import { orderSeries, seriesOf } from './series.ts';
import * as ort from 'onnxruntime-node';

const RUNTIME_VERSIONS = { onnxruntime: ort.env.versions?.node ?? 'unknown' };

export interface ReportSelection {
  libraryId?: number;
  modelId?: number;
  /** Only images whose true (or, without one, predicted) class is this. */
  classIndex?: number;
  /** Only explanations of these runs. */
  runIds?: number[];
  imageIds?: number[];
  /** Only this rater's ratings (a rating session). */
  rater?: string;
  title?: string;
}

export interface ReportImage {
  id: number; path: string; relPath: string; trueClass: number | null; predictedClass: number | null;
  predictedLabel: string | null; predictedProbability: number | null; width: number | null; height: number | null;
  /** series key -> explanation id (the latest of each series) */
  explanations: Record<string, number>;
}

/** Who an explanation or metric row belongs to: its series and what it explains. */
export interface ReportIdentity {
  /** `${method}|${top1 | class:N}|${scoreKind}` */
  series: string;
  /** e.g. "gradcam (top-1, logit)" */
  seriesLabel: string;
  targetClass: number; targetLabel: string; scoreKind: string; isEnsemble: boolean;
}

export interface ReportExplanation extends ReportIdentity {
  id: number; imageId: number; runId: number; method: string;
  evaluations: number; millis: number; seed: number;
}

export interface ReportMetric extends ReportIdentity {
  explanationId: number; imageId: number; method: string; metric: string; value: number | null;
  randomControl: number | null; higherIsBetter: boolean; category: string; seed: number;
  curve: { x: number[]; y: number[] } | null;
  /** Evaluation protocol of the value (PROTOCOL_VERSION, or 'pre-protocol' for rows stored before it). */
  protocol: string;
  /** The metric's settings (rows of one metric with different settings are not pooled). */
  settings: Record<string, unknown>;
}

/** A metric row kept out of the summaries, and why. */
export interface ExcludedMetric extends ReportMetric { reason: string }
export { applyProtocol } from './comparable.ts';

export interface ReportSeries {
  key: string; label: string; method: string; targetRole: string; scoreKind: string; isEnsemble: boolean;
  /** Classes its maps explain (one for a fixed class; the images' top-1 classes otherwise). */
  classes: number[];
  explanations: number;
}

export type { MetricSummary, ReportPair } from './summary.ts';

export interface RatingSummary {
  /** One row per series (ratings of two series are never pooled); seriesLabel names it. */
  method: string; series: string; seriesLabel: string; likertMean: number | null; likertN: number; bradleyTerry: number | null; wins: number; losses: number;
}

export interface ReportData {
  title: string;
  createdAt: string;
  appVersion: string;
  versions: Record<string, string>;
  selection: ReportSelection;
  model: { id: number; name: string; sha256: string; preset: string | null; featureLayer: string | null; info: Record<string, unknown> };
  runs: { id: number; method: string; settings: Record<string, unknown>; seed: number; appVersion: string }[];
  /** Distinct methods (single ones first, then ensembles). Comparisons group by `series`. */
  methods: string[];
  series: ReportSeries[];
  images: ReportImage[];
  explanations: ReportExplanation[];
  /** Metric rows that are compared: one protocol (and, before the protocol, one score kind per faithfulness metric). */
  metrics: ReportMetric[];
  /** Metric rows the protocol forbids comparing with the others, each with its reason (left out of summaries). */
  excludedMetrics: ExcludedMetric[];
  /** What the report refuses to compare and why, in plain sentences (shown at the top of the report). */
  refusals: string[];
  protocol: string;
  /** Per series and metric: n, mean, 95% CI, control, paired difference to it (report/summary.ts). */
  summary: MetricSummary[];
  /** Pairs of series per metric: paired difference, interval, Holm p, verdict. */
  pairs: ReportPair[];
  ratings: { raters: string[]; likert: number; pairwise: number; perMethod: RatingSummary[]; alpha: { interval: number; ordinal: number; units: number; pairable: number } };
  weightSets: { name: string; source: string; weights: Record<string, number>; provenance: Record<string, unknown>; createdAt: string }[];
  labels: Record<number, string>;
}

export function selectImages(store: Store, sel: ReportSelection, modelId: number): ImageRecord[] {
  let images: ImageRecord[];
  if (sel.imageIds) images = sel.imageIds.map((id) => store.images.get(id)).filter((x): x is ImageRecord => !!x);
  else if (sel.libraryId !== undefined) images = store.images.allOf(sel.libraryId);
  else throw new SaliencyError('a report needs a library or a list of images', 'BAD_SETTING');
  images = images.filter((i) => !i.missing && !i.error);
  if (sel.classIndex !== undefined) {
    images = images.filter((i) => (i.trueClass ?? store.predictions.get(i.id, modelId)?.topClass) === sel.classIndex);
  }
  return images;
}

/** The library's name (not the model's path), with the model's file name. */
export function defaultTitle(store: Store, sel: ReportSelection, modelName: string): string {
  const model = path.basename(modelName);
  const lib = sel.libraryId !== undefined ? store.libraries.get(sel.libraryId) : undefined;
  return lib ? `${lib.name}: saliency report (model ${model})` : `Saliency comparison report (model ${model})`;
}

export function collectReport(store: Store, sel: ReportSelection, labels: { label: string }[] = []): ReportData {
  const models = store.models.list();
  const model = sel.modelId !== undefined ? store.models.get(sel.modelId) : models[models.length - 1];
  if (!model) throw new SaliencyError(sel.modelId !== undefined ? `no model with id ${sel.modelId}` : 'the database has no model yet: run some explanations first', 'NOT_FOUND');
  const images = selectImages(store, sel, model.id);
  const runFilter = sel.runIds ? new Set(sel.runIds) : null;

  const reportImages: ReportImage[] = [];
  const explanations: ReportExplanation[] = [];
  const all: ReportMetric[] = [];
  const runIds = new Set<number>();
  const label = (c: number) => labels[c]?.label ?? `class ${c}`;
  for (const img of images) {
    const pred = store.predictions.get(img.id, model.id);
    const entry: ReportImage = {
      id: img.id, path: img.path, relPath: img.relPath, trueClass: img.trueClass, predictedClass: pred?.topClass ?? null,
      predictedLabel: pred ? label(pred.topClass) : null,
      predictedProbability: pred?.topProbability ?? null, width: img.width, height: img.height, explanations: {},
    };
    for (const e of store.explanations.list({ imageId: img.id, modelId: model.id })) {
      if (runFilter && !runFilter.has(e.runId) && !e.method.startsWith('ensemble')) continue;
      const run = store.runs.get(e.runId)!;
      const { series, seriesLabel, isEnsemble } = seriesOf(e, pred?.topClass, label);
      entry.explanations[series] = e.id; // the latest of each series
      runIds.add(e.runId);
      explanations.push({
        id: e.id, imageId: img.id, runId: e.runId, method: e.method, series, seriesLabel, targetClass: e.targetClass, targetLabel: label(e.targetClass),
        scoreKind: e.scoreKind, isEnsemble, evaluations: e.evaluations, millis: Math.round(e.millis), seed: run.seed,
      });
    }
    if (Object.keys(entry.explanations).length) reportImages.push(entry);
  }
  const latest = new Set(reportImages.flatMap((i) => Object.values(i.explanations)));
  const kept = explanations.filter((e) => latest.has(e.id));
  for (const e of kept) {
    for (const m of store.metrics.list({ explanationId: e.id })) {
      const def = METRICS.get(m.name);
      const curve = m.curve && typeof m.curve === 'object' && Array.isArray((m.curve as { x?: unknown }).x) ? m.curve as { x: number[]; y: number[] } : null;
      all.push({
        explanationId: e.id, imageId: e.imageId, method: e.method, series: e.series, seriesLabel: e.seriesLabel, targetClass: e.targetClass,
        targetLabel: e.targetLabel, scoreKind: e.scoreKind, isEnsemble: e.isEnsemble, metric: m.name, value: m.value, randomControl: m.randomValue,
        higherIsBetter: def?.tags.higherIsBetter ?? true, category: def?.tags.category ?? 'other', seed: m.seed, curve, protocol: m.protocol ?? PRE_PROTOCOL,
        settings: m.settings,
      });
    }
  }
  const { metrics, excluded, refusals } = applyProtocol(all);
  const methods = orderMethods([...new Set(kept.map((e) => e.method))]);
  const series = seriesOfReport(kept);
  return {
    title: sel.title ?? defaultTitle(store, sel, model.name),
    createdAt: new Date().toISOString(),
    appVersion: APP_VERSION,
    versions: { node: process.versions.node, ...RUNTIME_VERSIONS },
    selection: sel,
    model: { id: model.id, name: model.name, sha256: model.sha256, preset: model.preset, featureLayer: model.featureLayer, info: model.info },
    runs: [...runIds].sort((a, b) => a - b).map((id) => store.runs.get(id)!).map((r) => ({ id: r.id, method: r.method, settings: r.settings, seed: r.seed, appVersion: r.appVersion })),
    methods,
    series,
    images: reportImages,
    explanations: kept,
    metrics,
    excludedMetrics: excluded,
    refusals,
    protocol: PROTOCOL_VERSION,
    // Grouped by series: nothing of two series is pooled.
    ...summariseReport(metrics),
    ratings: summariseRatings(store, kept, series, sel.rater),
    weightSets: store.weightSets.list().map((w) => ({ name: w.name, source: w.source, weights: w.weights, provenance: w.provenance, createdAt: w.createdAt })),
    labels: Object.fromEntries([...reportImages.flatMap((i) => [i.trueClass, i.predictedClass]), ...kept.map((e) => e.targetClass)]
      .filter((c): c is number => c !== null).map((c) => [c, label(c)])),
  };
}

/** The report's series, single methods first, then ensembles. */
function seriesOfReport(expl: ReportExplanation[]): ReportSeries[] {
  return orderSeries(expl.map((e) => e.series)).map((key) => {
    const mine = expl.filter((e) => e.series === key);
    const [method, targetRole, scoreKind] = key.split('|');
    return {
      key, label: mine[0].seriesLabel, method, targetRole, scoreKind, isEnsemble: mine[0].isEnsemble,
      classes: [...new Set(mine.map((e) => e.targetClass))].sort((a, b) => a - b), explanations: mine.length,
    };
  });
}


/** Single methods first (alphabetical), then ensembles. */
function orderMethods(methods: string[]): string[] {
  return methods.sort((a, b) => Number(a.startsWith('ensemble')) - Number(b.startsWith('ensemble')) || a.localeCompare(b));
}

function summariseRatings(store: Store, expl: ReportExplanation[], series: ReportSeries[], rater?: string): ReportData['ratings'] {
  // Per series: two targets (or score kinds) of one method are rated separately and never pooled.
  const byId = new Map(expl.map((e) => [e.id, e]));
  const likert = store.ratings.list(rater ? { rater } : {}).filter((r) => byId.has(r.explanationId));
  const choices = store.ratings.choices(rater ? { rater } : {}).filter((c) => byId.has(c.explanationA) && byId.has(c.explanationB));
  const pairs = choices.map((c) => {
    const a = byId.get(c.explanationA)!.series;
    const b = byId.get(c.explanationB)!.series;
    return { a, b, winner: c.winner === 'a' ? a : c.winner === 'b' ? b : 'tie' };
  }).filter((p) => p.a !== p.b);
  let strengths: Record<string, number> = {};
  if (pairs.length) {
    const fit = fitBradleyTerry(pairs);
    strengths = Object.fromEntries(fit.methods.map((m, i) => [m, fit.strengths[i]]));
  }
  const perMethod: RatingSummary[] = series.map(({ key, label, method }) => {
    const ls = likert.filter((r) => byId.get(r.explanationId)!.series === key).map((r) => r.likert);
    return {
      method, series: key, seriesLabel: label, likertN: ls.length, likertMean: ls.length ? ls.reduce((a, b) => a + b, 0) / ls.length : null,
      bradleyTerry: strengths[key] ?? null,
      wins: pairs.filter((p) => p.winner === key).length,
      losses: pairs.filter((p) => (p.a === key || p.b === key) && p.winner !== key && p.winner !== 'tie').length,
    };
  });
  const units = new Map<number, number[]>();
  for (const r of likert) units.set(r.explanationId, [...(units.get(r.explanationId) ?? []), r.likert]);
  const interval = krippendorffAlpha([...units.values()], 'interval');
  const ordinal = krippendorffAlpha([...units.values()], 'ordinal');
  return {
    raters: [...new Set([...likert.map((r) => r.rater), ...choices.map((c) => c.rater)])].sort(),
    likert: likert.length, pairwise: pairs.length, perMethod,
    alpha: { interval: interval.alpha, ordinal: ordinal.alpha, units: interval.units, pairable: interval.pairable },
  };
}
