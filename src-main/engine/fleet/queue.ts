// What coordinator and workers agree on in Redis. One BullMQ queue per model (named by its sha256), so a
// worker only ever takes items it can explain; BullMQ job ids are deterministic per job item group, so adding
// one again (a resumed coordinator) is a no-op while it is still in Redis. Large values live beside the
// BullMQ jobs, in keys that expire: an image's bytes (read by workers) and a task's result (read by the
// coordinator, then deleted with the job: that is the acknowledgement). Keeping results out of the job's
// return value also keeps them out of BullMQ's event stream.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { ConnectionOptions } from 'bullmq';
import type { Store } from '../store/store.ts';
import type { JobRecord } from '../store/jobs-repo.ts';
import type { ImageTask, WorkerInit } from '../jobs/protocol.ts';
import { SaliencyError } from '../types.ts';
import { parseQueueUrl, type QueueUrl } from './redis-url.ts';

export const PREFIX = 'saliency';
/** Results and images not acknowledged within this time are dropped by Redis (and BullMQ's finished jobs). */
export const KEEP_SECONDS = 7 * 24 * 3600;

export const queueName = (modelSha256: string) => `explain-${modelSha256.slice(0, 16)}`;
/** 'x': the image's methods; 'e': the metrics of its ensembles. */
export const taskId = (jobKey: string, imageId: number, phase: 'x' | 'e') => `${jobKey}-${imageId}-${phase}`;
export const imageKey = (jobKey: string, imageId: number) => `${PREFIX}:image:${jobKey}-${imageId}`;
export const resultKey = (bullJobId: string) => `${PREFIX}:result:${bullJobId}`;

/** A job's key in Redis: the same for the same job of the same database (wherever the file moves), and
 *  different for another database's job of the same number. */
export function fleetKey(store: Store, job: JobRecord): string {
  const born = (store.db.prepare('SELECT applied_at FROM schema_version WHERE version = 1').get() as { applied_at: string } | undefined)?.applied_at ?? store.path;
  return createHash('sha256').update(`${born}|${job.id}|${job.createdAt}`).digest('hex').slice(0, 12);
}

/** The data of one BullMQ job: an ImageTask (packed) and where its image is. */
export interface FleetTask {
  v: 1;
  modelSha256: string;
  imageSha256: string;
  /** Redis key of the image's bytes, or a path every worker can read (--shared-paths). */
  image: { key: string; ext: string } | { path: string };
  metrics: WorkerInit['metrics'];
  /** ImageTask without its path, packed (codec.ts). */
  task: unknown;
}
export type TaskBody = Omit<ImageTask, 'path' | 'taskId'>;

/** Stored under resultKey: every message the engine's worker thread posted for the task (packed). */
export interface FleetResult { v: 1; worker: string; millis: number; messages: unknown }

/** Checks a queue URL and its server (reachable, credentials accepted) before anything is stored. */
export async function checkQueue(url: string): Promise<void> {
  (await connectChecked(parseQueueUrl(url))).disconnect();
}

/** BullMQ's connection options for the URL (its RedisOptions type is its own, the values are ioredis's). */
export const bullConnection = (q: QueueUrl) => q.options as unknown as ConnectionOptions;

/** A connection checked now (reachable, credentials accepted), so a bad URL or password fails with one line
 *  instead of retrying forever; afterwards connections reconnect on their own. */
export async function connectChecked(q: QueueUrl): Promise<Redis> {
  const redis = new Redis({ ...q.options, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 1 });
  // ioredis reports a refused AUTH or ready check as an 'error' event, then the connect fails with "Connection
  // is closed": the event says why
  let why = '';
  redis.on('error', (e: Error) => { why ||= e.message; });
  try {
    await redis.connect();
    await redis.ping();
  } catch (e) {
    redis.disconnect();
    const msg = why || String((e as Error).message ?? e);
    if (/NOAUTH|WRONGPASS|invalid password|invalid username/i.test(msg)) {
      throw new SaliencyError(`redis at ${q.display} refused the credentials (give them in the URL or SALIENCY_REDIS_PASSWORD)`, 'QUEUE_AUTH');
    }
    throw new SaliencyError(`cannot reach redis at ${q.display}: ${msg.split('\n')[0]}`, 'QUEUE_UNREACHABLE');
  }
  redis.disconnect();
  const live = new Redis(q.options);
  live.on('error', () => {}); // ioredis reconnects; BullMQ reports what it cannot do
  return live;
}
