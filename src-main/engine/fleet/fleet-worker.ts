// A fleet worker: takes image tasks of its model's queue (BullMQ), explains and evaluates them with the
// engine's worker threads, and leaves each task's result in Redis for the coordinator. A worker that dies
// mid-task stops renewing its BullMQ lock: the stalled-job check of the other workers puts the task back in
// the queue and another worker does it (the coordinator stores each item once, whoever did it).
// close('finish') (SIGTERM) takes no new task and finishes those in flight; close('return') (a second SIGTERM)
// puts those in flight back in the queue at once.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Provider } from '../model/classifier.ts';
import { SaliencyError } from '../types.ts';
import { EngineThreads } from './engine-threads.ts';
import { pack, unpack } from './codec.ts';
import { bullConnection, connectChecked, KEEP_SECONDS, PREFIX, queueName, resultKey, type FleetResult, type FleetTask, type TaskBody } from './queue.ts';
import { parseQueueUrl } from './redis-url.ts';

export interface FleetWorkerOptions {
  queue: string;
  modelPath: string;
  provider?: Provider;
  /** Tasks at once (each its own engine thread and ONNX session). Default 1. */
  concurrency?: number;
  /** ONNX Runtime threads per session (default: cores / concurrency). */
  threads?: number;
  batchSize?: number;
  /** BullMQ lock: a task whose worker has not renewed it for this long is given to another (default 30 s). */
  lockMs?: number;
  name?: string;
  log?: (line: string) => void;
}

export interface FleetWorker {
  name: string;
  queueName: string;
  modelSha256: string;
  /** 'finish': no new task, those in flight are finished; 'return': those in flight go back to the queue now. */
  close(mode: 'finish' | 'return'): Promise<void>;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export async function startFleetWorker(opts: FleetWorkerOptions): Promise<FleetWorker> {
  const q = parseQueueUrl(opts.queue);
  const bytes = await readFile(opts.modelPath).catch((e) => { throw new SaliencyError(`model ${opts.modelPath}: ${(e as Error).message}`, 'NOT_FOUND'); });
  const modelSha256 = sha256(bytes);
  const redis = await connectChecked(q);
  const concurrency = opts.concurrency ?? 1;
  const name = opts.name ?? `${os.hostname()}:${process.pid}`;
  const log = opts.log ?? (() => {});
  const threads = new EngineThreads(
    { modelPath: path.resolve(opts.modelPath), threads: opts.threads ?? Math.max(1, Math.floor(os.cpus().length / concurrency)), provider: opts.provider, batchSize: opts.batchSize },
    concurrency, modelSha256, log,
  );
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'saliency-worker-'));

  /** The task's image as a local file (its bytes from Redis, or the shared path), checked against its sha256. */
  const imageFile = async (data: FleetTask, jobId: string): Promise<{ file: string; temp: boolean }> => {
    if ('path' in data.image) {
      const b = await readFile(data.image.path);
      if (sha256(b) !== data.imageSha256) throw new SaliencyError(`${data.image.path} differs from the coordinator's copy (sha256)`, 'IMAGE_CHANGED');
      return { file: data.image.path, temp: false };
    }
    const b = await redis.getBuffer(data.image.key);
    if (!b) throw new SaliencyError(`image of task ${jobId} is no longer in redis (${data.image.key})`, 'IMAGE_GONE');
    if (sha256(b) !== data.imageSha256) throw new SaliencyError(`image of task ${jobId} arrived damaged (sha256 differs)`, 'IMAGE_DAMAGED');
    const file = path.join(scratch, `${jobId}${data.image.ext}`);
    await writeFile(file, b);
    return { file, temp: true };
  };

  const processor = async (job: Job<FleetTask>, token?: string, signal?: AbortSignal) => {
    const data = job.data;
    if (data.v !== 1) throw new UnrecoverableError(`task ${job.id}: unknown task format ${String(data.v)}`);
    if (data.modelSha256 !== modelSha256) throw new UnrecoverableError(`task ${job.id} is for model ${data.modelSha256.slice(0, 12)}, this worker has ${modelSha256.slice(0, 12)}`);
    const t0 = performance.now();
    log(`start ${job.id}`);
    const img = await imageFile(data, job.id!);
    let messages;
    try {
      messages = await threads.run(data.metrics, { ...(unpack(data.task) as TaskBody), path: img.file }, signal);
    } catch (e) {
      if (signal?.aborted && token) {
        await job.moveToWait(token);
        log(`returned ${job.id}`);
        throw new WaitingError();
      }
      throw e;
    } finally {
      if (img.temp) await unlink(img.file).catch(() => {});
    }
    const result: FleetResult = { v: 1, worker: name, millis: performance.now() - t0, messages: pack(messages) };
    await redis.set(resultKey(job.id!), JSON.stringify(result), 'EX', KEEP_SECONDS);
    log(`done ${job.id} ${messages.filter((m) => m.type === 'result' || m.type === 'judged').length} items ${result.millis.toFixed(0)} ms`);
    return { worker: name };
  };

  const lockMs = opts.lockMs ?? 30_000;
  const worker = new Worker<FleetTask>(queueName(modelSha256), processor, {
    connection: bullConnection(q), prefix: PREFIX, concurrency, name,
    lockDuration: lockMs, stalledInterval: lockMs,
    // a task whose worker died twice is failed (the coordinator records its items as errors) rather than
    // killing the whole fleet one worker after another
    maxStalledCount: 2,
  });
  worker.on('error', (e) => log(`error ${e.message}`));
  worker.on('failed', (job, e) => { if (job && !(e instanceof WaitingError)) log(`failed ${job.id}: ${e.message}`); });
  await worker.waitUntilReady();

  let closing: Promise<void> | undefined;
  return {
    name, queueName: queueName(modelSha256), modelSha256,
    close(mode) {
      if (mode === 'return') worker.cancelAllJobs('worker shutting down');
      closing ??= (async () => {
        await worker.close();
        await threads.close();
        redis.disconnect();
        rmSync(scratch, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}
