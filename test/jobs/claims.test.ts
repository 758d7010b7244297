// Item claims in the store (jobs-repo.ts), as several processes use them: one image at a time, never the same image
// to two holders, a dead or stale holder's image taken over, claims given back, the processes of a job listed,
// a run with the same work finding the live job (and a different one not), and a fleet job never joined.
// Real SQLite and the builtin demo model; holders are tokens as other processes would write them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { openStore, type Store } from '../../src-main/engine/store/store.ts';
import { importFolder } from '../../src-main/engine/library/scan.ts';
import { createExplainJob } from '../../src-main/engine/jobs/create-job.ts';
import { processAlive } from '../../src-main/engine/jobs/runner.ts';
import { claimToken } from '../../src-main/engine/store/jobs-repo.ts';
import { builtinSamplesDir, resolveModelSpec } from '../../src-main/engine/model/builtin.ts';

describe('job item claims (real SQLite, builtin:demo)', () => {
  let dir: string;
  let store: Store;
  let libraryId: number;
  const demo = resolveModelSpec('builtin:demo');
  /** A pid that existed and is gone (a finished child process). */
  const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;
  const other = `4242@elsewhere.example`; // a holder on another machine: only its claim's age tells
  const me = claimToken();

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'claims-'));
    const root = path.join(dir, 'images');
    mkdirSync(root);
    const samples = builtinSamplesDir('demo');
    for (const f of readdirSync(samples).sort().slice(0, 4)) copyFileSync(path.join(samples, f), path.join(root, f));
    store = openStore(path.join(dir, 'studio.db'));
    libraryId = (await importFolder(store, root, { thumbnails: false })).library.id;
  });
  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const images = (items: { imageId: number }[]) => [...new Set(items.map((i) => i.imageId))];

  it('hands out one image at a time, never the same to two holders; dead and stale holders are taken over; claims are given back', async () => {
    const job = await createExplainJob(store, { libraryId, modelPath: demo, methods: ['gradcam', 'gradcam:probability'] });
    const [i1, i2, i3, i4] = store.jobs.pendingItems(job.id).map((i) => i.imageId).filter((v, k, a) => a.indexOf(v) === k);
    const a = store.jobs.claimImage(job.id, other, processAlive);
    expect(images(a)).toEqual([i1]);
    expect(a).toHaveLength(2); // the image's two methods together
    expect(images(store.jobs.claimImage(job.id, me, processAlive))).toEqual([i2]);
    // a holder that is gone on this machine: its image is the next one handed out
    const dead = `${deadPid}@${os.hostname()}`;
    expect(processAlive(deadPid)).toBe(false);
    expect(images(store.jobs.claimImage(job.id, dead, processAlive))).toEqual([i3]);
    expect(images(store.jobs.claimImage(job.id, me, processAlive))).toEqual([i3]);
    // the other machine's claim is fresh: not taken; once older than the bound, it is
    expect(images(store.jobs.claimImage(job.id, me, processAlive))).toEqual([i4]);
    expect(store.jobs.claimImage(job.id, me, processAlive)).toEqual([]);
    expect(store.jobs.otherHolders(job.id, me, processAlive)).toEqual([4242]);
    store.db.prepare(`UPDATE job_items SET claimed_at = '2000-01-01T00:00:00.000Z' WHERE claimed_by = ?`).run(other);
    expect(images(store.jobs.claimImage(job.id, me, processAlive))).toEqual([i1]);
    expect(store.jobs.otherHolders(job.id, me, processAlive)).toEqual([]);
    // given back: free for anyone, in image order
    store.jobs.releaseClaims(job.id, me);
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM job_items WHERE job_id = ? AND claimed_by IS NOT NULL').get(job.id)).toEqual({ n: 0 });
    expect(images(store.jobs.claimImage(job.id, other, processAlive))).toEqual([i1]);
    store.jobs.remove(job.id);
  });

  it('a run with the same work finds the live job and joins it; other work is its own job; jobs list names both processes', async () => {
    const spec = { libraryId, modelPath: demo, methods: ['gradcam'], seed: 3 };
    const first = await createExplainJob(store, spec);
    // the first is being run by another live process (this test's parent stands in for it)
    expect(store.jobs.sameWorkLive(first.id, process.ppid, processAlive)).toMatchObject({ found: false, job: { id: first.id, status: 'running', pid: process.ppid } });
    const second = await createExplainJob(store, spec);
    const joined = store.jobs.sameWorkLive(second.id, process.pid, processAlive);
    expect(joined).toMatchObject({ found: true, job: { id: first.id } });
    expect(store.jobs.get(second.id)).toBeUndefined(); // no job of its own
    // joining keeps the job's pid; both are listed once this process holds an image
    expect(store.jobs.claim(first.id, process.pid, processAlive, { join: true }).pid).toBe(process.ppid);
    expect(() => store.jobs.claim(first.id, process.pid, processAlive)).toThrow(`job ${first.id} is being run by process ${process.ppid}`);
    store.jobs.claimImage(first.id, me, processAlive);
    expect(store.jobs.runnerPids(store.jobs.find(first.id), processAlive)).toEqual([process.ppid, process.pid]);
    // other settings: not the same work
    const third = await createExplainJob(store, { ...spec, seed: 4 });
    expect(store.jobs.sameWorkLive(third.id, process.pid, processAlive)).toMatchObject({ found: false, job: { id: third.id, status: 'running' } });
    // a fleet job is never joined by a local run: one line saying what to do instead
    store.jobs.setQueue(first.id, 'redis://127.0.0.1:6379');
    expect(() => store.jobs.claim(first.id, process.pid, processAlive, { join: true }))
      .toThrow(`job ${first.id} runs on the fleet queue redis://127.0.0.1:6379 (process ${process.ppid}): a local run cannot join it; add capacity with saliency worker`);
  });
});
