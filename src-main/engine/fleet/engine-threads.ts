// A fleet worker explains with the engine's own worker threads (jobs/worker.ts, the code path of local jobs):
// one thread = one ONNX session, doing one image task at a time. A thread computes the metrics it was started
// with, so threads are kept per metric configuration; the heavy work stays off the main event loop, which
// keeps renewing BullMQ's job locks on time.
import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '../jobs/ts-worker.ts';
import { canonicalJson } from '../store/json.ts';
import { SaliencyError } from '../types.ts';
import { whenAborted } from '../util/abort.ts';
import type { FromWorker, ImageTask, WorkerInit } from '../jobs/protocol.ts';

interface Thread { worker: Worker; key: string; ready: Promise<void>; busy: boolean; fail: (e: Error) => void }

export class EngineThreads {
  private threads: Thread[] = [];
  private nextTask = 1;

  constructor(private base: Omit<WorkerInit, 'metrics'>, private size: number, private modelSha256: string, private log: (line: string) => void = () => {}) {}

  /** Runs one image task; resolves with every message the thread posted for it, up to its 'task-done'. */
  async run(metrics: WorkerInit['metrics'], task: Omit<ImageTask, 'taskId'>, signal?: AbortSignal): Promise<FromWorker[]> {
    const t = this.take(metrics);
    try {
      await t.ready;
      return await new Promise<FromWorker[]>((resolve, reject) => {
        const taskId = this.nextTask++;
        const out: FromWorker[] = [];
        const onMessage = (m: FromWorker) => {
          if (!('taskId' in m) || m.taskId !== taskId) return;
          if (m.type === 'task-done') { done(); resolve(out); } else out.push(m);
        };
        const onAbort = () => { done(); this.drop(t); reject(new SaliencyError('task returned to the queue', 'ABORTED')); };
        const done = () => { t.worker.off('message', onMessage); stopWatching(); t.fail = () => {}; };
        t.fail = (e) => { done(); reject(e); };
        t.worker.on('message', onMessage);
        const stopWatching = whenAborted(signal, onAbort);
        if (signal?.aborted) return onAbort(); // asked while the thread was starting
        t.worker.postMessage({ ...task, taskId });
      });
    } finally {
      t.busy = false;
    }
  }

  /** An idle thread for these metrics: an existing one, a new one, or one of another configuration replaced. */
  private take(metrics: WorkerInit['metrics']): Thread {
    const key = canonicalJson(metrics);
    let t = this.threads.find((x) => !x.busy && x.key === key);
    if (!t) {
      if (this.threads.length >= this.size) {
        const idle = this.threads.find((x) => !x.busy);
        if (!idle) throw new SaliencyError('no idle engine thread (more tasks than --concurrency)', 'BUSY');
        this.drop(idle);
      }
      t = this.spawn(metrics, key);
    }
    t.busy = true;
    return t;
  }

  private spawn(metrics: WorkerInit['metrics'], key: string): Thread {
    const worker = startTsWorker(new URL('../jobs/worker.ts', import.meta.url), { ...this.base, metrics } as unknown as Record<string, unknown>);
    const t: Thread = { worker, key, busy: false, ready: Promise.resolve(), fail: () => {} };
    t.ready = new Promise<void>((resolve, reject) => {
      const onReady = (m: FromWorker) => {
        if (m.type === 'fatal') reject(new SaliencyError(`engine thread could not start: ${m.message}`, m.code));
        if (m.type !== 'ready') return;
        worker.off('message', onReady);
        if (m.info.sha256 !== this.modelSha256) reject(new SaliencyError(`model ${this.base.modelPath} changed on disk (sha256 ${m.info.sha256.slice(0, 12)})`, 'MODEL_CHANGED'));
        else { this.log(`engine thread ready: ${m.info.providerNote}`); resolve(); }
      };
      worker.on('message', onReady);
    });
    t.ready.catch(() => {});
    const died = (why: string) => {
      this.threads = this.threads.filter((x) => x !== t);
      t.fail(new SaliencyError(`engine thread stopped: ${why}`, 'WORKER_CRASH'));
    };
    worker.on('error', (e) => died(e.message));
    worker.on('exit', (code) => died(`exit code ${code}`));
    this.threads.push(t);
    return t;
  }

  private drop(t: Thread): void {
    this.threads = this.threads.filter((x) => x !== t);
    t.fail = () => {};
    void t.worker.terminate();
  }

  async close(): Promise<void> {
    const all = this.threads;
    this.threads = [];
    await Promise.all(all.map((t) => { t.fail = () => {}; return t.worker.terminate(); }));
  }
}
