// Background jobs of the app process: a queue that runs one job at a time (the machine's cores go to ONNX
// Runtime), with progress, time left, pause, cancel, and per-item errors that do not stop the rest of the
// batch. A job is either a list of items run here, or an external runner (the engine's resumable batch jobs in
// worker threads) that reports its own progress.
import type { Job } from './contract.ts';
import { SaliencyError } from '../engine/types.ts';
import { Eta } from '../engine/jobs/eta.ts';

export interface JobItem {
  label: string;
  run(signal: AbortSignal): Promise<void>;
}

/** A job run elsewhere (e.g. engine/jobs JobRunner): run() goes until done, paused or cancelled. */
export interface RunnerControl {
  /** report: done/failed counts so far (-1: unchanged, the call only carries an error). */
  run(report: (p: { done: number; failed: number; error?: { item: string; message: string }; itemId?: number }) => void): Promise<'done' | 'paused' | 'cancelled'>;
  pause(): void;
  cancel(): void;
}

/** Work units of a runner's items (e.g. their measured model evaluations), so the ETA weighs items by cost. */
export interface JobUnits { total: number; of(itemId: number): number }

interface JobRecord {
  job: Job;
  items: JobItem[];
  runner?: RunnerControl;
  units?: JobUnits;
  controller: AbortController;
  itemMillis: number;
  resumeWaiters: (() => void)[];
}

export class JobQueue {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly order: string[] = [];
  private running = false;
  private counter = 0;

  constructor(private readonly onChange: (job: Job) => void) {}

  add(label: string, items: JobItem[]): Job {
    return this.enqueue(label, items.length, items);
  }

  /** A job whose work is done by an external runner; `state` 'paused' lists it without starting it. */
  addRunner(label: string, total: number, runner: RunnerControl, opts: { id?: string; done?: number; failed?: number; state?: 'queued' | 'paused'; units?: JobUnits } = {}): Job {
    const job = this.enqueue(label, total, [], runner, opts);
    if (opts.units) this.jobs.get(job.id)!.units = opts.units;
    return job;
  }

  private enqueue(label: string, total: number, items: JobItem[], runner?: RunnerControl, opts: { id?: string; done?: number; failed?: number; state?: 'queued' | 'paused' } = {}): Job {
    const id = opts.id ?? `job-${Date.now().toString(36)}-${++this.counter}`;
    const job: Job = {
      id, label, state: opts.state ?? 'queued', done: opts.done ?? 0, total, failed: opts.failed ?? 0, etaSeconds: null,
      startedAt: null, finishedAt: null, current: null, errors: [],
    };
    const controller = new AbortController();
    this.jobs.set(id, { job, items, runner, controller, itemMillis: 0, resumeWaiters: [] });
    this.order.unshift(id);
    this.emit(job);
    void this.pump();
    return { ...job };
  }

  list(): Job[] {
    return this.order.map((id) => ({ ...this.jobs.get(id)!.job }));
  }

  get(id: string): JobRecord {
    const rec = this.jobs.get(id);
    if (!rec) throw new SaliencyError(`no job with id "${id}"`, 'NOT_FOUND');
    return rec;
  }

  pause(id: string): Job {
    const rec = this.get(id);
    if (rec.job.state === 'running' || rec.job.state === 'queued') {
      rec.job.state = 'paused';
      rec.runner?.pause();
      this.emit(rec.job);
    }
    else if (rec.job.state !== 'paused') throw new SaliencyError(`job ${id} is ${rec.job.state} and cannot be paused`, 'CONFLICT');
    return { ...rec.job };
  }

  resume(id: string): Job {
    const rec = this.get(id);
    if (rec.job.state !== 'paused') throw new SaliencyError(`job ${id} is ${rec.job.state}, not paused`, 'CONFLICT');
    // An external runner stopped when paused: it is queued again and resumes its pending items.
    rec.job.state = rec.job.startedAt === null || rec.runner ? 'queued' : 'running';
    rec.resumeWaiters.splice(0).forEach((w) => w());
    this.emit(rec.job);
    void this.pump();
    return { ...rec.job };
  }

  cancel(id: string): Job {
    const rec = this.get(id);
    if (['done', 'cancelled', 'failed'].includes(rec.job.state)) return { ...rec.job };
    rec.job.state = 'cancelled';
    rec.job.finishedAt = Date.now();
    rec.job.etaSeconds = null;
    rec.controller.abort();
    rec.runner?.cancel();
    rec.resumeWaiters.splice(0).forEach((w) => w());
    this.emit(rec.job);
    return { ...rec.job };
  }

  /** Resolves when every job has finished (for tests and the CLI). */
  async idle(): Promise<void> {
    while (this.running || this.order.some((id) => this.jobs.get(id)!.job.state === 'queued')) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private emit(job: Job): void {
    this.onChange({ ...job, errors: job.errors.slice(-50) });
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        // Oldest queued job first.
        const next = [...this.order].reverse().map((id) => this.jobs.get(id)!).find((r) => r.job.state === 'queued');
        if (!next) break;
        await this.runJob(next);
      }
    } finally {
      this.running = false;
    }
  }

  private async runJob(rec: JobRecord): Promise<void> {
    const { job } = rec;
    job.state = 'running';
    job.startedAt ??= Date.now();
    this.emit(job);
    if (rec.runner) return this.runExternal(rec, rec.runner);
    let lastEmit = 0;
    // Read through a function: pause() and cancel() change the state while this loop awaits.
    const state = (): Job['state'] => job.state;
    for (let i = job.done; i < rec.items.length; i++) {
      while (state() === 'paused') await new Promise<void>((r) => rec.resumeWaiters.push(r));
      if (state() === 'cancelled') return;
      const item = rec.items[i];
      job.current = item.label;
      const t0 = performance.now();
      try {
        await item.run(rec.controller.signal);
      } catch (e) {
        if (state() === 'cancelled') return;
        job.failed++;
        job.errors.push({ item: item.label, message: (e as Error).message });
      }
      rec.itemMillis += performance.now() - t0;
      job.done = i + 1;
      job.etaSeconds = Math.round((rec.itemMillis / job.done) * (job.total - job.done) / 100) / 10;
      // Progress events at most every 100 ms; the last one always.
      if (Date.now() - lastEmit > 100 || job.done === job.total) { lastEmit = Date.now(); this.emit(job); }
    }
    job.state = job.failed === job.total && job.total > 0 ? 'failed' : 'done';
    job.current = null;
    job.etaSeconds = 0;
    job.finishedAt = Date.now();
    this.emit(job);
  }

  private async runExternal(rec: JobRecord, runner: RunnerControl): Promise<void> {
    const { job } = rec;
    const state = (): Job['state'] => job.state;
    // Time left: measured from the first finished item (start-up excluded), over cost units when known, smoothed.
    const units = rec.units;
    const eta = new Eta(units ? units.total : job.total);
    let unitsDone = 0;
    let lastDone = job.done;
    let lastEmit = 0;
    let outcome: 'done' | 'paused' | 'cancelled';
    try {
      outcome = await runner.run(({ done, failed, error, itemId }) => {
        if (error) job.errors.push(error);
        if (done < 0) return; // an error note only
        unitsDone += units && itemId !== undefined ? units.of(itemId) : done - lastDone;
        lastDone = done;
        job.done = done;
        job.failed = failed;
        const left = eta.update(unitsDone, Date.now());
        job.etaSeconds = left === null ? null : Math.round(left * 10) / 10;
        if (Date.now() - lastEmit > 100 || done === job.total) { lastEmit = Date.now(); this.emit(job); }
      });
    } catch (e) {
      job.state = 'failed';
      job.errors.push({ item: job.label, message: (e as Error).message });
      job.finishedAt = Date.now();
      this.emit(job);
      return;
    }
    if (state() === 'cancelled' || outcome === 'cancelled') job.state = 'cancelled';
    else if (outcome === 'paused') { job.state = 'paused'; job.etaSeconds = null; this.emit(job); return; }
    else job.state = job.failed === job.total && job.total > 0 ? 'failed' : 'done';
    job.etaSeconds = job.state === 'done' ? 0 : null;
    job.finishedAt = Date.now();
    this.emit(job);
  }
}
