// Gradients for a loaded Classifier: its backward graph (compiled once per model file hash and set of
// differentiated tensors; kept in memory, an LRU of 4, and on disk, disk-cache.ts), fed through a batching queue
// like the forward scheduler's: concurrent callers fill each other's batches, identical (image, target) requests
// are computed once (LRU cache), and a caller's AbortSignal drops its queued work.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Classifier } from '../classifier.ts';
import type { PlanarImage, Target } from '../../types.ts';
import { SaliencyError } from '../../types.ts';
import { toModelTensor } from '../presets.ts';
import { softmaxRow } from '../../util/math.ts';
import { whenAborted } from '../../util/abort.ts';
import { cancelledError, imageKey } from '../../infer/scheduler.ts';
import { GradientGraph } from './gradient-graph.ts';
import { BackwardGraphCache, backwardCacheDir } from './disk-cache.ts';

/** The name that stands for the model input in `wrt` lists. */
export const INPUT = 'input';

export interface GradientRequest {
  image: PlanarImage;
  target: Target;
  /** A cotangent on the logits (length K) instead of the target's one-hot, e.g. e_c - e_j for a margin. */
  logitSeed?: Float32Array;
}
export interface GradientResult {
  logits: Float32Array;
  probabilities: Float32Array;
  /** Per differentiated tensor ('input' for the model input, NCHW/NHWC as the model has it): d score / d tensor. */
  grads: Record<string, Float32Array>;
  /** Per intermediate tensor: its value. */
  values: Record<string, Float32Array>;
}

/** Compiled graphs by model file hash and tensors, least recently used first; the oldest are released. */
const graphs = new Map<string, Promise<GradientGraph>>();
const MAX_GRAPHS = 4;
/** Model bytes of classifiers loaded from memory (e.g. the randomised copies of the sanity check). */
const memoryModels = new WeakMap<Classifier, Uint8Array>();

/** Makes a classifier loaded from bytes (not a file) differentiable: its bytes are kept for the compiler. */
export function registerModelBytes(model: Classifier, bytes: Uint8Array): void {
  memoryModels.set(model, bytes);
}

/** The bytes of a classifier's model: registered ones, else its file (checked against the hash it was loaded with). */
export function modelBytes(model: Classifier): Uint8Array {
  const { path, name, sha256 } = model.info;
  const held = memoryModels.get(model);
  if (held) return held;
  if (!path) throw new SaliencyError(`gradient methods need the model's file: model ${name} was not loaded from a file`, 'NO_GRADIENT');
  const bytes = readFileSync(path);
  if (createHash('sha256').update(bytes).digest('hex') !== sha256) throw new SaliencyError(`model ${name}: the file ${path} changed since it was loaded`, 'NO_GRADIENT');
  return bytes;
}

/**
 * The compiled backward graph for a model and tensors, cached per model file hash. `output` is the tensor whose
 * cotangent is fed (the logits by default; an intermediate tensor gives a vector-Jacobian product from it, e.g.
 * a feature block to the input).
 */
export function gradientGraph(model: Classifier, wrt: string[], output = model.info.logitsTensor): Promise<GradientGraph> {
  const info = model.info;
  const tensors = wrt.map((w) => (w === INPUT ? info.input.name : w));
  const key = `${info.sha256}|${output}|${tensors.join('|')}`;
  let g = graphs.get(key);
  if (g) {
    graphs.delete(key);
  } else {
    g = Promise.resolve().then(() => GradientGraph.compile(modelBytes(model), { input: info.input.name, output, wrt: tensors, label: info.name }, diskCache(model, output, tensors)));
    g.catch(() => graphs.delete(key));
  }
  graphs.set(key, g);
  while (graphs.size > MAX_GRAPHS) {
    const [oldest, evicted] = graphs.entries().next().value as [string, Promise<GradientGraph>];
    graphs.delete(oldest);
    void evicted.then((x) => x.dispose(), () => undefined);
  }
  return g;
}

/** The on-disk cache entry for a model loaded from a file (in-memory models, e.g. randomised copies, are transient). */
function diskCache(model: Classifier, output: string, wrt: string[]): BackwardGraphCache | undefined {
  const dir = backwardCacheDir();
  if (!dir || memoryModels.has(model) || !model.info.path) return undefined;
  return new BackwardGraphCache(dir, { model: model.info.sha256, input: model.info.input.name, output, wrt });
}

/** Releases every cached backward graph (tests and long sessions that switch models). */
export async function releaseGradientGraphs(): Promise<void> {
  const all = [...graphs.values()];
  graphs.clear();
  for (const g of all) await (await g.catch(() => undefined))?.dispose();
}

interface Job { key: string; req: GradientRequest; waiters: ((r: GradientResult | Error) => void)[] }

const CACHE_ENTRIES = 16;
/** Requests with their own seed are never shared or cached: each gets a unique key. */
let jobCounter = 0;

export class GradientScheduler {
  readonly stats = { requested: 0, evaluated: 0, batches: 0 };
  private queue: Job[] = [];
  private jobs = new Map<string, Job>();
  private cache = new Map<string, GradientResult>();
  private pumping = false;
  private scheduled = false;

  /** The graph it was created with gives the shapes; each batch asks the cache again (it may have been released). */
  constructor(readonly model: Classifier, private readonly graph: GradientGraph, readonly wrt: string[], readonly batchSize = model.info.batch.size) {}

  static async for(model: Classifier, wrt: string[]): Promise<GradientScheduler> {
    const key = wrt.join('|');
    let perModel = schedulers.get(model);
    if (!perModel) schedulers.set(model, (perModel = new Map()));
    let s = perModel.get(key);
    if (!s) {
      s = gradientGraph(model, wrt).then((g) => new GradientScheduler(model, g, wrt));
      perModel.set(key, s);
      s.catch(() => perModel!.delete(key));
    }
    return s;
  }

  /** Dims (without the batch) of a differentiated tensor as the model holds it. */
  dims(name: string): number[] {
    return this.graph.dims.get(name === INPUT ? this.model.info.input.name : name)!;
  }

  evaluate(reqs: GradientRequest[], opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {}): Promise<GradientResult[]> {
    const { signal, onProgress } = opts;
    if (signal?.aborted) return Promise.reject(cancelledError());
    const K = this.model.info.numClasses;
    for (const r of reqs) {
      if (!Number.isInteger(r.target.classIndex) || r.target.classIndex < 0 || r.target.classIndex >= K) {
        return Promise.reject(new SaliencyError(`target class ${r.target.classIndex} is out of range: the model has classes 0..${K - 1}`, 'BAD_SETTING'));
      }
    }
    this.stats.requested += reqs.length;
    return new Promise((resolve, reject) => {
      const out = new Array<GradientResult>(reqs.length);
      let done = 0;
      let finished = false;
      const mine: [Job, (r: GradientResult | Error) => void][] = [];
      const finish = (e?: Error) => {
        if (finished) return;
        finished = true;
        stopWatching();
        if (e) {
          for (const [job, w] of mine) this.detach(job, w);
          reject(e);
        } else {
          resolve(out);
        }
      };
      const stopWatching = whenAborted(signal, () => finish(cancelledError()));
      const place = (i: number, r: GradientResult) => {
        out[i] = r;
        done++;
        onProgress?.(done, reqs.length);
        if (done === reqs.length) finish();
      };
      reqs.forEach((req, i) => {
        const key = `${imageKey(req.image)}|${req.target.classIndex}|${req.target.score}` + (req.logitSeed ? `|seed${jobCounter++}` : '');
        const cached = this.cache.get(key);
        if (cached) { place(i, cached); return; }
        let job = this.jobs.get(key);
        if (!job) {
          job = { key, req, waiters: [] };
          this.jobs.set(key, job);
          this.queue.push(job);
        }
        const w = (r: GradientResult | Error) => (r instanceof Error ? finish(r) : place(i, r));
        job.waiters.push(w);
        mine.push([job, w]);
      });
      if (reqs.length === 0) finish();
      this.schedule();
    });
  }

  private detach(job: Job, w: (r: GradientResult | Error) => void): void {
    job.waiters = job.waiters.filter((x) => x !== w);
    const at = this.queue.indexOf(job);
    if (job.waiters.length === 0 && at >= 0) {
      this.queue.splice(at, 1);
      this.jobs.delete(job.key);
    }
  }

  private schedule(): void {
    if (this.scheduled || this.pumping || this.queue.length === 0) return;
    this.scheduled = true;
    queueMicrotask(() => { this.scheduled = false; void this.pump(); });
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, this.batchSize);
        let results: GradientResult[] | Error;
        try {
          results = await this.runBatch(batch.map((j) => j.req));
        } catch (e) {
          results = e instanceof Error ? e : new Error(String(e));
        }
        batch.forEach((job, b) => {
          this.jobs.delete(job.key);
          const r = results instanceof Error ? results : results[b];
          if (!(r instanceof Error)) this.remember(job.key, r);
          for (const w of job.waiters) w(r);
        });
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      this.pumping = false;
    }
  }

  private async runBatch(reqs: GradientRequest[]): Promise<GradientResult[]> {
    const { info } = this.model;
    const n = reqs.length;
    const K = info.numClasses;
    const x = toModelTensor(reqs.map((r) => r.image), info.preset, info.input.layout, info.input.channels);
    const seedL = new Float32Array(n * K);
    const seedP = new Float32Array(n * K);
    reqs.forEach((r, i) => {
      if (r.logitSeed) seedL.set(r.logitSeed, i * K);
      else (r.target.score === 'probability' ? seedP : seedL)[i * K + r.target.classIndex] = 1;
    });
    const run = await (await gradientGraph(this.model, this.wrt)).run(x, n, seedL, seedP);
    this.stats.evaluated += n;
    this.stats.batches++;
    return reqs.map((_, i) => {
      const logits = run.output.slice(i * K, (i + 1) * K);
      const probabilities = new Float32Array(K);
      softmaxRow(logits, 0, K, probabilities);
      const pick = (src: Record<string, Float32Array>, names: string[]) => Object.fromEntries(names.map((w) => {
        const name = w === INPUT ? info.input.name : w;
        const per = src[name].length / n;
        return [w, src[name].slice(i * per, (i + 1) * per)];
      }));
      return { logits, probabilities, grads: pick(run.grads, this.wrt), values: pick(run.values, this.wrt.filter((w) => w !== INPUT)) };
    });
  }

  private remember(key: string, r: GradientResult): void {
    this.cache.delete(key);
    this.cache.set(key, r);
    while (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
  }
}

const schedulers = new WeakMap<Classifier, Map<string, Promise<GradientScheduler>>>();
