// Metrics for explanations: computeMetrics judges one map (through the shared scheduler, with random-map
// controls) and returns rows ready for the store; evaluateStored does it for explanations already stored.
// Every path that computes a metric of a stored map comes through here, so every row follows the evaluation
// protocol (engine/protocol.ts): faithfulness curves on the target's probability whatever the map explained,
// and the row records the protocol version.
import type { Classifier } from '../model/classifier.ts';
import type { Store } from '../store/store.ts';
import type { MetricInput as StoredMetric, StoredExplanation } from '../store/results-repo.ts';
import type { PreparedImage } from '../explain/types.ts';
import type { Annotation, Metric } from '../metrics/types.ts';
import { getMetric } from '../metrics/registry.ts';
import { getExplainer } from '../explain/registry.ts';
import { SaliencyError } from '../types.ts';
import { StoredImages } from './stored-images.ts';
import { PROTOCOL_VERSION, metricTarget } from '../protocol.ts';

export interface MetricPlan { metric: Metric; settings: Record<string, unknown> }

/** Validates metric names and settings up front (before any work is done). */
export function planMetrics(names: string[], settings: Record<string, Record<string, unknown>> = {}): MetricPlan[] {
  return names.map((name) => {
    const metric = getMetric(name);
    return { metric, settings: metric.settings(settings[name] ?? {}) };
  });
}

type Judged = Pick<StoredExplanation, 'id' | 'method' | 'map' | 'targetClass' | 'scoreKind' | 'settings' | 'seed'>;

export interface MetricOutcome {
  rows: StoredMetric[];
  errors: { explanationId: number; metric: string; error: string }[];
}

/** `annotation`: the image's ground truth on the model-input grid, for localisation metrics (pointing game). */
export async function computeMetrics(model: Classifier, image: PreparedImage, e: Judged, plans: MetricPlan[], seed: number, signal?: AbortSignal, annotation?: Annotation): Promise<MetricOutcome> {
  const out: MetricOutcome = { rows: [], errors: [] };
  const explained = { classIndex: e.targetClass, score: e.scoreKind };
  for (const { metric, settings } of plans) {
    if (signal?.aborted) throw new SaliencyError('cancelled', 'CANCELLED');
    try {
      // Metrics that re-run the explainer need one: ensembles have none to re-run.
      const rerun = metric.tags.needs.explainerReruns;
      if (rerun && e.method.startsWith('ensemble')) throw new SaliencyError(`${metric.name} re-runs the explainer, and ${e.method} has none to re-run`, 'BAD_METRIC');
      const explainer = rerun ? { explainer: getExplainer(e.method), settings: e.settings, seed: e.seed } : undefined;
      const r = await metric.compute({ image, target: metricTarget(metric, explained), map: e.map, model, explainer, signal, annotation }, settings, seed);
      out.rows.push({
        explanationId: e.id, name: metric.name, value: r.value, curve: r.curve ?? null, randomValue: r.control?.value ?? null, seed, settings: r.settings,
        protocol: PROTOCOL_VERSION,
      });
    } catch (err) {
      if (!(err instanceof SaliencyError) || err.code === 'CANCELLED') throw err;
      out.errors.push({ explanationId: e.id, metric: metric.name, error: err.message });
    }
  }
  return out;
}

export interface EvaluateStoredOptions {
  metrics: string[];
  /** Partial settings per metric name. */
  settings?: Record<string, Record<string, unknown>>;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export async function evaluateStored(store: Store, model: Classifier, explanationIds: number[], opts: EvaluateStoredOptions): Promise<{ saved: number; errors: MetricOutcome['errors'] }> {
  const plans = planMetrics(opts.metrics, opts.settings);
  const images = new StoredImages(store, model);
  let saved = 0;
  const errors: MetricOutcome['errors'] = [];
  let done = 0;
  for (const id of explanationIds) {
    const e = store.explanations.get(id);
    if (!e) throw new SaliencyError(`no explanation with id ${id}`, 'NOT_FOUND');
    const img = await images.load(e.imageId);
    const r = await computeMetrics(model, img.prepared, e, plans, opts.seed ?? 0, opts.signal);
    store.transaction(() => { for (const row of r.rows) store.metrics.save(row); });
    saved += r.rows.length;
    errors.push(...r.errors);
    opts.onProgress?.(++done, explanationIds.length);
  }
  return { saved, errors };
}
