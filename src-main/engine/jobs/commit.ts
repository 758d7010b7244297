// Storing a job item's outcome, shared by the local runner (worker threads) and the fleet coordinator
// (BullMQ workers): each item's map, its metric rows and its status are written in ONE transaction, and
// every write is an upsert, so storing an item again never duplicates a row.
import type { Store } from '../store/store.ts';
import type { JobCounts, JobItem, JobRecord, JobStatus } from '../store/jobs-repo.ts';
import type { JobEvent } from './runner.ts';
import { buildStoredEnsembles, saveBuiltEnsemble, type BuiltEnsemble } from '../pipeline/ensemble-stored.ts';
import type { EnsembleSpec } from '../ensemble/types.ts';
import { SaliencyError } from '../types.ts';
import { isEnsembleItem, parseMethodSpec } from './methods.ts';
import type { ItemResult, MetricsOutcome } from './protocol.ts';

export function metricErrorText(m: MetricsOutcome): string {
  return m.errors.map((e) => `metric ${e.metric}: ${e.error}`).join('; ');
}

/** Inside the item's transaction: its metric rows, then its status. A failed metric makes the item an error
 *  (shown, redone by --retry-errors) that still links its stored map and the metrics that worked. */
function storeOutcome(store: Store, item: JobItem, explanationId: number, millis: number, metrics: MetricsOutcome): void {
  for (const row of metrics.rows) store.metrics.save({ ...row, explanationId });
  store.jobs.completeItem(item.id, explanationId, millis);
  if (metrics.errors.length) store.jobs.failItem(item.id, metricErrorText(metrics));
}

/** An explained item: the image's prediction (once per image), the map, its metric rows and the status. */
export function saveExplained(store: Store, modelId: number, item: JobItem, m: ItemResult, withPrediction: boolean): void {
  const e = m.explanation;
  store.transaction(() => {
    if (withPrediction) store.predictions.save({ imageId: item.imageId, modelId, topK: m.prediction });
    const explanationId = store.explanations.save({
      imageId: item.imageId, runId: item.runId!, imageSha256: m.sha256,
      explanation: {
        method: e.method, target: { classIndex: e.targetClass, score: e.score }, map: e.map, native: e.native ?? undefined,
        evaluations: e.evaluations, settings: e.settings, seed: e.seed, extras: e.extras, millis: e.millis,
      },
    });
    storeOutcome(store, item, explanationId, e.millis, m.metrics);
  });
}

/** An ensemble with its metrics: saved (upsert), its metric rows and its item status. */
export function saveJudged(store: Store, item: JobItem, built: BuiltEnsemble, metrics: MetricsOutcome): void {
  store.transaction(() => storeOutcome(store, item, saveBuiltEnsemble(store, built), built.explanation.millis, metrics));
}

export function saveItemError(store: Store, item: JobItem, message: string, code: string): void {
  store.transaction(() => {
    store.jobs.failItem(item.id, message);
    // A file that vanished or does not decode is also recorded on the image, for the library view.
    if (code === 'NOT_FOUND' || code === 'BAD_IMAGE') store.images.recordError(item.imageId, message, code === 'NOT_FOUND');
  });
}

/** Builds the ensemble items among these from the maps stored for the job's runs; those that cannot be built
 *  come back with the reason. */
export function buildEnsembleItems(store: Store, job: JobRecord, runIds: number[], items: JobItem[]): {
  built: [number, BuiltEnsemble][]; failed: { itemId: number; message: string; code: string }[];
} {
  const specs = (job.params.ensembles ?? []) as unknown as EnsembleSpec[];
  const methodNames = job.params.methods.map((m) => parseMethodSpec(m, job.params.score).name);
  const out: ReturnType<typeof buildEnsembleItems> = { built: [], failed: [] };
  for (const item of items.filter((it) => isEnsembleItem(it.method))) {
    try {
      const spec = specs.find((s) => `ensemble:${s.combiner}` === item.method);
      if (!spec) throw new SaliencyError(`job ${job.id} has no ensemble spec for ${item.method}`, 'BAD_JOB');
      const { built, skipped } = buildStoredEnsembles(store, { modelId: job.modelId, imageIds: [item.imageId], specs: [spec], members: methodNames, runIds });
      if (skipped.length) throw new SaliencyError(`${item.method}: ${skipped[0].reason}`, 'NO_MEMBERS');
      out.built.push([item.id, built[0]]);
    } catch (e) {
      if (!(e instanceof SaliencyError)) throw e;
      out.failed.push({ itemId: item.id, message: e.message, code: e.code });
    }
  }
  return out;
}

/** A running job's counts and its progress events, as its items are stored or fail. */
export class JobTally {
  constructor(readonly counts: JobCounts, private emit: (e: JobEvent) => void) {}

  /** An item stored with its metrics; a metric that failed makes it an error. */
  stored(item: JobItem, metrics: MetricsOutcome): void {
    if (metrics.errors.length) return this.failed(item, metricErrorText(metrics));
    this.counts.pending--;
    this.counts.done++;
    this.emit({ type: 'progress', counts: { ...this.counts }, itemId: item.id, ok: true });
  }

  failed(item: JobItem, message: string): void {
    this.counts.error++;
    this.counts.pending--;
    this.emit({ type: 'item-error', itemId: item.id, imageId: item.imageId, method: item.method, error: message });
    this.emit({ type: 'progress', counts: { ...this.counts }, itemId: item.id, ok: false });
  }
}

/** Records how a run of the job ended. A pause or cancel asked from outside is already the stored status;
 *  'done' only when nothing is left. */
export function finishJob(store: Store, jobId: number, status: JobStatus, emit: (e: JobEvent) => void): JobRecord {
  const left = store.jobs.find(jobId).counts.pending;
  const final: JobStatus = status === 'done' && left > 0 ? 'paused' : status;
  store.jobs.setStatus(jobId, final, { pid: null });
  const job = store.jobs.find(jobId);
  emit({ type: 'finished', status: final, counts: job.counts });
  return job;
}
