// Stopping job workers without killing live ONNX Runtime sessions: `worker.terminate()` while a session runs
// in the thread can abort the whole process (SIGABRT, "terminate called after throwing 'Napi::Error'").
// Each worker is asked to stop ({type:'stop'}: it finishes the image in flight, disposes its session and
// closes its port, so its thread exits); terminate() is only the last resort for one still there after the grace.
import type { Worker } from 'node:worker_threads';
import type { ToWorker } from './protocol.ts';

/** Default grace: longer than any one image takes with a method's default settings. */
export const STOP_GRACE_MS = 120_000;

/** Resolves once every worker has exited (asked to stop; terminated only if still running after graceMs). */
export function stopWorkers(workers: Worker[], graceMs = STOP_GRACE_MS): Promise<void> {
  return Promise.all(workers.map((w) => new Promise<void>((resolve) => {
    if (w.threadId === -1) return resolve(); // already exited
    let timer: NodeJS.Timeout | undefined;
    w.once('exit', () => { clearTimeout(timer); resolve(); });
    timer = setTimeout(() => void w.terminate(), graceMs);
    try {
      w.postMessage({ type: 'stop' } satisfies ToWorker);
    } catch {
      void w.terminate();
    }
  }))).then(() => undefined);
}
