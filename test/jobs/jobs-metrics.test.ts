// Batch jobs with a metrics stage and an ensembles stage (real SqueezeNet in worker threads, real SQLite):
// every map gets its metric rows (faithfulness ones with their random-map control), each image gets its
// ensembles as explanations with metrics too; values equal a direct computation; a metric that cannot be
// computed is a recorded item error while the batch goes on; redoing items never duplicates anything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { HAS_DATA, MODELS, manifest, model, sample } from '../helpers/data.ts';
import { openStore, type Store } from '../../src-main/engine/store/store.ts';
import { MIGRATIONS } from '../../src-main/engine/store/migrations.ts';
import { importFolder } from '../../src-main/engine/library/scan.ts';
import { createExplainJob } from '../../src-main/engine/jobs/create-job.ts';
import { runJob, type JobEvent } from '../../src-main/engine/jobs/runner.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../../src-main/engine/image/prepare.ts';
import { computeMetrics, planMetrics } from '../../src-main/engine/pipeline/evaluate-stored.ts';
import { ensembleStored } from '../../src-main/engine/pipeline/ensemble-stored.ts';

const count = (store: Store, sql: string) => (store.db.prepare(sql).get() as { n: number }).n;

describe.skipIf(!HAS_DATA)('batch jobs with metrics and ensembles (real SqueezeNet)', () => {
  let dir: string;
  let store: Store;
  let libraryId: number;
  const squeeze = () => model(MODELS.squeezenet);
  const metricSettings = { deletion: { steps: 8 } };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'jobs-metrics-'));
    const root = path.join(dir, 'images');
    mkdirSync(root);
    for (const r of (await manifest()).slice(200, 203)) copyFileSync(sample(r.filename), path.join(root, r.filename));
    store = openStore(path.join(dir, 'studio.db'));
    libraryId = (await importFolder(store, root, { thumbnails: false })).library.id;
  });
  afterAll(() => {
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores 2 methods + 1 ensemble per image, each with 2 metric rows equal to a direct computation', async () => {
    const job = await createExplainJob(store, {
      libraryId, modelPath: squeeze(), methods: ['gradcam', 'ablationcam'], metrics: ['deletion', 'sparseness'], metricSettings, ensembles: ['mean'], seed: 3,
    });
    expect(job.counts).toEqual({ total: 9, pending: 9, done: 0, error: 0 });
    expect(job.params.metricSettings?.deletion).toMatchObject({ steps: 8, control: true });
    const events: JobEvent[] = [];
    const t0 = performance.now();
    const finished = await runJob(store, job.id, { workers: 2, threadsPerWorker: 1, onEvent: (e) => events.push(e) });
    console.log(`3 images x (2 methods + 1 ensemble) x 2 metrics: ${(performance.now() - t0).toFixed(0)} ms with 2 workers`);
    expect(finished.status).toBe('done');
    expect(finished.counts).toEqual({ total: 9, pending: 0, done: 9, error: 0 });
    expect(events.filter((e) => e.type === 'progress')).toHaveLength(9);

    expect(count(store, 'SELECT COUNT(*) AS n FROM explanations')).toBe(9);
    expect(count(store, `SELECT COUNT(*) AS n FROM explanations e JOIN runs r ON r.id = e.run_id WHERE r.method = 'ensemble:mean'`)).toBe(3);
    expect(count(store, 'SELECT COUNT(*) AS n FROM metrics')).toBe(18);
    expect(count(store, `SELECT COUNT(*) AS n FROM metrics WHERE name = 'deletion' AND random_value IS NOT NULL AND json_array_length(curve, '$.y') = 9`)).toBe(9);
    expect(count(store, `SELECT COUNT(*) AS n FROM metrics WHERE name = 'sparseness' AND random_value IS NULL`)).toBe(9);
    // every done item links its map, and ensemble items the ensemble's own run
    const items = store.db.prepare(`SELECT ji.method, ji.run_id, r.method AS stored FROM job_items ji JOIN explanations e ON e.id = ji.explanation_id
      JOIN runs r ON r.id = e.run_id WHERE ji.job_id = ? ORDER BY ji.id`).all(job.id) as { method: string; run_id: number | null; stored: string }[];
    expect(items).toHaveLength(9);
    for (const it of items) expect(it.stored).toBe(it.method);
    expect(items.filter((i) => i.run_id === null).map((i) => i.method)).toEqual(['ensemble:mean', 'ensemble:mean', 'ensemble:mean']);

    // the stored values are what computeMetrics gives here for the stored maps (same seed and settings)
    const m = await Classifier.load(squeeze(), { threads: 1 });
    try {
      const plans = planMetrics(['deletion', 'sparseness'], metricSettings);
      for (const method of ['ablationcam', 'ensemble:mean']) {
        const e = store.explanations.get(store.explanations.list({ method })[0].id)!;
        const { prepared } = await prepareImageFile(store.images.get(e.imageId)!.path, m);
        const direct = await computeMetrics(m, prepared, e, plans, 3);
        const stored = store.metrics.list({ explanationId: e.id });
        for (const row of direct.rows) {
          const s = stored.find((x) => x.name === row.name)!;
          expect(s.value, `${method} ${row.name}`).toBeCloseTo(row.value!, 5);
          if (row.randomValue !== null) expect(s.randomValue).toBeCloseTo(row.randomValue!, 5);
        }
      }
    } finally {
      await m.dispose();
    }

    // the lead's ensembleStored over the same maps saves onto the very same rows (upsert: same ids, no new ones)
    const jobEnsembles = (store.db.prepare(`SELECT explanation_id AS id FROM job_items WHERE job_id = ? AND run_id IS NULL ORDER BY image_id`).all(job.id) as { id: number }[]).map((r) => r.id);
    const imageIds = [...new Set(store.explanations.list({ method: 'ensemble:mean' }).map((e) => e.imageId))].sort((a, b) => a - b);
    const again = ensembleStored(store, { modelId: finished.modelId, imageIds, specs: [{ combiner: 'mean' }] });
    expect(again.ids).toEqual(jobEnsembles);
    expect(count(store, 'SELECT COUNT(*) AS n FROM explanations')).toBe(9);
    expect(store.integrityCheck()).toBe('ok');
  }, 180_000);

  it('records a metric that cannot be computed as an item error (map and other metrics kept), the batch goes on; a retry adds nothing', async () => {
    const imageIds = [store.images.allOf(libraryId)[0].id];
    const job = await createExplainJob(store, {
      libraryId, modelPath: squeeze(), methods: ['gradcam', 'ablationcam'], imageIds, seed: 3,
      metrics: ['sparseness', 'max-sensitivity'], metricSettings: { 'max-sensitivity': { samples: 1 } }, ensembles: ['borda'],
    });
    const before = { explanations: count(store, 'SELECT COUNT(*) AS n FROM explanations'), metrics: count(store, 'SELECT COUNT(*) AS n FROM metrics') };
    const finished = await runJob(store, job.id, { workers: 1, threadsPerWorker: 2 });
    expect(finished.status).toBe('done');
    // max-sensitivity re-runs the explainer: fine for Grad-CAM and Ablation-CAM, impossible for an ensemble
    expect(finished.counts).toEqual({ total: 3, pending: 0, done: 2, error: 1 });
    const [err] = store.jobs.errors(job.id);
    expect(err.method).toBe('ensemble:borda');
    expect(err.error).toMatch(/metric max-sensitivity: max-sensitivity re-runs the explainer, and ensemble:borda has none/);
    const ens = store.db.prepare('SELECT explanation_id AS id FROM job_items WHERE id = ?').get(err.itemId) as { id: number };
    expect(store.explanations.get(ens.id)?.method).toBe('ensemble:borda');
    expect(store.metrics.list({ explanationId: ens.id }).map((r) => r.name)).toEqual(['sparseness']);
    // gradcam and ablationcam maps and their sparseness are the first test's rows (same runs, seed and settings:
    // upserts); new: the borda ensemble, max-sensitivity of the 2 maps and sparseness of the ensemble
    const after = { explanations: count(store, 'SELECT COUNT(*) AS n FROM explanations'), metrics: count(store, 'SELECT COUNT(*) AS n FROM metrics') };
    expect(after.explanations - before.explanations).toBe(1);
    expect(after.metrics - before.metrics).toBe(3);
    expect(count(store, `SELECT COUNT(*) AS n FROM metrics WHERE name = 'max-sensitivity' AND value >= 0`)).toBe(2);

    const retried = await runJob(store, job.id, { workers: 1, threadsPerWorker: 2, retryErrors: true });
    expect(retried.counts).toEqual({ total: 3, pending: 0, done: 2, error: 1 });
    expect(count(store, 'SELECT COUNT(*) AS n FROM explanations')).toBe(after.explanations);
    expect(count(store, 'SELECT COUNT(*) AS n FROM metrics')).toBe(after.metrics);
  }, 180_000);

  it('refuses bad metrics and ensembles before creating anything', async () => {
    const base = { libraryId, modelPath: squeeze(), methods: ['gradcam', 'ablationcam'] };
    const jobs = store.jobs.list().length;
    await expect(createExplainJob(store, { ...base, metrics: ['deletionn'] })).rejects.toThrow(/deletionn/);
    await expect(createExplainJob(store, { ...base, metrics: ['pointing-game'] })).rejects.toThrow(/needs annotations, which a batch job does not have/);
    await expect(createExplainJob(store, { ...base, metrics: ['deletion'], metricSettings: { deletion: { steps: -1 } } })).rejects.toThrow(/steps/);
    await expect(createExplainJob(store, { ...base, ensembles: ['meen'] })).rejects.toThrow(/unknown ensemble "meen"/);
    await expect(createExplainJob(store, { ...base, ensembles: ['weighted'] })).rejects.toThrow(/needs weights/);
    await expect(createExplainJob(store, { ...base, methods: ['gradcam'], ensembles: ['mean'] })).rejects.toThrow(/at least two distinct methods/);
    expect(store.jobs.list()).toHaveLength(jobs);
  });
});

describe('schema migration 2 (ensemble job items)', () => {
  it('keeps the job items of a version-1 database and then takes ensemble items without a run', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'jobs-migrate-'));
    try {
      const file = path.join(dir, 'v1.db');
      const db = new Database(file);
      db.exec(`CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))`);
      db.exec(MIGRATIONS[0].sql);
      db.prepare('INSERT INTO schema_version (version, name) VALUES (1, ?)').run(MIGRATIONS[0].name);
      db.exec(`INSERT INTO libraries (id, root, name) VALUES (1, '/lib', 'lib');
        INSERT INTO images (id, library_id, rel_path, bytes, mtime_ms) VALUES (1, 1, 'a.jpg', 1, 1);
        INSERT INTO models (id, sha256, name) VALUES (1, 'abc', 'm');
        INSERT INTO runs (id, model_id, method, settings, seed, app_version) VALUES (1, 1, 'gradcam', '{}', 0, 'v');
        INSERT INTO jobs (id, model_id, model_path, params, status) VALUES (1, 1, 'm.onnx', '{}', 'paused');
        INSERT INTO job_items (job_id, image_id, method, run_id, status, error) VALUES (1, 1, 'gradcam', 1, 'error', 'boom')`);
      expect(() => db.prepare(`INSERT INTO job_items (job_id, image_id, method, run_id) VALUES (1, 1, 'ensemble:mean', NULL)`).run()).toThrow(/NOT NULL/);
      db.close();

      const store = openStore(file);
      try {
        expect((store.db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number }).v).toBe(MIGRATIONS[MIGRATIONS.length - 1].version);
        expect(store.jobs.errors(1)).toEqual([{ itemId: 1, imageId: 1, method: 'gradcam', error: 'boom' }]);
        store.db.prepare(`INSERT INTO job_items (job_id, image_id, method, run_id) VALUES (1, 1, 'ensemble:mean', NULL)`).run();
        expect(store.jobs.runIds(1)).toEqual([1]);
        expect(store.jobs.find(1).counts).toEqual({ total: 2, pending: 1, done: 0, error: 1 });
        expect(store.db.pragma('foreign_key_check')).toEqual([]);
        expect(store.integrityCheck()).toBe('ok');
      } finally {
        store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
