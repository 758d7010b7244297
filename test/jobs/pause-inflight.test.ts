// Pause stops in-flight work at the next batch (issue 15): a job item running RISE with many masks on the real
// SqueezeNet is paused once its model evaluations have started; the worker aborts them (the queued batches are
// dropped, the running one completes), the item goes back to 'pending' unclaimed, nothing half-done is stored,
// and resuming redoes it into a map bit-identical to an uninterrupted run with the same seed.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HAS_DATA, MODELS, manifest, model, sample } from '../helpers/data.ts';
import { openStore, type Store } from '../../src-main/engine/store/store.ts';
import { importFolder } from '../../src-main/engine/library/scan.ts';
import { createExplainJob } from '../../src-main/engine/jobs/create-job.ts';
import { JobRunner, runJob, type JobEvent } from '../../src-main/engine/jobs/runner.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';

// A real model on a possibly loaded machine: waits are on job events, bounded at an hour.
vi.setConfig({ testTimeout: 3_600_000, hookTimeout: 3_600_000 });

const MASKS = 300;

describe.skipIf(!HAS_DATA)('pause aborts the in-flight item at the next batch (RISE, real SqueezeNet)', () => {
  let dir: string;
  let root: string;
  const stores: Store[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pause-inflight-'));
    root = path.join(dir, 'images');
    mkdirSync(root);
    copyFileSync(sample((await manifest())[640].filename), path.join(root, 'one.JPEG'));
  });
  afterAll(() => {
    for (const s of stores) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A database with the one-image library and a RISE job on it (same seed everywhere). */
  async function job(name: string): Promise<{ store: Store; jobId: number }> {
    const store = openStore(path.join(dir, `${name}.db`));
    stores.push(store);
    const libraryId = (await importFolder(store, root, { thumbnails: false })).library.id;
    const j = await createExplainJob(store, { libraryId, modelPath: model(MODELS.squeezenet), methods: ['rise'], settings: { rise: { masks: MASKS } }, seed: 11 });
    return { store, jobId: j.id };
  }

  it('stops within one batch, leaves the item pending and unclaimed, and the resumed map equals an uninterrupted one', async () => {
    const m = await Classifier.load(model(MODELS.squeezenet), { threads: 1 });
    const batch = m.info.batch.size;
    await m.dispose();

    const { store, jobId } = await job('paused');
    const events: JobEvent[] = [];
    let evaluationsAtPause = -1;
    const runner = new JobRunner(store, jobId, {
      workers: 1, threadsPerWorker: 1,
      onEvent: (e) => {
        events.push(e);
        // pause once the item's model evaluations are under way (its first progress report)
        if (e.type === 'item-progress' && e.evaluations > 0 && evaluationsAtPause < 0) { evaluationsAtPause = e.evaluations; runner.pause(); }
      },
    });
    const paused = await runner.run();
    expect(paused.status).toBe('paused');
    const aborted = events.filter((e) => e.type === 'item-aborted');
    expect(aborted).toHaveLength(1);
    const { evaluations, evaluationsAfterAbort: after } = aborted[0] as Extract<JobEvent, { type: 'item-aborted' }>;
    console.log(`[pause in flight] batch ${batch}; evaluations seen at pause ${evaluationsAtPause}, when it stopped ${evaluations} of ${MASKS}; after the abort reached the worker: ${after}`);
    expect(evaluationsAtPause).toBeLessThan(MASKS / 2);
    expect(evaluations).toBeLessThan(MASKS); // the item did not run to its end
    expect(evaluations - evaluationsAtPause).toBeLessThanOrEqual(batch); // after the pause: at most one batch
    expect(after).toBeGreaterThanOrEqual(0);
    expect(after).toBeLessThanOrEqual(batch);
    // nothing stored, the item pending and free for anyone, no progress counted
    expect(paused.counts).toMatchObject({ pending: 1, done: 0, error: 0 });
    expect(store.explanations.count()).toBe(0);
    const claim = store.db.prepare('SELECT status, claimed_by FROM job_items WHERE job_id = ?').get(jobId) as { status: string; claimed_by: string | null };
    expect(claim).toEqual({ status: 'pending', claimed_by: null });
    expect(events.some((e) => e.type === 'progress')).toBe(false);

    const resumed = await runJob(store, jobId, { workers: 1, threadsPerWorker: 1 });
    expect(resumed.status).toBe('done');
    expect(resumed.counts).toMatchObject({ total: 1, done: 1, pending: 0, error: 0 });

    const ref = await job('uninterrupted');
    expect((await runJob(ref.store, ref.jobId, { workers: 1, threadsPerWorker: 1 })).status).toBe('done');
    const mapOf = (s: Store) => s.explanations.get(s.explanations.list({ method: 'rise' })[0].id)!;
    const a = mapOf(store);
    const b = mapOf(ref.store);
    expect(a.evaluations).toBe(MASKS);
    expect(Buffer.from(a.map.data.buffer, a.map.data.byteOffset, a.map.data.byteLength)
      .equals(Buffer.from(b.map.data.buffer, b.map.data.byteOffset, b.map.data.byteLength))).toBe(true);
  });
});
