// Background jobs of the app process: a queue that runs one job at a time (the machine's cores go to ONNX
// Runtime), item by item, with progress, time left, pause, cancel, and per-item errors that do not stop
// the rest of the batch.
import type { Job } from './contract.ts';
import { SaliencyError } from '../engine/types.ts';

export interface JobItem {
  label: string;
  run(signal: AbortSignal): Promise<void>;
}

interface JobRecord {
  job: Job;
  items: JobItem[];
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
    const id = `job-${Date.now().toString(36)}-${++this.counter}`;
    const job: Job = {
      id, label, state: 'queued', done: 0, total: items.length, failed: 0, etaSeconds: null,
      startedAt: null, finishedAt: null, current: null, errors: [],
    };
    this.jobs.set(id, { job, items, controller: new AbortController(), itemMillis: 0, resumeWaiters: [] });
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
    if (rec.job.state === 'running' || rec.job.state === 'queued') { rec.job.state = 'paused'; this.emit(rec.job); }
    else if (rec.job.state !== 'paused') throw new SaliencyError(`job ${id} is ${rec.job.state} and cannot be paused`, 'CONFLICT');
    return { ...rec.job };
  }

  resume(id: string): Job {
    const rec = this.get(id);
    if (rec.job.state !== 'paused') throw new SaliencyError(`job ${id} is ${rec.job.state}, not paused`, 'CONFLICT');
    rec.job.state = rec.job.startedAt === null ? 'queued' : 'running';
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
    job.startedAt = Date.now();
    this.emit(job);
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
}
