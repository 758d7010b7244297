// The coordinator of a fleet job: puts every pending image of the job in the model's BullMQ queue at once
// (the fleet works on while the coordinator is away), collects finished tasks and stores each item with the
// commits of local jobs (jobs/commit.ts: one transaction per item, upserts), and only then deletes the task
// and its result from Redis: that is the acknowledgement. A coordinator killed at any point loses nothing:
// `saliency jobs resume` adds the job's pending images again (a no-op for those still in Redis, BullMQ job
// ids being deterministic) and collects the results that waited there. An image's ensembles are built here
// from its stored maps once its methods are in, as local jobs do, and their metrics computed by the fleet.
// Pause takes the job's waiting tasks out of the queue and waits for those being done; cancel stops at once.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Queue, type JobType } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Store } from '../store/store.ts';
import type { JobItem, JobRecord } from '../store/jobs-repo.ts';
import type { RunRecord } from '../store/results-repo.ts';
import type { BuiltEnsemble } from '../pipeline/ensemble-stored.ts';
import { SaliencyError } from '../types.ts';
import { isEnsembleItem, parseMethodSpec } from '../jobs/methods.ts';
import { processAlive, type JobEvent } from '../jobs/runner.ts';
import { buildEnsembleItems, finishJob, JobTally, saveExplained, saveItemError, saveJudged } from '../jobs/commit.ts';
import type { FromWorker, MetricsOutcome } from '../jobs/protocol.ts';
import { pack, unpack } from './codec.ts';
import { bullConnection, connectChecked, fleetKey, imageKey, KEEP_SECONDS, PREFIX, queueName, resultKey, taskId, type FleetResult, type FleetTask, type TaskBody } from './queue.ts';
import { parseQueueUrl } from './redis-url.ts';

export type FleetEvent = JobEvent
  | { type: 'enqueued'; tasks: number; queue: string; inRedis: number }
  /** Workers serving the queue, the whole queue's waiting/active tasks, this job's rate and time left. */
  | { type: 'fleet'; workers: number | null; waiting: number; active: number; itemsPerSecond: number; etaSeconds: number | null }
  | { type: 'requeued'; task: string; why: string };

export interface FleetRunOptions {
  /** redis://[user:pass@]host:port[/db] or rediss://... */
  queue: string;
  retryErrors?: boolean;
  /** Send image paths (every worker reads the same files, e.g. NFS) instead of the images' bytes. */
  sharedPaths?: boolean;
  onEvent?: (e: FleetEvent) => void;
  /** How often finished tasks are collected, ms (default 200). */
  pollMs?: number;
  topK?: number;
}

interface Task {
  imageId: number; path: string; items: JobItem[]; open: Set<number>; predictionSaved: boolean;
  phase: 'explain' | 'ensemble';
  built: Map<number, BuiltEnsemble>;
  /** The BullMQ job doing its current phase, while there is one. */
  bullId: string | null;
}

const ALL_STATES: JobType[] = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FleetRunner {
  private stopping: 'pause' | 'cancel' | null = null;
  private tally!: JobTally;
  private job!: JobRecord;
  private key = '';
  private modelSha = '';
  private runs = new Map<number, RunRecord>();
  private runIds?: number[];
  private byBull = new Map<string, Task>();
  private queue!: Queue;
  private redis!: Redis;
  /** When each item was stored (the last 30 s): the job's rate. */
  private itemTimes: number[] = [];

  constructor(private store: Store, readonly jobId: number, private opts: FleetRunOptions) {}

  /** Stops after the tasks being done; waiting ones leave the queue. The job stays resumable. */
  pause(): void { this.stopping ??= 'pause'; }
  /** Stops now; tasks being done finish in the fleet and wait in Redis for a resume. */
  cancel(): void { this.stopping = 'cancel'; }

  async run(): Promise<JobRecord> {
    const q = parseQueueUrl(this.opts.queue);
    this.redis = await connectChecked(q); // before the job is touched: a bad URL or password changes nothing
    try {
      this.job = this.store.jobs.claim(this.jobId, process.pid, processAlive, { retryErrors: this.opts.retryErrors });
      this.store.jobs.setQueue(this.jobId, q.display);
      const model = this.store.models.get(this.job.modelId);
      if (!model) throw new SaliencyError(`job ${this.jobId}: its model is not in the database`, 'BAD_JOB');
      this.modelSha = model.sha256;
      this.key = fleetKey(this.store, this.job);
      this.queue = new Queue(queueName(this.modelSha), {
        connection: bullConnection(q), prefix: PREFIX,
        // a task whose processing throws (an image that cannot be fetched, a crashed engine thread) is tried
        // three times; finished tasks left unacknowledged go after KEEP_SECONDS
        defaultJobOptions: { attempts: 3, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: { age: KEEP_SECONDS }, removeOnFail: { age: KEEP_SECONDS } },
      });
      this.queue.on('error', () => {});
      try {
        return await this.runClaimed();
      } catch (e) {
        this.store.jobs.setStatus(this.jobId, 'paused', { pid: null, error: (e as Error).message });
        throw e;
      } finally {
        await this.queue.close();
      }
    } finally {
      this.redis.disconnect();
    }
  }

  private async runClaimed(): Promise<JobRecord> {
    const { store, jobId } = this;
    const pending = store.jobs.pendingItems(jobId, { retryErrors: this.opts.retryErrors });
    for (const it of pending) if (it.runId !== null && !this.runs.has(it.runId)) this.runs.set(it.runId, store.runs.get(it.runId)!);
    this.tally = new JobTally({ ...this.job.counts, pending: pending.length, error: this.job.counts.error - (this.opts.retryErrors ? pending.filter((p) => p.status === 'error').length : 0) }, (e) => this.emit(e));
    const tasks: Task[] = [];
    for (const it of pending) {
      const last = tasks[tasks.length - 1];
      if (last && last.imageId === it.imageId) { last.items.push(it); last.open.add(it.id); }
      else tasks.push({ imageId: it.imageId, path: it.path, items: [it], open: new Set([it.id]), predictionSaved: false, phase: 'explain', built: new Map(), bullId: null });
    }
    this.emit({ type: 'started', job: this.job, pending: pending.length, workers: await this.workers() ?? 0 });

    // Everything goes into the queue now. What is in Redis already (a coordinator died) stays as it is.
    const inRedis = new Set((await this.queue.getRanges(ALL_STATES, 0, -1)).filter((id) => id.startsWith(`${this.key}-`)));
    const batch: Task[] = [];
    for (const task of tasks) {
      if (task.items.some((it) => !isEnsembleItem(it.method))) {
        const id = taskId(this.key, task.imageId, 'x');
        if (inRedis.has(id)) this.track(task, id);
        else batch.push(task);
        if (batch.length >= 64) await this.enqueueExplain(batch.splice(0));
      } else {
        task.phase = 'ensemble'; // its methods were stored before: on to its ensembles
        await this.advance(task, inRedis);
      }
    }
    await this.enqueueExplain(batch);
    this.emit({ type: 'enqueued', tasks: this.byBull.size, queue: queueName(this.modelSha), inRedis: inRedis.size });

    let lastFleet = 0;
    let lastCheck = Date.now();
    let withdrawn = false;
    for (;;) {
      const s = store.jobs.status(jobId);
      if (s === 'paused') this.pause();
      else if (s === 'cancelled') this.cancel();
      if (this.stopping === 'cancel') { await this.withdraw(); break; }
      if (this.stopping === 'pause' && !withdrawn) { withdrawn = true; await this.withdraw(); }
      const [done, failed] = await Promise.all([this.queue.getRanges(['completed'], 0, -1, true), this.queue.getRanges(['failed'], 0, -1, true)]);
      for (const id of done) if (id.startsWith(`${this.key}-`)) await this.collect(id, 'completed');
      for (const id of failed) if (id.startsWith(`${this.key}-`)) await this.collect(id, 'failed');
      if (this.byBull.size === 0) { if (!this.stopping) await this.sweep(); break; }
      if (Date.now() - lastFleet >= 1000) { lastFleet = Date.now(); await this.fleetStatus(); }
      // a task no longer in Redis (removed by hand, or memory evicted) is added again
      if (Date.now() - lastCheck >= 10_000) { lastCheck = Date.now(); await this.recover(); }
      await sleep(this.opts.pollMs ?? 200);
    }
    return finishJob(this.store, this.jobId, this.stopping === 'cancel' ? 'cancelled' : this.stopping === 'pause' ? 'paused' : 'done', (e) => this.emit(e));
  }

  private track(task: Task, id: string): void {
    task.bullId = id;
    this.byBull.set(id, task);
  }

  /** The image's bytes (or shared path) and a task per image for its open methods. */
  private async enqueueExplain(tasks: Task[]): Promise<void> {
    if (tasks.length === 0) return;
    const jobs: { name: string; data: FleetTask; opts: { jobId: string } }[] = [];
    const pipe = this.redis.pipeline();
    for (const task of tasks) {
      const image = await this.imageRef(task, pipe);
      if (!image) continue;
      const methods = task.items.filter((it) => task.open.has(it.id) && !isEnsembleItem(it.method));
      const body: TaskBody = {
        type: 'task', topK: this.opts.topK ?? 5,
        items: methods.map((it) => {
          const m = parseMethodSpec(it.method, this.job.params.score);
          const run = this.runs.get(it.runId!)!;
          return { kind: 'explain', itemId: it.id, method: m.name, score: m.score, settings: run.settings, seed: run.seed };
        }),
      };
      const id = taskId(this.key, task.imageId, 'x');
      jobs.push({ name: 'explain', data: this.taskData(image, body), opts: { jobId: id } });
      this.track(task, id);
    }
    await pipe.exec();
    await this.queue.addBulk(jobs);
  }

  private taskData(image: { ref: FleetTask['image']; sha256: string }, body: TaskBody): FleetTask {
    const p = this.job.params;
    return { v: 1, modelSha256: this.modelSha, imageSha256: image.sha256, image: image.ref, metrics: { names: p.metrics ?? [], settings: p.metricSettings ?? {}, seed: p.seed }, task: pack(body) };
  }

  /** Reads the image (its bytes go to Redis unless paths are shared); a file that is gone fails its items here. */
  private async imageRef(task: Task, pipe: ReturnType<Redis['pipeline']>): Promise<{ ref: FleetTask['image']; sha256: string } | null> {
    let bytes: Buffer;
    try {
      bytes = await readFile(task.path);
    } catch (e) {
      for (const id of [...task.open]) this.fail(task, id, `${task.path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message}`, 'NOT_FOUND');
      return null;
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (this.opts.sharedPaths) return { ref: { path: path.resolve(task.path) }, sha256 };
    const key = imageKey(this.key, task.imageId);
    pipe.set(key, bytes, 'EX', KEEP_SECONDS);
    return { ref: { key, ext: path.extname(task.path) }, sha256 };
  }

  /** Stores a finished task's items, acknowledges it, and moves its image on to its ensembles. */
  private async collect(id: string, state: 'completed' | 'failed'): Promise<void> {
    const task = this.byBull.get(id);
    const job = await this.queue.getJob(id);
    if (!task) {
      // stored by an earlier coordinator that died before acknowledging it, or withdrawn: only the ack is left
      await this.redis.del(resultKey(id));
      if (job) await job.remove().catch(() => {});
      return;
    }
    if (!job) return; // removed meanwhile; recover() adds it again
    if (state === 'completed') {
      const raw = await this.redis.get(resultKey(id));
      if (raw === null) return this.requeue(task, id, 'its result is no longer in redis');
      const result = JSON.parse(raw) as FleetResult;
      this.apply(task, unpack(result.messages) as FromWorker[]);
    } else {
      for (const itemId of this.phaseItems(task)) this.fail(task, itemId, `fleet: ${job.failedReason}`, 'FLEET_FAILED');
    }
    // an item the worker said nothing about (it should not happen) is not left pending forever
    for (const itemId of this.phaseItems(task)) this.fail(task, itemId, 'fleet: the worker returned no result for this item', 'FLEET_FAILED');
    // the result goes before the BullMQ job: a coordinator killed between the two leaves a completed job
    // (acknowledged on resume by the branch above), never a result no job points to
    await this.redis.del(resultKey(id));
    await job.remove().catch(() => {});
    this.byBull.delete(id);
    task.bullId = null;
    await this.advance(task);
  }

  /** The open items of the task's current phase. */
  private phaseItems(task: Task): number[] {
    return task.phase === 'explain'
      ? task.items.filter((it) => task.open.has(it.id) && !isEnsembleItem(it.method)).map((it) => it.id)
      : [...task.built.keys()].filter((id) => task.open.has(id));
  }

  private apply(task: Task, messages: FromWorker[]): void {
    for (const m of messages) {
      if (m.type === 'result') {
        if (!task.open.has(m.itemId) || task.phase !== 'explain') continue;
        const item = task.items.find((i) => i.id === m.itemId)!;
        saveExplained(this.store, this.job.modelId, item, m, !task.predictionSaved);
        task.predictionSaved = true;
        this.close(task, item, m.metrics);
      } else if (m.type === 'judged') {
        const built = task.built.get(m.itemId);
        if (!task.open.has(m.itemId) || !built) continue;
        const item = task.items.find((i) => i.id === m.itemId)!;
        saveJudged(this.store, item, built, m.metrics);
        task.built.delete(m.itemId);
        this.close(task, item, m.metrics);
      } else if (m.type === 'item-error') {
        this.fail(task, m.itemId, m.message, m.code);
      }
    }
  }

  /** After the methods: the image's ensembles, built from its stored maps; their metrics go to the fleet. */
  private async advance(task: Task, inRedis?: Set<string>): Promise<void> {
    if (this.stopping === 'cancel') return;
    if (task.phase === 'explain') task.phase = 'ensemble';
    const runIds = (this.runIds ??= this.store.jobs.runIds(this.jobId));
    const { built, failed } = buildEnsembleItems(this.store, this.job, runIds, task.items.filter((it) => task.open.has(it.id) && !task.built.has(it.id)));
    for (const [itemId, b] of built) task.built.set(itemId, b);
    for (const f of failed) this.fail(task, f.itemId, f.message, f.code);
    if (task.built.size > 0 && !this.job.params.metrics?.length) {
      for (const itemId of [...task.built.keys()]) this.apply(task, [{ type: 'judged', taskId: 0, itemId, metrics: { rows: [], errors: [] }, millis: 0 }]);
    }
    if (task.built.size > 0) {
      const id = taskId(this.key, task.imageId, 'e');
      if (inRedis?.has(id)) return this.track(task, id);
      const pipe = this.redis.pipeline();
      const image = await this.imageRef(task, pipe);
      if (!image) return;
      await pipe.exec();
      const body: TaskBody = {
        type: 'task', topK: this.opts.topK ?? 5,
        items: [...task.built].map(([itemId, b]) => ({
          kind: 'judge', itemId,
          explanation: { method: b.explanation.method, targetClass: b.explanation.target.classIndex, score: b.explanation.target.score, map: b.explanation.map, settings: b.explanation.settings, seed: b.explanation.seed },
        })),
      };
      // lifo: an image's ensembles come next, not after every other image of the job
      await this.queue.add('judge', this.taskData(image, body), { jobId: id, lifo: true });
      this.track(task, id);
      return;
    }
    if (task.open.size === 0) await this.redis.del(imageKey(this.key, task.imageId));
  }

  /** The job is done: results and images of it still in Redis are garbage (a task done twice after its lock
   *  expired on a loaded worker writes its result again after the first was collected). */
  private async sweep(): Promise<void> {
    for (const pattern of [resultKey(`${this.key}-*`), `${PREFIX}:image:${this.key}-*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        cursor = next;
        if (keys.length) await this.redis.del(...keys);
      } while (cursor !== '0');
    }
  }

  /** Takes the job's tasks that no worker has started out of the queue (their items stay pending). */
  private async withdraw(): Promise<void> {
    for (const [id, task] of [...this.byBull]) {
      const removed = await this.queue.remove(id).catch(() => 0); // a task being done is locked: it stays
      if (removed !== 1) continue;
      this.byBull.delete(id);
      task.bullId = null;
      await this.redis.del(imageKey(this.key, task.imageId));
    }
  }

  /** Adds again the tasks that vanished from Redis. */
  private async recover(): Promise<void> {
    const there = new Set(await this.queue.getRanges(ALL_STATES, 0, -1));
    for (const [id, task] of [...this.byBull]) if (!there.has(id)) await this.requeue(task, id, 'it is no longer in redis');
  }

  private async requeue(task: Task, id: string, why: string): Promise<void> {
    this.emit({ type: 'requeued', task: id, why });
    await (await this.queue.getJob(id))?.remove().catch(() => {});
    this.byBull.delete(id);
    task.bullId = null;
    if (task.phase === 'explain') await this.enqueueExplain([task]);
    else { task.built.clear(); await this.advance(task); }
  }

  private async workers(): Promise<number | null> {
    try {
      return await this.queue.getWorkersCount();
    } catch {
      return null; // CLIENT LIST not allowed by this Redis
    }
  }

  private async fleetStatus(): Promise<void> {
    const c = await this.queue.getJobCounts('waiting', 'active', 'prioritized');
    const itemsPerSecond = this.itemsRate(Date.now());
    this.emit({
      type: 'fleet', workers: await this.workers(), waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0,
      itemsPerSecond, etaSeconds: itemsPerSecond > 0 ? this.tally.counts.pending / itemsPerSecond : null,
    });
  }

  /** Items per second over the last 30 s. */
  private itemsRate(now: number): number {
    this.itemTimes = this.itemTimes.filter((t) => now - t <= 30_000);
    if (this.itemTimes.length < 2) return 0;
    return this.itemTimes.length / Math.max(1, (now - this.itemTimes[0]) / 1000);
  }

  private close(task: Task, item: JobItem, metrics: MetricsOutcome): void {
    task.open.delete(item.id);
    this.itemTimes.push(Date.now());
    this.tally.stored(item, metrics);
  }

  private fail(task: Task, itemId: number, message: string, code: string): void {
    if (!task.open.has(itemId)) return;
    const item = task.items.find((i) => i.id === itemId)!;
    saveItemError(this.store, item, message, code);
    task.open.delete(itemId);
    task.built.delete(itemId);
    this.itemTimes.push(Date.now());
    this.tally.failed(item, message);
  }

  private emit(e: FleetEvent): void {
    this.opts.onEvent?.(e);
  }
}

/** Runs (or resumes) a job on the fleet until it is done, paused or cancelled. */
export function runFleetJob(store: Store, jobId: number, opts: FleetRunOptions): Promise<JobRecord> {
  return new FleetRunner(store, jobId, opts).run();
}
