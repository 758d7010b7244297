// Decoding and preparing images for the app off its event loop. The server answers every request from one
// thread; a file whose decode or resampling takes seconds must not hold up the others, so that work runs in
// one long-lived worker thread (started on first use). Paths are checked against their library first.
import type { Worker } from 'node:worker_threads';
import { prepareImageFile, type LoadedImage } from '../engine/image/prepare.ts';
import type { Classifier } from '../engine/model/classifier.ts';
import { startTsWorker } from '../engine/jobs/ts-worker.ts';
import { realpathInside } from '../engine/store/paths.ts';
import { SaliencyError } from '../engine/types.ts';

export interface PrepRequest {
  id: number;
  file: string;
  info: { input: { width: number; height: number }; resize: Classifier['info']['resize'] };
}
/** id 0: the worker is ready (its modules loaded). */
export type PrepReply = { id: number; ok: true; loaded: LoadedImage } | { id: number; ok: false; message: string; code: string };

interface Pending { request: PrepRequest; resolve(l: LoadedImage): void; reject(e: Error): void }

export class ImagePrep {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private next = 1;
  /** The worker could not start at all (e.g. a bundle without the worker's source): work in-process instead. */
  private inline = false;
  /** The worker has loaded its modules (it says so once, with id 0). */
  private ready = false;

  /** The decoded original and the model input of a file of a library (root), computed in the worker. */
  async prepare(file: string, model: Classifier, root?: string): Promise<LoadedImage> {
    const real = root ? await realpathInside(root, file) : file;
    const { input, resize } = model.info;
    const request: PrepRequest = { id: this.next++, file: real, info: { input: { width: input.width, height: input.height }, resize } };
    if (this.inline) return prepareImageFile(request.file, { info: request.info } as unknown as Classifier);
    const done = new Promise<LoadedImage>((resolve, reject) => this.pending.set(request.id, { request, resolve, reject }));
    const w = this.start();
    w.ref(); // kept alive while it has work
    w.postMessage(request);
    return done;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = startTsWorker(new URL('./image-prep-worker.ts', import.meta.url));
    w.unref(); // an idle worker never keeps the process alive
    w.on('message', (r: PrepReply) => {
      if (r.id === 0) { this.ready = true; return; }
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (!this.pending.size) w.unref();
      if (r.ok) p.resolve(r.loaded);
      else p.reject(new SaliencyError(r.message, r.code));
    });
    const fail = (why: string) => {
      if (this.worker !== w) return;
      this.worker = null; // the next call starts a fresh one
      const pending = [...this.pending.values()];
      this.pending.clear();
      if (!this.ready) {
        this.inline = true;
        console.error(`image decoding runs on the main thread: its worker did not start (${why})`);
        for (const p of pending) prepareImageFile(p.request.file, { info: p.request.info } as unknown as Classifier).then(p.resolve, p.reject);
        return;
      }
      for (const p of pending) p.reject(new SaliencyError(`image decoding stopped: ${why}`, 'BAD_IMAGE'));
    };
    w.on('error', (e) => fail(e.message));
    w.on('exit', (code) => fail(`the worker exited with code ${code}`));
    this.worker = w;
    return w;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    for (const p of this.pending.values()) p.reject(new SaliencyError('the app is closing', 'CANCELLED'));
    this.pending.clear();
    if (w) await w.terminate();
  }
}
