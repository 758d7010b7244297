// What a report is made from, read from the store: a selection of images, their explanations (single
// methods and ensembles), metrics with random-map controls and curves, ratings, weight sets, runs and the
// model. Every number in the HTML, PDF, CSV and JSON comes from here.
import type { Store } from '../store/store.ts';
import type { ImageRecord } from '../store/images-repo.ts';
import { METRICS } from '../metrics/registry.ts';
import { SaliencyError } from '../types.ts';
import { krippendorffAlpha } from './krippendorff.ts';
import { fitBradleyTerry } from '../ensemble/weights/bradley-terry.ts';
import { moments, quantileSorted, sortedFinite } from '../ensemble/stats.ts';
import { APP_VERSION } from '../store/app-version.ts';
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
  /** method -> explanation id */
  explanations: Record<string, number>;
}

export interface ReportExplanation {
  id: number; imageId: number; runId: number; method: string; targetClass: number; scoreKind: string;
  evaluations: number; millis: number; seed: number;
}

export interface ReportMetric {
  explanationId: number; imageId: number; method: string; metric: string; value: number | null;
  randomControl: number | null; higherIsBetter: boolean; category: string; seed: number;
  curve: { x: number[]; y: number[] } | null;
}

export interface MetricSummary {
  method: string; metric: string; category: string; higherIsBetter: boolean; n: number; mean: number; std: number;
  median: number; controlMean: number | null;
  /** Share of images where the map beats its random-map control (by the metric's direction). */
  beatsControl: number | null;
}

export interface RatingSummary {
  method: string; likertMean: number | null; likertN: number; bradleyTerry: number | null; wins: number; losses: number;
}

export interface ReportData {
  title: string;
  createdAt: string;
  appVersion: string;
  versions: Record<string, string>;
  selection: ReportSelection;
  model: { id: number; name: string; sha256: string; preset: string | null; featureLayer: string | null; info: Record<string, unknown> };
  runs: { id: number; method: string; settings: Record<string, unknown>; seed: number; appVersion: string }[];
  methods: string[];
  images: ReportImage[];
  explanations: ReportExplanation[];
  metrics: ReportMetric[];
  summary: MetricSummary[];
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

export function collectReport(store: Store, sel: ReportSelection, labels: { label: string }[] = []): ReportData {
  const models = store.models.list();
  const model = sel.modelId !== undefined ? store.models.get(sel.modelId) : models[models.length - 1];
  if (!model) throw new SaliencyError(sel.modelId !== undefined ? `no model with id ${sel.modelId}` : 'the database has no model yet: run some explanations first', 'NOT_FOUND');
  const images = selectImages(store, sel, model.id);
  const runFilter = sel.runIds ? new Set(sel.runIds) : null;

  const reportImages: ReportImage[] = [];
  const explanations: ReportExplanation[] = [];
  const metrics: ReportMetric[] = [];
  const runIds = new Set<number>();
  for (const img of images) {
    const pred = store.predictions.get(img.id, model.id);
    const entry: ReportImage = {
      id: img.id, path: img.path, relPath: img.relPath, trueClass: img.trueClass, predictedClass: pred?.topClass ?? null,
      predictedLabel: pred ? labels[pred.topClass]?.label ?? `class ${pred.topClass}` : null,
      predictedProbability: pred?.topProbability ?? null, width: img.width, height: img.height, explanations: {},
    };
    for (const e of store.explanations.list({ imageId: img.id, modelId: model.id })) {
      if (runFilter && !runFilter.has(e.runId) && !e.method.startsWith('ensemble')) continue;
      const run = store.runs.get(e.runId)!;
      entry.explanations[e.method] = e.id; // the latest of each method
      runIds.add(e.runId);
      explanations.push({ id: e.id, imageId: img.id, runId: e.runId, method: e.method, targetClass: e.targetClass, scoreKind: e.scoreKind, evaluations: e.evaluations, millis: Math.round(e.millis), seed: run.seed });
    }
    if (Object.keys(entry.explanations).length) reportImages.push(entry);
  }
  const latest = new Set(reportImages.flatMap((i) => Object.values(i.explanations)));
  const kept = explanations.filter((e) => latest.has(e.id));
  for (const e of kept) {
    for (const m of store.metrics.list({ explanationId: e.id })) {
      const def = METRICS.get(m.name);
      const curve = m.curve && typeof m.curve === 'object' && Array.isArray((m.curve as { x?: unknown }).x) ? m.curve as { x: number[]; y: number[] } : null;
      metrics.push({
        explanationId: e.id, imageId: e.imageId, method: e.method, metric: m.name, value: m.value, randomControl: m.randomValue,
        higherIsBetter: def?.tags.higherIsBetter ?? true, category: def?.tags.category ?? 'other', seed: m.seed, curve,
      });
    }
  }
  const methods = orderMethods([...new Set(kept.map((e) => e.method))]);
  return {
    title: sel.title ?? `Saliency comparison report: ${model.name}`,
    createdAt: new Date().toISOString(),
    appVersion: APP_VERSION,
    versions: { node: process.versions.node, ...RUNTIME_VERSIONS },
    selection: sel,
    model: { id: model.id, name: model.name, sha256: model.sha256, preset: model.preset, featureLayer: model.featureLayer, info: model.info },
    runs: [...runIds].sort((a, b) => a - b).map((id) => store.runs.get(id)!).map((r) => ({ id: r.id, method: r.method, settings: r.settings, seed: r.seed, appVersion: r.appVersion })),
    methods,
    images: reportImages,
    explanations: kept,
    metrics,
    summary: summarise(metrics, methods),
    ratings: summariseRatings(store, kept, methods, sel.rater),
    weightSets: store.weightSets.list().map((w) => ({ name: w.name, source: w.source, weights: w.weights, provenance: w.provenance, createdAt: w.createdAt })),
    labels: Object.fromEntries(reportImages.flatMap((i) => [i.trueClass, i.predictedClass]).filter((c): c is number => c !== null).map((c) => [c, labels[c]?.label ?? `class ${c}`])),
  };
}

/** Single methods first (alphabetical), then ensembles. */
function orderMethods(methods: string[]): string[] {
  return methods.sort((a, b) => Number(a.startsWith('ensemble')) - Number(b.startsWith('ensemble')) || a.localeCompare(b));
}

export function summarise(metrics: ReportMetric[], methods: string[]): MetricSummary[] {
  const out: MetricSummary[] = [];
  const names = [...new Set(metrics.map((m) => m.metric))].sort();
  for (const metric of names) for (const method of methods) {
    const rows = metrics.filter((m) => m.metric === metric && m.method === method && m.value !== null && Number.isFinite(m.value));
    if (!rows.length) continue;
    const values = rows.map((r) => r.value!);
    const mo = moments(values);
    const withControl = rows.filter((r) => r.randomControl !== null && Number.isFinite(r.randomControl));
    const beats = withControl.filter((r) => (r.higherIsBetter ? r.value! > r.randomControl! : r.value! < r.randomControl!)).length;
    out.push({
      method, metric, category: rows[0].category, higherIsBetter: rows[0].higherIsBetter, n: rows.length, mean: mo.mean, std: mo.std,
      median: quantileSorted(sortedFinite(values), 0.5),
      controlMean: withControl.length ? withControl.reduce((s, r) => s + r.randomControl!, 0) / withControl.length : null,
      beatsControl: withControl.length ? beats / withControl.length : null,
    });
  }
  return out;
}

function summariseRatings(store: Store, expl: ReportExplanation[], methods: string[], rater?: string): ReportData['ratings'] {
  const byId = new Map(expl.map((e) => [e.id, e]));
  const likert = store.ratings.list(rater ? { rater } : {}).filter((r) => byId.has(r.explanationId));
  const choices = store.ratings.choices(rater ? { rater } : {}).filter((c) => byId.has(c.explanationA) && byId.has(c.explanationB));
  const pairs = choices.map((c) => {
    const a = byId.get(c.explanationA)!.method;
    const b = byId.get(c.explanationB)!.method;
    return { a, b, winner: c.winner === 'a' ? a : c.winner === 'b' ? b : 'tie' };
  }).filter((p) => p.a !== p.b);
  let strengths: Record<string, number> = {};
  if (pairs.length) {
    const fit = fitBradleyTerry(pairs);
    strengths = Object.fromEntries(fit.methods.map((m, i) => [m, fit.strengths[i]]));
  }
  const perMethod: RatingSummary[] = methods.map((method) => {
    const ls = likert.filter((r) => byId.get(r.explanationId)!.method === method).map((r) => r.likert);
    return {
      method, likertN: ls.length, likertMean: ls.length ? ls.reduce((a, b) => a + b, 0) / ls.length : null,
      bradleyTerry: strengths[method] ?? null,
      wins: pairs.filter((p) => p.winner === method).length,
      losses: pairs.filter((p) => (p.a === method || p.b === method) && p.winner !== method && p.winner !== 'tie').length,
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
