// The job runner in-process (worker threads started from the test): results equal a direct explanation,
// per-item errors for a corrupt and a vanished file while the batch goes on, pause and resume without
// duplicates, cancel asked through the database (as `saliency jobs cancel` from another process does).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HAS_DATA, MODELS, manifest, model, sample } from '../helpers/data.ts';
import { openStore, type Store } from '../../src-main/engine/store/store.ts';
import { importFolder } from '../../src-main/engine/library/scan.ts';
import { createExplainJob } from '../../src-main/engine/jobs/create-job.ts';
import { JobRunner, requestStop, resumableJobs, runJob, type JobEvent } from '../../src-main/engine/jobs/runner.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../../src-main/engine/image/prepare.ts';
import { GradCam } from '../../src-main/engine/explain/cam/gradcam.ts';

describe.skipIf(!HAS_DATA)('job runner (real SqueezeNet in worker threads)', () => {
  let dir: string;
  let root: string;
  let store: Store;
  let libraryId: number;
  const squeeze = () => model(MODELS.squeezenet);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'jobs-runner-'));
    root = path.join(dir, 'images');
    const rows = (await manifest()).slice(100, 108);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(root);
    for (const r of rows) copyFileSync(sample(r.filename), path.join(root, r.filename));
    store = openStore(path.join(dir, 'studio.db'));
    libraryId = (await importFolder(store, root, { thumbnails: false })).library.id;
    // after the scan: one file vanishes, one is overwritten with garbage
    unlinkSync(path.join(root, rows[2].filename));
    writeFileSync(path.join(root, rows[5].filename), 'this is not a JPEG any more');
  });
  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores what the explainer computes; a corrupt and a vanished image become recorded errors and the rest is done', async () => {
    const job = await createExplainJob(store, { libraryId, modelPath: squeeze(), methods: ['gradcam'] });
    expect(job.counts).toEqual({ total: 8, pending: 8, done: 0, error: 0 });
    const events: JobEvent[] = [];
    const finished = await runJob(store, job.id, { workers: 2, threadsPerWorker: 1, onEvent: (e) => events.push(e) });
    expect(finished.status).toBe('done');
    expect(finished.counts).toEqual({ total: 8, pending: 0, done: 6, error: 2 });
    expect(events.filter((e) => e.type === 'progress')).toHaveLength(8);
    const errors = store.jobs.errors(job.id);
    expect(errors.map((e) => e.error).join('\n')).toMatch(/file not found/);
    expect(errors.map((e) => e.error).join('\n')).toMatch(/not a readable image|could not be decoded/);
    expect(store.images.page({ libraryId, status: 'missing' }).items).toHaveLength(1);
    expect(store.images.page({ libraryId, status: 'error' }).items).toHaveLength(1);

    // the stored map is Grad-CAM of the model's top-1 class, as computed directly here
    const first = store.explanations.list({ method: 'gradcam' })[0];
    const stored = store.explanations.get(first.id)!;
    const img = store.images.get(first.imageId)!;
    const m = await Classifier.load(squeeze());
    const { prepared } = await prepareImageFile(img.path, m);
    const out = await m.predict([prepared.input]);
    const top = store.predictions.get(img.id, stored.modelId)!;
    let best = 0;
    for (let k = 1; k < out.numClasses; k++) if (out.probabilities[k] > out.probabilities[best]) best = k;
    expect(top.topClass).toBe(best);
    expect(top.topK).toHaveLength(5);
    expect(stored.targetClass).toBe(best);
    const direct = await new GradCam().explain(prepared, { classIndex: best, score: 'logit' }, { relu: true }, 0, { model: m });
    await m.dispose();
    let maxDiff = 0;
    for (let i = 0; i < direct.map.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(direct.map.data[i] - stored.map.data[i]));
    expect(maxDiff).toBeLessThan(1e-5);
    expect(stored.imageSha256).toBe(img.sha256);
  });

  it('pauses after the images in flight and resumes with the missing items only', async () => {
    const job = await createExplainJob(store, { libraryId, modelPath: squeeze(), methods: ['ablationcam', 'gradcam:probability'] });
    const total = job.counts.total;
    expect(total).toBe(12); // 6 images x 2: the corrupt and the vanished one are known bad now and not queued
    const runner = new JobRunner(store, job.id, {
      workers: 1, threadsPerWorker: 1,
      onEvent: (e) => { if (e.type === 'progress' && e.counts.done + e.counts.error >= 2) runner.pause(); },
    });
    const paused = await runner.run();
    expect(paused.status).toBe('paused');
    expect(paused.counts.pending).toBeGreaterThan(0);
    expect(paused.counts.done + paused.counts.error).toBeLessThan(total);
    expect(resumableJobs(store).map((j) => j.id)).toContain(job.id);
    const before = store.explanations.count();
    const done = await runJob(store, job.id, { workers: 2, threadsPerWorker: 1 });
    expect(done.status).toBe('done');
    expect(done.counts).toMatchObject({ pending: 0, done: 12, error: 0 });
    expect(store.explanations.count() - before).toBe(12 - paused.counts.done);
    expect(store.integrityCheck()).toBe('ok');
  });

  it('is cancelled by a status change made from elsewhere, and refuses to be claimed twice', async () => {
    const job = await createExplainJob(store, { libraryId, modelPath: squeeze(), methods: ['gradcam'], seed: 7 });
    let asked = false;
    let second: Promise<string> | undefined;
    const finished = await runJob(store, job.id, {
      workers: 1, threadsPerWorker: 1, pollMs: 20,
      onEvent: (e) => {
        if (e.type === 'started') {
          expect(() => store.jobs.claim(job.id, process.pid + 1, () => true)).toThrow(/being run by process/);
          second = runJob(store, job.id).then(() => 'ran twice', (err: Error) => err.message);
        }
        if (e.type === 'progress' && !asked) { asked = true; requestStop(store, job.id, 'cancelled'); }
      },
    });
    expect(finished.status).toBe('cancelled');
    expect(await second).toMatch(/already running in this process/);
    expect(finished.counts.pending).toBeGreaterThan(0);
    const resumed = await runJob(store, job.id, { workers: 1, threadsPerWorker: 1 });
    expect(resumed.status).toBe('done');
    expect(resumed.counts).toMatchObject({ total: 6, done: 6, error: 0 });
    expect(() => store.jobs.claim(job.id, process.pid, () => true)).toThrow(/already done/);
  });

  it('names a bad method or model before creating anything', async () => {
    await expect(createExplainJob(store, { libraryId, modelPath: squeeze(), methods: ['gradcamm'] })).rejects.toThrow(/unknown explanation method "gradcamm"; known methods: gradcam/);
    await expect(createExplainJob(store, { libraryId, modelPath: squeeze(), methods: ['gradcam:prob'] })).rejects.toThrow(/"logit" or "probability"/);
    await expect(createExplainJob(store, { libraryId, modelPath: path.join(dir, 'none.onnx'), methods: ['gradcam'] })).rejects.toThrow(/file not found/);
  });
});
