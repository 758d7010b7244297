// Creating a batch job: every readable image of a library x every method spec (each method's settings
// validated and recorded as a run: model, method, settings, seed, app version), then per image one item per
// ensemble of those methods. Every map (method or ensemble) gets the job's metrics.
import { Classifier } from '../model/classifier.ts';
import { checkRunnable } from '../explain/runnable.ts';
import type { Store } from '../store/store.ts';
import type { JobParams, JobRecord } from '../store/jobs-repo.ts';
import { SaliencyError } from '../types.ts';
import { planMetrics } from '../pipeline/evaluate-stored.ts';
import { buildEnsemble } from '../ensemble/index.ts';
import type { EnsembleSpec } from '../ensemble/types.ts';
import { explainerFor, parseMethodSpec, type JobScore } from './methods.ts';

export interface ExplainJobSpec {
  libraryId: number;
  modelPath: string;
  /** e.g. ['gradcam', 'gradcam:probability'] */
  methods: string[];
  /** Score kind for specs without one (default 'reference': each method's protocol reference score). */
  score?: JobScore;
  /** Seed of the explainers and of the metrics (random-map controls). */
  seed?: number;
  /** Partial settings per method name. */
  settings?: Record<string, Record<string, unknown>>;
  /** Only these images (default: every readable image of the library). */
  imageIds?: number[];
  /** Metrics for every map, e.g. ['deletion', 'insertion', 'sparseness'] (each with its random-map control when it has one). */
  metrics?: string[];
  /** Partial settings per metric name, e.g. { deletion: { steps: 20 } }. */
  metricSettings?: Record<string, Record<string, unknown>>;
  /** Ensembles of the job's methods per image: combiner names ('mean', 'borda') or full specs. */
  ensembles?: (string | EnsembleSpec)[];
}

/** Metrics a batch cannot feed: ground truth per image and a second map are not part of a job. */
function checkBatchMetrics(names: string[], settings: Record<string, Record<string, unknown>> | undefined): Record<string, Record<string, unknown>> {
  const plans = planMetrics(names, settings);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new SaliencyError(`metric "${dup}" is listed twice`, 'BAD_METRIC');
  for (const { metric } of plans) {
    if (metric.tags.needs.annotations || metric.tags.needs.referenceMap) {
      throw new SaliencyError(`metric "${metric.name}" needs ${metric.tags.needs.annotations ? 'annotations' : 'a reference map'}, which a batch job does not have`, 'BAD_METRIC');
    }
  }
  return Object.fromEntries(plans.map((p) => [p.metric.name, p.settings]));
}

/** Ensemble specs checked by building each once on two tiny maps named like the job's methods (so a bad
 *  combiner, option or weight set fails now, with the ensemble module's own message). */
function checkEnsembles(ensembles: (string | EnsembleSpec)[], methodNames: string[]): EnsembleSpec[] {
  const specs = ensembles.map((e) => (typeof e === 'string' ? { combiner: e.trim() } : e));
  if (specs.length === 0) return [];
  if (methodNames.length < 2) throw new SaliencyError(`ensembles combine methods: give at least two distinct methods (have: ${methodNames.join(', ')})`, 'BAD_ENSEMBLE');
  const probe = methodNames.map((method, i) => ({
    method, target: { classIndex: 0, score: 'logit' as const }, map: { width: 2, height: 2, data: Float32Array.from([i, 1, 2, 3]) },
    evaluations: 0, settings: {}, seed: 0, extras: {}, millis: 0,
  }));
  const names = specs.map((s) => buildEnsemble(probe, s).method);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new SaliencyError(`ensemble "${dup}" is listed twice`, 'BAD_ENSEMBLE');
  return specs;
}

export async function createExplainJob(store: Store, spec: ExplainJobSpec): Promise<JobRecord> {
  const library = store.libraries.find(spec.libraryId);
  const score = spec.score ?? 'reference';
  const seed = spec.seed ?? 0;
  if (spec.methods.length === 0) throw new SaliencyError('a job needs at least one method', 'BAD_METHOD');
  const methods = spec.methods.map((m) => parseMethodSpec(m, score));
  const dup = methods.find((m, i) => methods.findIndex((o) => o.name === m.name && o.score === m.score) !== i);
  if (dup) throw new SaliencyError(`method "${dup.spec}" is listed twice`, 'BAD_METHOD');
  const metricSettings = checkBatchMetrics(spec.metrics ?? [], spec.metricSettings);
  const ensembles = checkEnsembles(spec.ensembles ?? [], [...new Set(methods.map((m) => m.name))]);
  // Loading the model checks it before anything is stored, and gives the info its row records.
  const model = await Classifier.load(spec.modelPath, { threads: 1 });
  const info = model.info;
  await model.dispose();
  checkRunnable(info, methods.map((m) => m.name));
  const images = spec.imageIds ?? store.images.allOf(library.id).filter((i) => !i.missing && !i.error).map((i) => i.id);
  if (images.length === 0) throw new SaliencyError(`library ${library.root} has no readable images (scan it first: saliency library scan ${library.id})`, 'EMPTY_LIBRARY');
  const params: JobParams = {
    methods: methods.map((m) => m.spec), score, seed, settings: spec.settings ?? {},
    ...(spec.metrics?.length ? { metrics: spec.metrics, metricSettings } : {}),
    ...(ensembles.length ? { ensembles: ensembles as unknown as JobParams['ensembles'] } : {}),
  };
  return store.transaction(() => {
    const modelRow = store.models.ensure(info);
    const runs = new Map(methods.map((m) => {
      const settings = explainerFor(m.name).settings(spec.settings?.[m.name] ?? {});
      return [m.spec, store.runs.ensure({ modelId: modelRow.id, method: m.name, settings, seed })];
    }));
    const items = images.flatMap((imageId) => [
      ...methods.map((m) => ({ imageId, method: m.spec, runId: runs.get(m.spec)!.id as number | null })),
      // an ensemble's run depends on the members it ends up with: it is known once the ensemble is built
      ...ensembles.map((e) => ({ imageId, method: `ensemble:${e.combiner}`, runId: null })),
    ]);
    return store.jobs.create({ libraryId: library.id, modelId: modelRow.id, modelPath: info.path ?? spec.modelPath, params, items });
  });
}
