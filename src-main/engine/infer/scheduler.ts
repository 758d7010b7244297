// The one batching scheduler every explainer and metric submits its (perturbed) model inputs to.
// - Pooling: inputs from concurrent callers go into one queue; a microtask flush (and the pump while a batch
//   runs) cuts the queue into batches of the model's batch size, so callers fill each other's batches.
// - Dedup: each input is keyed by a hash of its pixels; an input already scored (LRU cache of score rows, not
//   images) or already queued/running is never evaluated again.
// - Determinism: scores depend only on pixels; a cached row is the row computed the first time.
import { createHash } from 'node:crypto';
import type { Classifier } from '../model/classifier.ts';
import type { PlanarImage, Target } from '../types.ts';
import { SaliencyError } from '../types.ts';
import { whenAborted } from '../util/abort.ts';

export interface ScoreRows {
  n: number; numClasses: number; logits: Float32Array; probabilities: Float32Array; // n x K each
  /** How many of these rows this call caused to be evaluated (the rest came from the cache or another caller). */
  fresh?: number;
}
export interface EvaluateOptions { signal?: AbortSignal; onProgress?: (done: number, total: number) => void }

interface Row { logits: Float32Array; probabilities: Float32Array }

/** One distinct input waiting for (or in) a batch; several callers may wait on it. */
interface Job {
  key: string;
  image: PlanarImage;
  waiters: Set<(row: Row | Error) => void>;
  running: boolean;
}

export interface SchedulerStats { requested: number; evaluated: number; cacheHits: number; batches: number }

// 8192 rows of 1000 classes = 64 MB: room for LIME+KernelSHAP's shared set even with RISE (4000) run in between.
const DEFAULT_CACHE_ENTRIES = 8192;

export function cancelledError(): SaliencyError {
  return new SaliencyError('cancelled', 'CANCELLED');
}

/** Content hash of an image: its size and the raw float bytes. */
export function imageKey(image: PlanarImage): string {
  const d = image.data;
  return createHash('sha1')
    .update(`${image.width}x${image.height}:`)
    .update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))
    .digest('base64');
}

export class InferenceScheduler {
  readonly batchSize: number;
  readonly cacheEntries: number;
  readonly stats: SchedulerStats = { requested: 0, evaluated: 0, cacheHits: 0, batches: 0 };
  /** LRU: Map keeps insertion order; a hit re-inserts the key at the end. */
  private cache = new Map<string, Row>();
  private jobs = new Map<string, Job>();
  private queue: Job[] = [];
  private flushScheduled = false;
  private pumping = false;

  constructor(readonly model: Classifier, opts: { batchSize?: number; cacheEntries?: number } = {}) {
    this.batchSize = Math.max(1, Math.floor(opts.batchSize ?? model.info.batch.size));
    this.cacheEntries = Math.max(0, Math.floor(opts.cacheEntries ?? DEFAULT_CACHE_ENTRIES));
  }

  resetStats(): void {
    Object.assign(this.stats, { requested: 0, evaluated: 0, cacheHits: 0, batches: 0 });
  }

  /** Drops every cached score row (e.g. to measure a method's cost from scratch). */
  clearCache(): void {
    this.cache.clear();
  }

  evaluate(inputs: PlanarImage[], opts: EvaluateOptions = {}): Promise<ScoreRows> {
    const { signal, onProgress } = opts;
    const K = this.model.info.numClasses;
    const n = inputs.length;
    const out: ScoreRows = { n, numClasses: K, logits: new Float32Array(n * K), probabilities: new Float32Array(n * K), fresh: 0 };
    if (signal?.aborted) return Promise.reject(cancelledError());
    const { width, height } = this.model.info.input;
    for (const img of inputs) {
      if (img.width !== width || img.height !== height || img.data.length !== 3 * width * height) {
        return Promise.reject(new SaliencyError(`image is ${img.width}x${img.height}, the model expects ${width}x${height} (planar RGB)`, 'BAD_INPUT'));
      }
    }
    this.stats.requested += n;
    if (n === 0) return Promise.resolve(out);

    return new Promise<ScoreRows>((resolve, reject) => {
      let done = 0;
      let finished = false;
      const mine: { job: Job; waiter: (r: Row | Error) => void }[] = [];
      const fail = (e: Error) => {
        if (finished) return;
        finished = true;
        for (const { job, waiter } of mine) this.detach(job, waiter);
        stopWatching();
        reject(e);
      };
      const place = (i: number, row: Row) => {
        out.logits.set(row.logits, i * K);
        out.probabilities.set(row.probabilities, i * K);
        done++;
        onProgress?.(done, n);
        if (done === n && !finished) {
          finished = true;
          stopWatching();
          resolve(out);
        }
      };
      const stopWatching = whenAborted(signal, () => fail(cancelledError()));

      const pending: number[][] = [];
      const keys = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        const key = imageKey(inputs[i]);
        const cached = this.cache.get(key);
        if (cached) {
          this.stats.cacheHits++;
          this.cache.delete(key);
          this.cache.set(key, cached);
          place(i, cached);
          continue;
        }
        // Repeated input within this call: wait on the same job.
        const slot = keys.get(key);
        if (slot !== undefined) {
          this.stats.cacheHits++;
          pending[slot].push(i);
          continue;
        }
        let job = this.jobs.get(key);
        if (job) {
          this.stats.cacheHits++; // queued or running for another caller
        } else {
          job = { key, image: inputs[i], waiters: new Set(), running: false };
          out.fresh!++;
          this.jobs.set(key, job);
          this.queue.push(job);
        }
        keys.set(key, pending.length);
        const indices = [i];
        pending.push(indices);
        const waiter = (r: Row | Error) => {
          if (finished) return;
          if (r instanceof Error) fail(r);
          else for (const j of indices) place(j, r);
        };
        job.waiters.add(waiter);
        mine.push({ job, waiter });
      }
      this.scheduleFlush();
    });
  }

  /** Resolves once no batch runs or waits (an aborted caller's batch in flight still completes: this waits for it). */
  async whenIdle(): Promise<void> {
    while (this.pumping || this.queue.length > 0) await new Promise<void>((r) => setTimeout(r, 5));
  }

  /** A caller gave up on a job: if nobody else waits and it has not started, drop it from the queue. */
  private detach(job: Job, waiter: (r: Row | Error) => void): void {
    job.waiters.delete(waiter);
    if (job.waiters.size === 0 && !job.running) {
      this.jobs.delete(job.key);
      const at = this.queue.indexOf(job);
      if (at >= 0) this.queue.splice(at, 1);
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.pumping || this.queue.length === 0) return;
    this.flushScheduled = true;
    // A microtask: every caller that submits in the same synchronous turn lands in the same batches.
    queueMicrotask(() => {
      this.flushScheduled = false;
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.batchSize);
        for (const job of batch) job.running = true;
        let rows: Row[] | Error;
        try {
          const res = await this.model.predict(batch.map((j) => j.image));
          const K = res.numClasses;
          rows = batch.map((_, b) => ({
            logits: res.logits.slice(b * K, (b + 1) * K),
            probabilities: res.probabilities.slice(b * K, (b + 1) * K),
          }));
          this.stats.batches++;
          this.stats.evaluated += batch.length;
        } catch (e) {
          rows = e instanceof Error ? e : new Error(String(e));
        }
        for (let b = 0; b < batch.length; b++) {
          const job = batch[b];
          this.jobs.delete(job.key);
          const r = rows instanceof Error ? rows : rows[b];
          if (!(r instanceof Error)) this.remember(job.key, r);
          for (const w of [...job.waiters]) w(r);
        }
        // Let callers woken by these results queue their next inputs before the next batch is cut.
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      this.pumping = false;
    }
  }

  private remember(key: string, row: Row): void {
    if (this.cacheEntries === 0) return;
    this.cache.delete(key);
    this.cache.set(key, row);
    while (this.cache.size > this.cacheEntries) this.cache.delete(this.cache.keys().next().value as string);
  }
}

const schedulers = new WeakMap<Classifier, InferenceScheduler>();

/** One scheduler per Classifier, shared by every explainer and metric. */
export function schedulerFor(model: Classifier): InferenceScheduler {
  let s = schedulers.get(model);
  if (!s) {
    s = new InferenceScheduler(model);
    schedulers.set(model, s);
  }
  return s;
}

/** The target's score for row i (logit or probability). */
export function targetScore(rows: ScoreRows, i: number, target: Target): number {
  const src = target.score === 'probability' ? rows.probabilities : rows.logits;
  return src[i * rows.numClasses + target.classIndex];
}
