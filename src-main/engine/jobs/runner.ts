// Running a batch job with worker threads. The main thread hands out one image (with its methods) at a
// time to each worker and is the only writer: each item's result (map, metric rows) is stored together
// with the item's status in one transaction. An image's ensemble items come after its methods: the main
// thread builds them from the stored maps, the same worker computes their metrics, and each is saved with
// its metrics and status in one transaction too (saves are upserts, so redoing an item never duplicates).
// Images are handed out by claiming them in the store (jobs-repo claimImage), not from a list made at the
// start: several processes may run one job together (a second `saliency run` with the same work joins the
// first) and each claims the next free image, so nothing is computed twice; the claims of a killed process are
// taken over. Killing the process loses at most the items in flight, which are still 'pending', so running the
// job again (or the other process) does exactly the missing ones. Pause and cancel, asked in this process
// (pause(), cancel()) or by another (`saliency jobs pause`, seen by polling the job's status), abort the model
// evaluations in flight at the next batch: the aborted items stay 'pending' (never stored half-done) and their
// claims are given back, so a resume redoes them.
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { Store } from '../store/store.ts';
import { claimToken, type JobCounts, type JobItem, type JobRecord, type JobStatus } from '../store/jobs-repo.ts';
import type { RunRecord } from '../store/results-repo.ts';
import type { BuiltEnsemble } from '../pipeline/ensemble-stored.ts';
import { SaliencyError } from '../types.ts';
import { isEnsembleItem, parseMethodSpec } from './methods.ts';
import type { FromWorker, ImageTask, ItemResult, JudgeResult, MetricsOutcome, ToWorker, WorkerInit } from './protocol.ts';
import { startTsWorker } from './ts-worker.ts';
import { stopWorkers } from './stop-workers.ts';
import { buildEnsembleItems, finishJob, JobTally, saveExplained, saveItemError, saveJudged } from './commit.ts';

export type JobEvent =
  | { type: 'started'; job: JobRecord; pending: number; workers: number }
  | { type: 'progress'; counts: JobCounts; itemId: number; ok: boolean }
  | { type: 'item-error'; itemId: number; imageId: number; method: string; error: string }
  /** Within an item: the fraction its method reports and the worker's model evaluations so far (all items). */
  | { type: 'item-progress'; itemId: number; fraction: number; evaluations: number }
  /** An item stopped by pause or cancel: left pending; the model evaluations its worker made after the abort arrived. */
  | { type: 'item-aborted'; itemId: number; evaluations: number; evaluationsAfterAbort: number }
  /** status 'running': this process found nothing more to claim and left the job to the others running it. */
  | { type: 'finished'; status: JobStatus; counts: JobCounts };

export interface RunJobOptions {
  /** Worker threads (default: 1 per 2 cores, at least 1). Each holds its own ONNX session. */
  workers?: number;
  /** ONNX Runtime threads per worker (default: cores / workers). */
  threadsPerWorker?: number;
  /** Also redo items that failed before. */
  retryErrors?: boolean;
  onEvent?: (e: JobEvent) => void;
  /** How often to look for a pause or cancel asked by another process, ms (default 300). */
  pollMs?: number;
  topK?: number;
}

/** Is a process still there? (A 'running' job whose process is gone was killed.) */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** How often a runner refreshes its claims (they are taken over after CLAIM_STALE_MS without one). */
const REFRESH_MS = 5_000;

interface Slot { worker: Worker; ready: boolean; task: Task | null }

/** Jobs being run in this process (database file + job id): claims are per process, so one runner per job here. */
const ACTIVE = new Set<string>();
interface Task {
  id: number; imageId: number; items: JobItem[]; open: Set<number>; predictionSaved: boolean;
  /** 'explain': the methods are with a worker; 'ensemble': the ensembles' metrics are. */
  phase: 'explain' | 'ensemble';
  /** Ensembles built, waiting for their metrics before they are saved. */
  built: Map<number, BuiltEnsemble>;
}

export class JobRunner {
  private stopping: 'pause' | 'cancel' | null = null;
  private tally!: JobTally;
  private modelId = 0;
  private job!: JobRecord;
  private runIds?: number[];
  private runs = new Map<number, RunRecord>();
  private readonly token = claimToken();
  /** Items this process stored (done) or recorded as failed: its share of a job run by several. */
  readonly share = { done: 0, error: 0 };
  /** Other processes this one left the job to when it found nothing more to claim (empty otherwise). */
  leftTo: number[] = [];

  constructor(private store: Store, readonly jobId: number, private opts: RunJobOptions = {}) {}

  /** Stops the job at the next batch of model evaluations; the items in flight stay pending (resumable). */
  pause(): void { this.stopping ??= 'pause'; this.abortInFlight?.(); }
  /** Stops now (in-flight items are dropped and stay pending). */
  cancel(): void { this.stopping = 'cancel'; this.abortInFlight?.(); this.cancelNow?.(); }
  private cancelNow?: () => void;
  private abortInFlight?: () => void;

  /** Runs the job's pending items (beside any other live process running it); resolves with the job when it
   *  is done, paused or cancelled, or (status 'running') when the rest is being done by another process. */
  async run(): Promise<JobRecord> {
    const { store, jobId } = this;
    const key = `${store.path}#${jobId}`;
    if (ACTIVE.has(key)) throw new SaliencyError(`job ${jobId} is already running in this process`, 'JOB_BUSY');
    const job = store.jobs.claim(jobId, process.pid, processAlive, { retryErrors: this.opts.retryErrors, join: true });
    ACTIVE.add(key);
    try {
      return await this.runClaimed(job);
    } finally {
      ACTIVE.delete(key);
      try { store.jobs.releaseClaims(jobId, this.token); } catch { /* the store failed: the claims die with this process */ }
    }
  }

  private async runClaimed(job: JobRecord): Promise<JobRecord> {
    const { store, jobId } = this;
    this.modelId = job.modelId;
    this.job = job;
    // Counts in events are the job's as stored (other processes may be storing items too).
    this.tally = new JobTally({ ...job.counts }, (e) => {
      if (e.type === 'progress') {
        if (e.ok) this.share.done++; else this.share.error++;
        e = { ...e, counts: store.jobs.find(jobId).counts };
      }
      this.emit(e);
    });
    const pending = job.status === 'done' ? 0 : job.counts.pending;
    const nWorkers = Math.max(1, Math.min(this.opts.workers ?? Math.max(1, Math.floor(os.cpus().length / 2)), pending || 1));
    const threads = this.opts.threadsPerWorker ?? Math.max(1, Math.floor(os.cpus().length / nWorkers));
    this.emit({ type: 'started', job, pending, workers: nWorkers });
    if (pending === 0) return this.finish('done');

    return new Promise<JobRecord>((resolve, reject) => {
      const slots: Slot[] = [];
      let taskIds = 0;
      let exhausted = false;
      let settled = false;
      let restarts = 0;
      let refreshed = Date.now();
      const poll = setInterval(() => {
        try {
          const now = store.jobs.find(jobId);
          if (now.status === 'paused') this.pause();
          else if (now.status === 'cancelled') this.cancel();
          // the process named as the job's runner was killed while this one goes on: this one is named instead
          else if (now.status === 'running' && now.pid !== process.pid && (now.pid === null || !processAlive(now.pid))) store.jobs.handOver(jobId, now.pid, process.pid);
          if (Date.now() - refreshed > REFRESH_MS) { store.jobs.refreshClaims(jobId, this.token); refreshed = Date.now(); }
        } catch { /* a busy or failing store: the next poll tries again, and the commits report real failures */ }
      }, this.opts.pollMs ?? 300);

      const end = (status: JobStatus | Error) => {
        if (settled) return;
        settled = true;
        clearInterval(poll);
        const settle = () => {
          if (status instanceof Error) {
            // the store itself may be what failed (a full disk): the job then stays 'running' under a dead pid, resumable
            try { store.jobs.setStatus(jobId, 'paused', { pid: null, error: status.message }); } catch { /* keep the first error */ }
            reject(status);
          } else {
            try { resolve(this.finish(status)); } catch (e) { reject(e); }
          }
        };
        // The workers dispose their sessions and exit (terminating a thread with a live ONNX session can abort
        // the process); the run settles once they have, except a cancel, which settles at once.
        const stopped = stopWorkers(slots.map((s) => s.worker));
        if (status === 'cancelled') settle();
        else void stopped.then(settle);
      };
      this.cancelNow = () => end('cancelled');
      this.abortInFlight = () => {
        for (const s of slots) if (s.task) s.worker.postMessage({ type: 'abort', taskId: s.task.id } satisfies ToWorker);
      };

      /** The task's methods, or (once they are stored) its ensembles' metrics; null when nothing is left for a worker. */
      const messageFor = (task: Task): ImageTask | null => {
        const methods = task.items.filter((it) => task.open.has(it.id) && !isEnsembleItem(it.method));
        if (task.phase === 'explain' && methods.length > 0) {
          return {
            type: 'task', taskId: task.id, path: task.items[0].path, topK: this.opts.topK ?? 5,
            items: methods.map((it) => {
              const m = parseMethodSpec(it.method, job.params.score);
              const run = this.runOf(it.runId!);
              return { kind: 'explain', itemId: it.id, method: m.name, score: m.score, settings: run.settings, seed: run.seed };
            }),
          };
        }
        task.phase = 'ensemble';
        this.buildEnsembles(task);
        if (task.built.size === 0) return null;
        return {
          type: 'task', taskId: task.id, path: task.items[0].path, topK: this.opts.topK ?? 5,
          items: [...task.built].map(([itemId, b]) => ({
            kind: 'judge', itemId,
            explanation: { method: b.explanation.method, targetClass: b.explanation.target.classIndex, score: b.explanation.target.score, map: b.explanation.map, settings: b.explanation.settings, seed: b.explanation.seed },
          })),
        };
      };

      const dispatch = (slot: Slot) => {
        if (settled || !slot.ready || slot.task) return;
        if (this.stopping === 'cancel') return end('cancelled');
        while (this.stopping === null && !exhausted) {
          const items = store.jobs.claimImage(jobId, this.token, processAlive);
          if (items.length === 0) { exhausted = true; break; }
          const task: Task = { id: ++taskIds, imageId: items[0].imageId, items, open: new Set(items.map((i) => i.id)), predictionSaved: false, phase: 'explain', built: new Map() };
          const msg = messageFor(task);
          if (!msg) continue; // its ensembles were stored here (no metrics to compute)
          slot.task = task;
          slot.worker.postMessage(msg);
          return;
        }
        if (slots.every((s) => !s.task)) end(this.stopping === 'pause' ? 'paused' : 'done');
      };

      const onMessage = (slot: Slot, m: FromWorker) => {
        if (settled) return;
        switch (m.type) {
          case 'ready':
            if (m.info.sha256 !== store.models.get(job.modelId)?.sha256) {
              return end(new SaliencyError(`model file ${job.modelPath} changed since job ${jobId} was created`, 'MODEL_CHANGED'));
            }
            slot.ready = true;
            return dispatch(slot);
          case 'result':
            return this.commitResult(slot.task!, m);
          case 'judged':
            return this.commitJudged(slot.task!, m);
          case 'item-error':
            return this.commitError(slot.task!, m.itemId, m.message, m.code);
          case 'item-progress':
            return this.emit({ type: 'item-progress', itemId: m.itemId, fraction: m.fraction, evaluations: m.evaluations });
          case 'item-aborted':
            // left pending, not stored: its claim is given back when this run ends
            slot.task?.open.delete(m.itemId);
            return this.emit({ type: 'item-aborted', itemId: m.itemId, evaluations: m.evaluations, evaluationsAfterAbort: m.evaluationsAfterAbort });
          case 'task-done': {
            // the same worker goes on with the image's ensembles (it still has the image decoded)
            const task = slot.task!;
            const next = task.phase === 'explain' && this.stopping === null ? messageFor(task) : null;
            if (next) { slot.worker.postMessage(next); return; }
            slot.task = null;
            return dispatch(slot);
          }
          case 'fatal':
            return end(new SaliencyError(`worker could not start: ${m.message}`, m.code));
        }
      };

      const spawn = (): Slot => {
        const init: WorkerInit = {
          modelPath: job.modelPath, threads,
          metrics: { names: job.params.metrics ?? [], settings: job.params.metricSettings ?? {}, seed: job.params.seed },
        };
        const worker = startTsWorker(new URL('./worker.ts', import.meta.url), init as unknown as Record<string, unknown>);
        const slot: Slot = { worker, ready: false, task: null };
        worker.on('message', (m: FromWorker) => {
          try { onMessage(slot, m); } catch (e) { end(e as Error); }
        });
        const died = (why: string) => {
          if (settled) return;
          const i = slots.indexOf(slot);
          if (i < 0) return;
          // The image in flight may be what killed it: its open items fail, the batch goes on.
          if (slot.task) for (const id of [...slot.task.open]) this.commitError(slot.task, id, `worker crashed: ${why}`, 'WORKER_CRASH');
          if (!slot.ready || ++restarts > 3 * nWorkers) return end(new SaliencyError(`worker stopped: ${why}`, 'WORKER_CRASH'));
          slots[i] = spawn();
        };
        worker.on('error', (e) => died(e.message));
        worker.on('exit', (code) => { if (!settled) died(`exit code ${code}`); });
        return slot;
      };
      for (let i = 0; i < nWorkers; i++) slots.push(spawn());
    });
  }

  private runOf(runId: number): RunRecord {
    let run = this.runs.get(runId);
    if (!run) this.runs.set(runId, (run = this.store.runs.get(runId)!));
    return run;
  }

  private commitResult(task: Task, m: ItemResult): void {
    if (!task.open.has(m.itemId)) return;
    const item = task.items.find((i) => i.id === m.itemId)!;
    saveExplained(this.store, this.modelId, item, m, !task.predictionSaved);
    task.predictionSaved = true;
    this.closeItem(task, item, m.metrics);
  }

  /** An ensemble with its metrics: saved (upsert), its metric rows and its item status in one transaction. */
  private commitJudged(task: Task, m: JudgeResult): void {
    const built = task.built.get(m.itemId);
    if (!task.open.has(m.itemId) || !built) return;
    const item = task.items.find((i) => i.id === m.itemId)!;
    saveJudged(this.store, item, built, m.metrics);
    task.built.delete(m.itemId);
    this.closeItem(task, item, m.metrics);
  }

  private closeItem(task: Task, item: JobItem, metrics: MetricsOutcome): void {
    task.open.delete(item.id);
    this.tally.stored(item, metrics);
  }

  /** Builds the task's open ensemble items from the maps stored for this job; one that cannot be built fails. */
  private buildEnsembles(task: Task): void {
    const runIds = (this.runIds ??= this.store.jobs.runIds(this.jobId));
    const { built, failed } = buildEnsembleItems(this.store, this.job, runIds, task.items.filter((it) => task.open.has(it.id) && !task.built.has(it.id)));
    for (const [itemId, b] of built) task.built.set(itemId, b);
    for (const f of failed) this.commitError(task, f.itemId, f.message, f.code);
    // without metrics there is nothing for a worker to do: each ensemble is saved with its status right away
    if (!this.job.params.metrics?.length) {
      for (const [itemId] of [...task.built]) this.commitJudged(task, { type: 'judged', taskId: task.id, itemId, metrics: { rows: [], errors: [] }, millis: 0 });
    }
  }

  private commitError(task: Task, itemId: number, message: string, code: string): void {
    if (!task.open.has(itemId)) return;
    const item = task.items.find((i) => i.id === itemId)!;
    saveItemError(this.store, item, message, code);
    task.open.delete(itemId);
    this.tally.failed(item, message);
  }

  /**
   * How this run ends. Its claims are given back first. When other live processes still hold images of the
   * job and the job is still 'running' (nothing more to claim, or a pause asked in this process only, e.g.
   * Ctrl-C), the job is left running for them (named by one of their pids) and this run resolves with status
   * 'running'; the last runner records 'done' (only when no item is pending) or 'paused'.
   */
  private finish(status: JobStatus): JobRecord {
    const { store, jobId } = this;
    store.jobs.releaseClaims(jobId, this.token);
    const now = store.jobs.find(jobId);
    if (status !== 'cancelled' && now.status === 'running' && now.counts.pending > 0) {
      const others = store.jobs.otherHolders(jobId, this.token, processAlive);
      const lead = now.pid !== null && now.pid !== process.pid && processAlive(now.pid) ? now.pid : null;
      if (others.length > 0 || lead !== null) {
        this.leftTo = lead !== null ? [lead, ...others.filter((p) => p !== lead)] : others;
        if (lead === null) store.jobs.handOver(jobId, now.pid, others[0]);
        const job = store.jobs.find(jobId);
        this.emit({ type: 'finished', status: job.status, counts: job.counts });
        return job;
      }
    }
    return finishJob(store, jobId, status, (e) => this.emit(e));
  }

  private emit(e: JobEvent): void {
    this.opts.onEvent?.(e);
  }
}

/** Runs (or resumes) a job to completion, pause or cancel. */
export function runJob(store: Store, jobId: number, opts: RunJobOptions = {}): Promise<JobRecord> {
  return new JobRunner(store, jobId, opts).run();
}

/** Asks a job to pause or cancel: directly if no live process runs it, else through its status (polled). */
export function requestStop(store: Store, jobId: number, what: 'paused' | 'cancelled'): JobRecord {
  const job = store.jobs.find(jobId);
  if (job.status === 'done') throw new SaliencyError(`job ${jobId} is already done`, 'JOB_DONE');
  store.jobs.setStatus(jobId, what, job.status === 'running' && job.pid !== null && processAlive(job.pid) ? {} : { pid: null });
  return store.jobs.find(jobId);
}

/** Jobs left unfinished: paused, queued, or 'running' in a process that no longer exists (crashed or killed). */
export function resumableJobs(store: Store): JobRecord[] {
  return store.jobs.list().filter((j) => j.status === 'paused' || j.status === 'queued' || (j.status === 'running' && (j.pid === null || !processAlive(j.pid))));
}
