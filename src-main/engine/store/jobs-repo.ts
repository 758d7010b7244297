// Batch jobs and their items (one image x one method or one ensemble each). An item is 'pending' until its result is
// committed together with status 'done' (or 'error') in one transaction, so after a crash the pending items
// are exactly the work left; UNIQUE(job, image, method) rules out duplicate items. Several processes may run
// one job together: each claims one image's pending items at a time (claimImage), so none is computed twice.
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { ScoreKind } from '../types.ts';
import { SaliencyError } from '../types.ts';
import { canonicalJson, parseJson } from './json.ts';

export type JobStatus = 'queued' | 'running' | 'paused' | 'cancelled' | 'done';

export interface JobParams {
  /** Method specs: a method name, optionally with the score kind, e.g. 'gradcam' or 'gradcam:probability'. */
  methods: string[];
  /** Default score kind of the target (top-1 class of the model); 'reference': each method's protocol reference score. */
  score: ScoreKind | 'reference';
  seed: number;
  /** Partial settings per method name. */
  settings: Record<string, Record<string, unknown>>;
  /** Metrics computed for every explanation of the job (absent: none), and their filled settings per name. */
  metrics?: string[];
  metricSettings?: Record<string, Record<string, unknown>>;
  /** Ensemble specs built per image from the job's methods (engine/ensemble EnsembleSpec), one item each. */
  ensembles?: { combiner: string; [k: string]: unknown }[];
  /** Run on a BullMQ fleet through this queue URL (never with its password); absent: run locally. */
  queue?: string;
}

export interface JobCounts { total: number; pending: number; done: number; error: number }

export interface JobRecord {
  id: number; kind: string; libraryId: number | null; modelId: number; modelPath: string; params: JobParams;
  status: JobStatus; pid: number | null; error: string | null; createdAt: string; updatedAt: string; counts: JobCounts;
}

export interface JobItem {
  /** runId is null for an ensemble item (method 'ensemble:<combiner>'): its run depends on the members. */
  id: number; jobId: number; imageId: number; method: string; runId: number | null; status: 'pending' | 'done' | 'error';
  error: string | null; explanationId: number | null;
  /** The image file and the content hash the library knows. */
  path: string; sha256: string | null;
}

/** Who holds a claim: a process on a machine ('<pid>@<host>'). */
export function claimToken(pid = process.pid): string {
  return `${pid}@${os.hostname()}`;
}

/** A holder refreshes its claims every few seconds (jobs/runner.ts); one not refreshed for this long is taken over
 *  even when its pid looks alive (a pid reused by another program, or a holder on another machine). */
export const CLAIM_STALE_MS = 120_000;

/** Is the holder of a claim gone? On this machine, its process is asked; anywhere, a claim not refreshed within
 *  CLAIM_STALE_MS is dead. */
export function claimIsDead(token: string, claimedAt: string | null, isAlive: (pid: number) => boolean, now = Date.now()): boolean {
  const at = token.indexOf('@');
  const pid = Number(token.slice(0, at));
  if (token.slice(at + 1) === os.hostname() && !(Number.isInteger(pid) && pid > 0 && isAlive(pid))) return true;
  return claimedAt === null || now - Date.parse(claimedAt) > CLAIM_STALE_MS;
}

type ItemRow = { id: number; job_id: number; image_id: number; method: string; run_id: number | null; status: JobItem['status']; error: string | null;
  explanation_id: number | null; sha256: string | null; rel_path: string; root: string };
const ITEM_SELECT = `SELECT ji.*, i.sha256, i.rel_path, l.root FROM job_items ji
  JOIN images i ON i.id = ji.image_id JOIN libraries l ON l.id = i.library_id`;
const toItem = (r: ItemRow): JobItem => ({
  id: r.id, jobId: r.job_id, imageId: r.image_id, method: r.method, runId: r.run_id, status: r.status, error: r.error,
  explanationId: r.explanation_id, path: path.join(r.root, r.rel_path), sha256: r.sha256,
});
const NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

type JobRow = { id: number; kind: string; library_id: number | null; model_id: number; model_path: string; params: string; status: JobStatus;
  pid: number | null; error: string | null; created_at: string; updated_at: string; total: number; pending: number; done: number; errors: number };

const COUNTS = `(SELECT COUNT(*) FROM job_items WHERE job_id = j.id) AS total,
  (SELECT COUNT(*) FROM job_items WHERE job_id = j.id AND status = 'pending') AS pending,
  (SELECT COUNT(*) FROM job_items WHERE job_id = j.id AND status = 'done') AS done,
  (SELECT COUNT(*) FROM job_items WHERE job_id = j.id AND status = 'error') AS errors`;

const toJob = (r: JobRow): JobRecord => ({
  id: r.id, kind: r.kind, libraryId: r.library_id, modelId: r.model_id, modelPath: r.model_path, params: parseJson(r.params, {} as JobParams),
  status: r.status, pid: r.pid, error: r.error, createdAt: r.created_at, updatedAt: r.updated_at,
  counts: { total: r.total, pending: r.pending, done: r.done, error: r.errors },
});

export class JobsRepo {
  constructor(private db: Database.Database) {}

  create(x: { libraryId: number | null; modelId: number; modelPath: string; params: JobParams; items: { imageId: number; method: string; runId: number | null }[] }): JobRecord {
    const id = this.db.transaction(() => {
      const jobId = Number(this.db.prepare(`INSERT INTO jobs (kind, library_id, model_id, model_path, params, status) VALUES ('explain', ?, ?, ?, ?, 'queued')`)
        .run(x.libraryId, x.modelId, x.modelPath, canonicalJson(x.params)).lastInsertRowid);
      const add = this.db.prepare('INSERT INTO job_items (job_id, image_id, method, run_id) VALUES (?, ?, ?, ?)');
      for (const it of x.items) add.run(jobId, it.imageId, it.method, it.runId);
      return jobId;
    }).immediate();
    return this.get(id)!;
  }

  get(id: number): JobRecord | undefined {
    const r = this.db.prepare(`SELECT j.*, ${COUNTS} FROM jobs j WHERE j.id = ?`).get(id) as JobRow | undefined;
    return r && toJob(r);
  }

  find(id: number): JobRecord {
    const job = this.get(id);
    if (!job) throw new SaliencyError(`no job ${id} in this database`, 'NOT_FOUND');
    return job;
  }

  list(filter: { status?: JobStatus[] } = {}): JobRecord[] {
    const rows = this.db.prepare(`SELECT j.*, ${COUNTS} FROM jobs j ORDER BY j.id`).all() as JobRow[];
    return rows.map(toJob).filter((j) => !filter.status || filter.status.includes(j.status));
  }

  /** The status alone (cheap: polled by a running job to see a pause or cancel asked by another process). */
  status(id: number): JobStatus | undefined {
    return (this.db.prepare('SELECT status FROM jobs WHERE id = ?').get(id) as { status: JobStatus } | undefined)?.status;
  }

  setStatus(id: number, status: JobStatus, extra: { pid?: number | null; error?: string | null } = {}): void {
    this.db.prepare(`UPDATE jobs SET status = @status, pid = CASE WHEN @setPid THEN @pid ELSE pid END,
        error = CASE WHEN @setError THEN @error ELSE error END, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = @id`)
      .run({ id, status, setPid: extra.pid !== undefined ? 1 : 0, pid: extra.pid ?? null, setError: extra.error !== undefined ? 1 : 0, error: extra.error ?? null });
  }

  /** Records the queue a job runs through (fleet), or null to run it locally again. */
  setQueue(id: number, url: string | null): void {
    this.db.prepare(`UPDATE jobs SET params = CASE WHEN ? IS NULL THEN json_remove(params, '$.queue') ELSE json_set(params, '$.queue', ?) END WHERE id = ?`).run(url, url, id);
  }

  /** Marks the job as run by this process; refuses when another live process is running it, unless `join`
   *  (a local runner: it then works beside that process, each claiming images; the job keeps that process as
   *  its pid). A fleet job is never joined: its items are in Redis. A done job is taken again only to retry
   *  its failed items (retryErrors: they are made pending again here), or returned as it is when joining.  */
  claim(id: number, pid: number, isAlive: (pid: number) => boolean, opts: { retryErrors?: boolean; join?: boolean } = {}): JobRecord {
    this.db.transaction(() => {
      const job = this.find(id);
      const live = job.status === 'running' && job.pid !== null && job.pid !== pid && isAlive(job.pid);
      if (live && job.params.queue) {
        throw new SaliencyError(`job ${id} runs on the fleet queue ${job.params.queue} (process ${job.pid}): a local run cannot join it; add capacity with saliency worker`, 'JOB_BUSY');
      }
      if (live && !opts.join) throw new SaliencyError(`job ${id} is being run by process ${job.pid}`, 'JOB_BUSY');
      if (job.status === 'done' && opts.join) return;
      if (job.status === 'done' && !(opts.retryErrors && job.counts.error > 0)) throw new SaliencyError(`job ${id} is already done`, 'JOB_DONE');
      if (opts.retryErrors) this.db.prepare(`UPDATE job_items SET status = 'pending', claimed_by = NULL, claimed_at = NULL WHERE job_id = ? AND status = 'error'`).run(id);
      if (!live) this.setStatus(id, 'running', { pid, error: null });
    }).immediate();
    return this.find(id);
  }

  /**
   * A run just made job `candidateId`: if a live process runs a job with the same work (library, model, params
   * and items), the candidate is deleted and that job is returned (`found`); else the candidate is marked as run
   * by this process. One IMMEDIATE transaction, so two runs starting together cannot both miss each other.
   */
  sameWorkLive(candidateId: number, pid: number, isAlive: (pid: number) => boolean): { job: JobRecord; found: boolean } {
    return this.db.transaction(() => {
      const cand = this.find(candidateId);
      const work = (j: JobRecord) => {
        const { queue: _queue, ...params } = j.params;
        const items = (this.db.prepare(`SELECT group_concat(k, ',') AS k FROM (SELECT image_id || ':' || method || ':' || ifnull(run_id, '') AS k
            FROM job_items WHERE job_id = ? ORDER BY image_id, method)`).get(j.id) as { k: string | null }).k;
        return `${j.libraryId}|${j.modelId}|${canonicalJson(params)}|${items}`;
      };
      const mine = work(cand);
      const live = this.list({ status: ['running'] }).find((j) => j.id !== cand.id && j.pid !== null && j.pid !== pid && isAlive(j.pid) && work(j) === mine);
      if (live) {
        this.remove(cand.id);
        return { job: live, found: true };
      }
      this.setStatus(cand.id, 'running', { pid, error: null });
      return { job: this.find(cand.id), found: false };
    }).immediate();
  }

  /** Items still to do, grouped by image (ordered so one image's methods come together). */
  pendingItems(jobId: number, opts: { retryErrors?: boolean } = {}): JobItem[] {
    return (this.db.prepare(`${ITEM_SELECT} WHERE ji.job_id = ? AND (ji.status = 'pending' OR (? AND ji.status = 'error')) ORDER BY ji.image_id, ji.id`)
      .all(jobId, opts.retryErrors ? 1 : 0) as ItemRow[]).map(toItem);
  }

  /**
   * Claims the pending items of the next image nobody (alive) holds, for `token` (claimToken()); [] when none is
   * left to claim. Claims of a dead holder (claimIsDead) are taken over, so a killed runner's image is redone;
   * the caller's own claims are not handed out again (its other worker threads hold them).
   * One IMMEDIATE transaction: two processes never claim the same image.
   */
  claimImage(jobId: number, token: string, isAlive: (pid: number) => boolean): JobItem[] {
    return this.db.transaction(() => {
      const dead = JSON.stringify(this.claimHolders(jobId, token).filter((h) => claimIsDead(h.token, h.at, isAlive)).map((h) => h.token));
      const free = `job_id = @jobId AND status = 'pending' AND (claimed_by IS NULL OR claimed_by IN (SELECT value FROM json_each(@dead)))`;
      const ids = (this.db.prepare(`UPDATE job_items SET claimed_by = @token, claimed_at = ${NOW}
          WHERE ${free} AND image_id = (SELECT image_id FROM job_items WHERE ${free} ORDER BY image_id LIMIT 1) RETURNING id`)
        .all({ jobId, token, dead }) as { id: number }[]).map((r) => r.id);
      if (ids.length === 0) return [];
      return (this.db.prepare(`${ITEM_SELECT} WHERE ji.id IN (SELECT value FROM json_each(?)) ORDER BY ji.id`).all(JSON.stringify(ids)) as ItemRow[]).map(toItem);
    }).immediate();
  }

  /** The holder says it is still at work (claims older than CLAIM_STALE_MS are taken over). */
  refreshClaims(jobId: number, token: string): void {
    this.db.prepare(`UPDATE job_items SET claimed_at = ${NOW} WHERE job_id = ? AND status = 'pending' AND claimed_by = ?`).run(jobId, token);
  }

  /** Gives back the holder's pending items (pause, cancel, exit, an item aborted in flight): anyone may take them. */
  releaseClaims(jobId: number, token: string): void {
    this.db.prepare(`UPDATE job_items SET claimed_by = NULL, claimed_at = NULL WHERE job_id = ? AND status = 'pending' AND claimed_by = ?`).run(jobId, token);
  }

  /** The holders other than `token` of claims on the job's pending items, each with its latest claim time. */
  private claimHolders(jobId: number, token: string): { token: string; at: string | null }[] {
    return this.db.prepare(`SELECT claimed_by AS token, MAX(claimed_at) AS at FROM job_items
        WHERE job_id = ? AND status = 'pending' AND claimed_by IS NOT NULL AND claimed_by <> ? GROUP BY claimed_by`).all(jobId, token) as { token: string; at: string | null }[];
  }

  /** Pids of the live processes other than `token` holding claims on the job's pending items. */
  otherHolders(jobId: number, token: string, isAlive: (pid: number) => boolean): number[] {
    return this.claimHolders(jobId, token).filter((r) => !claimIsDead(r.token, r.at, isAlive)).map((r) => Number(r.token.split('@')[0]));
  }

  /** Every process at work on a running job: its pid first, then the other live claim holders. */
  runnerPids(job: JobRecord, isAlive: (pid: number) => boolean): number[] {
    if (job.status !== 'running') return [];
    const others = this.otherHolders(job.id, job.pid === null ? '' : claimToken(job.pid), isAlive);
    return [...new Set([...(job.pid !== null && isAlive(job.pid) ? [job.pid] : []), ...others])];
  }

  /** Makes `pid` the running job's pid if it still is `was` (the process it names ended or left). */
  handOver(jobId: number, was: number | null, pid: number): void {
    this.db.prepare(`UPDATE jobs SET pid = ?, updated_at = ${NOW} WHERE id = ? AND status = 'running' AND pid IS ?`).run(pid, jobId, was);
  }

  /** The runs of a job's method items (ensemble items have none until built). */
  runIds(jobId: number): number[] {
    return (this.db.prepare('SELECT DISTINCT run_id FROM job_items WHERE job_id = ? AND run_id IS NOT NULL ORDER BY run_id').all(jobId) as { run_id: number }[]).map((r) => r.run_id);
  }

  /** Item errors of a job, for display. */
  errors(jobId: number): { itemId: number; imageId: number; method: string; error: string }[] {
    return (this.db.prepare(`SELECT id, image_id, method, error FROM job_items WHERE job_id = ? AND status = 'error' ORDER BY id`).all(jobId) as
      { id: number; image_id: number; method: string; error: string }[]).map((r) => ({ itemId: r.id, imageId: r.image_id, method: r.method, error: r.error }));
  }

  /** Call inside the transaction that stores the item's result. */
  completeItem(itemId: number, explanationId: number, millis: number): void {
    this.db.prepare(`UPDATE job_items SET status = 'done', explanation_id = ?, error = NULL, millis = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?`)
      .run(explanationId, millis, itemId);
  }

  failItem(itemId: number, error: string): void {
    this.db.prepare(`UPDATE job_items SET status = 'error', error = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?`).run(error, itemId);
  }

  remove(id: number): void {
    this.db.prepare('DELETE FROM jobs WHERE id = ?').run(id);
  }
}
