// The store on a real SQLite file: migrations, pragmas, every repository's round trip and constraints,
// and the paged image queries the UI uses.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openStore, type Store } from '../../src-main/engine/store/store.ts';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src-main/engine/store/migrations.ts';
import { cacheDirFor, resolveDbPath, userDataDir } from '../../src-main/engine/store/paths.ts';
import type { ModelInfo } from '../../src-main/engine/model/classifier.ts';
import type { Explanation } from '../../src-main/engine/explain/types.ts';

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'store-test-'));
  store = openStore(path.join(dir, 'studio.db'));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const fakeInfo = (sha: string) => ({
  name: 'm', path: '/models/m.onnx', sha256: sha, preset: { name: 'caffe' }, head: { found: true, featureTensor: 'fire9/concat_1', channels: 512, description: '' },
}) as unknown as ModelInfo;

function explanation(w: number, h: number, classIndex: number, score: 'logit' | 'probability' = 'logit'): Explanation {
  const data = Float32Array.from({ length: w * h }, (_, i) => Math.sin(i) * 1e-3 + i);
  return {
    method: 'gradcam', target: { classIndex, score }, map: { width: w, height: h, data }, native: { width: 2, height: 2, data: new Float32Array([1, -2, 3.5, Number.MIN_VALUE]) },
    evaluations: 1, settings: {}, seed: 0, extras: { note: 'x' }, millis: 1.5,
  };
}

/** A library of n images with ground truth 0..n-1, a model, and a run. */
function seed(n: number) {
  const lib = store.libraries.add(path.join(dir, 'lib'));
  store.images.upsertFiles(lib.id, Array.from({ length: n }, (_, i) => ({
    relPath: `img${String(i).padStart(3, '0')}.png`, sha256: `sha${i}`, bytes: 10, mtimeMs: 1, width: 8, height: 8, trueClass: i % 10, error: null,
  })));
  const model = store.models.ensure(fakeInfo('abc'));
  const run = store.runs.ensure({ modelId: model.id, method: 'gradcam', settings: { relu: true }, seed: 0 });
  return { lib, model, run, images: store.images.allOf(lib.id) };
}

describe('store: schema and connection', () => {
  it('migrates a new file to the latest version, with WAL and foreign keys, and reopens without migrating again', () => {
    expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(Number(store.db.pragma('busy_timeout', { simple: true }))).toBeGreaterThanOrEqual(1000);
    store.close();
    store = openStore(path.join(dir, 'studio.db'));
    const rows = store.db.prepare('SELECT version FROM schema_version').all();
    expect(rows).toHaveLength(MIGRATIONS.length);
    expect(store.integrityCheck()).toBe('ok');
  });

  it('refuses a database made by a newer version of the app', () => {
    store.db.prepare('INSERT INTO schema_version (version, name) VALUES (?, ?)').run(SCHEMA_VERSION + 1, 'future');
    store.close();
    expect(() => { store = openStore(path.join(dir, 'studio.db')); }).toThrow(/newer than this app/);
    store = openStore(path.join(dir, 'other.db'));
  });

  it('puts the default database in the user data folder, overridable by SALIENCY_DB or an explicit path', () => {
    expect(userDataDir({ XDG_DATA_HOME: '/x/data' }, 'linux')).toBe('/x/data/saliency-studio');
    expect(userDataDir({}, 'linux')).toBe(path.join(os.homedir(), '.local/share/saliency-studio'));
    expect(userDataDir({}, 'darwin')).toBe(path.join(os.homedir(), 'Library/Application Support/saliency-studio'));
    expect(resolveDbPath(undefined, { XDG_DATA_HOME: '/x/data' })).toBe('/x/data/saliency-studio/studio.db');
    expect(resolveDbPath(undefined, { SALIENCY_DB: '/y/s.db' })).toBe('/y/s.db');
    expect(resolveDbPath('/z/a.db', { SALIENCY_DB: '/y/s.db' })).toBe('/z/a.db');
    expect(cacheDirFor('/z/a.db')).toBe('/z/a-cache');
    expect(store.thumbnailPath('ab12')).toBe(path.join(dir, 'studio-cache', 'thumbnails', 'ab', 'ab12.webp'));
  });
});

describe('store: repositories', () => {
  it('stores maps as float32 blobs with their shape and reads them back bit for bit', () => {
    const { run, images } = seed(2);
    const e = explanation(13, 7, 5);
    const id = store.explanations.save({ imageId: images[0].id, runId: run.id, imageSha256: 'sha0', explanation: e });
    const back = store.explanations.get(id)!;
    expect(back.map.width).toBe(13);
    expect(back.map.height).toBe(7);
    expect(Array.from(back.map.data)).toEqual(Array.from(e.map.data));
    expect(Array.from(back.native!.data)).toEqual(Array.from(e.native!.data));
    expect(back).toMatchObject({ method: 'gradcam', targetClass: 5, scoreKind: 'logit', settings: { relu: true }, extras: { note: 'x' }, evaluations: 1 });
    const blob = store.db.prepare('SELECT length(map) AS n FROM explanations WHERE id = ?').get(id) as { n: number };
    expect(blob.n).toBe(13 * 7 * 4);
  });

  it('keeps one explanation per run, image, target and score kind (saving again replaces it)', () => {
    const { run, images } = seed(1);
    const a = store.explanations.save({ imageId: images[0].id, runId: run.id, explanation: explanation(4, 4, 1) });
    const b = store.explanations.save({ imageId: images[0].id, runId: run.id, explanation: explanation(4, 4, 1) });
    const c = store.explanations.save({ imageId: images[0].id, runId: run.id, explanation: explanation(4, 4, 1, 'probability') });
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(store.explanations.count()).toBe(2);
    expect(() => store.db.prepare(`INSERT INTO explanations (image_id, run_id, target_class, score_kind, map_width, map_height, map)
      VALUES (?, ?, 1, 'logit', 1, 1, x'00000000')`).run(images[0].id, run.id)).toThrow(/UNIQUE/);
  });

  it('reuses a run for the same model, method, settings (in any key order) and seed', () => {
    const { model, run } = seed(1);
    expect(store.runs.ensure({ modelId: model.id, method: 'gradcam', settings: { relu: true }, seed: 0 }).id).toBe(run.id);
    const other = store.runs.ensure({ modelId: model.id, method: 'gradcam', settings: { relu: false }, seed: 0 });
    expect(other.id).not.toBe(run.id);
    const a = store.runs.ensure({ modelId: model.id, method: 'lime', settings: { a: 1, b: 2 }, seed: 3 });
    expect(store.runs.ensure({ modelId: model.id, method: 'lime', settings: { b: 2, a: 1 }, seed: 3 }).id).toBe(a.id);
    expect(run.appVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('enforces foreign keys and cascades deletes from images to their results', () => {
    const { run, images } = seed(1);
    const eid = store.explanations.save({ imageId: images[0].id, runId: run.id, explanation: explanation(2, 2, 0) });
    store.metrics.save({ explanationId: eid, name: 'deletion-auc', value: 0.25, curve: { x: [0, 1], y: [1, 0] }, randomValue: 0.5, seed: 1 });
    expect(() => store.metrics.save({ explanationId: 999, name: 'x', value: 1 })).toThrow(/FOREIGN KEY/);
    store.db.prepare('DELETE FROM images WHERE id = ?').run(images[0].id);
    expect(store.explanations.count()).toBe(0);
    expect(store.metrics.list()).toHaveLength(0);
  });

  it('records metrics with curves, ratings, pairwise choices, annotations, weight sets and reports', () => {
    const { run, images, model } = seed(2);
    const e1 = store.explanations.save({ imageId: images[0].id, runId: run.id, explanation: explanation(2, 2, 0) });
    const e2 = store.explanations.save({ imageId: images[1].id, runId: run.id, explanation: explanation(2, 2, 1) });
    store.metrics.save({ explanationId: e1, name: 'insertion-auc', value: 0.7, curve: { x: [0, 0.5, 1], y: [0.1, 0.6, 0.9] }, randomValue: 0.4, seed: 2 });
    store.metrics.save({ explanationId: e1, name: 'insertion-auc', value: 0.8, curve: null, randomValue: 0.4, seed: 2 });
    const m = store.metrics.list({ explanationId: e1 });
    expect(m).toHaveLength(1);
    expect(m[0]).toMatchObject({ value: 0.8, randomValue: 0.4, seed: 2 });

    store.ratings.rate({ rater: 'ann', explanationId: e1, likert: 4 });
    store.ratings.rate({ rater: 'ann', explanationId: e1, likert: 2, comment: 'on the background' });
    expect(store.ratings.list({ rater: 'ann' })).toMatchObject([{ likert: 2, comment: 'on the background' }]);
    expect(() => store.ratings.rate({ rater: 'ann', explanationId: e1, likert: 6 })).toThrow(/1 to 5/);
    expect(() => store.db.prepare('INSERT INTO ratings (rater, explanation_id, likert) VALUES (?, ?, 0)').run('bob', e1)).toThrow(/CHECK/);
    store.ratings.choose({ rater: 'ann', explanationA: e1, explanationB: e2, winner: 'b' });
    expect(() => store.ratings.choose({ rater: 'ann', explanationA: e1, explanationB: e1, winner: 'a' })).toThrow(/two different/);
    expect(store.ratings.choices()).toMatchObject([{ explanationA: e1, explanationB: e2, winner: 'b' }]);

    store.annotations.add({ imageId: images[0].id, kind: 'box', data: [{ x: 1, y: 2, width: 3, height: 4, label: 'fish' }], author: 'ann' });
    store.annotations.add({ imageId: images[0].id, kind: 'mask', data: { width: 2, height: 2 }, blob: new Uint8Array([0, 1, 1, 0]), author: 'ann' });
    store.annotations.add({ imageId: images[0].id, kind: 'concepts', data: { words: ['fin', 'scales'] }, author: 'bob' });
    expect(store.annotations.list(images[0].id)).toHaveLength(3);
    expect(Array.from(store.annotations.list(images[0].id, 'mask')[0].blob!)).toEqual([0, 1, 1, 0]);
    expect(() => store.annotations.add({ imageId: images[0].id, kind: 'scribble' as 'box', data: {}, author: 'x' })).toThrow(/box, mask, caption or concepts/);

    store.weightSets.save({ name: 'by-deletion', source: 'metrics', weights: { gradcam: 0.6, lime: 0.4 }, provenance: { metric: 'deletion-auc', runs: [run.id] } });
    store.weightSets.save({ name: 'by-deletion', source: 'metrics', weights: { gradcam: 0.5, lime: 0.5 } });
    expect(store.weightSets.list()).toHaveLength(1);
    expect(store.weightSets.get('by-deletion')!.weights).toEqual({ gradcam: 0.5, lime: 0.5 });
    expect(() => store.weightSets.save({ name: 'x', source: 'guess' as 'manual', weights: {} })).toThrow(/metrics, ratings, manual or learned/);
    expect(() => store.weightSets.save({ name: 'x', source: 'manual', weights: { a: NaN } })).toThrow(/finite/);

    store.reports.add({ kind: 'html', path: '/tmp/r.html', madeFrom: { models: [model.id], weightSet: 'by-deletion' } });
    expect(store.reports.list()[0]).toMatchObject({ kind: 'html', madeFrom: { weightSet: 'by-deletion' } });
  });
});

describe('store: paged image queries', () => {
  it('pages by id and filters by predicted class, correctness, method, metric and rating', () => {
    const { model, run, images } = seed(25);
    // predictions: image i predicted class (i % 10) for even i (correct), 9 - (i % 10) for odd i
    images.forEach((img, i) => store.predictions.save({ imageId: img.id, modelId: model.id, topK: [{ classIndex: i % 2 === 0 ? i % 10 : 9 - (i % 10), probability: 0.5, logit: 1 }] }));
    const e0 = store.explanations.save({ imageId: images[0].id, runId: run.id, explanation: explanation(2, 2, 0) });
    const e3 = store.explanations.save({ imageId: images[3].id, runId: run.id, explanation: explanation(2, 2, 6) });
    store.metrics.save({ explanationId: e3, name: 'deletion-auc', value: 0.1 });
    store.ratings.rate({ rater: 'ann', explanationId: e0, likert: 5 });

    const p1 = store.images.page({ limit: 10 });
    expect(p1.items.map((i) => i.relPath)).toEqual(images.slice(0, 10).map((i) => i.relPath));
    const p3 = store.images.page({ limit: 10, afterId: store.images.page({ limit: 10, afterId: p1.nextAfterId! }).nextAfterId! });
    expect(p3.items).toHaveLength(5);
    expect(p3.nextAfterId).toBeNull();

    const correct = store.images.page({ modelId: model.id, correct: true }).items;
    expect(correct.every((i) => i.predictedClass === i.trueClass)).toBe(true);
    // odd i: predicted 9 - (i % 10) equals i % 10 never (9 is odd), so correct = the 13 even images
    expect(correct).toHaveLength(13);
    expect(store.images.count({ modelId: model.id, correct: false })).toBe(12);
    expect(store.images.page({ modelId: model.id, predictedClass: 6 }).items.map((i) => i.relPath)).toEqual(['img003.png', 'img006.png', 'img013.png', 'img016.png', 'img023.png']);
    expect(store.images.page({ method: 'gradcam' }).items.map((i) => i.id)).toEqual([images[0].id, images[3].id]);
    expect(store.images.page({ method: 'lime' }).items).toHaveLength(0);
    expect(store.images.page({ metric: 'deletion-auc' }).items.map((i) => i.id)).toEqual([images[3].id]);
    expect(store.images.page({ rated: true }).items.map((i) => i.id)).toEqual([images[0].id]);
    expect(store.images.count({ rated: false })).toBe(24);
    expect(store.images.count({ rated: true, rater: 'bob' })).toBe(0);
    expect(() => store.images.page({ correct: true })).toThrow(/needs a model/);
    expect(store.images.byPath(path.join(dir, 'lib', 'img007.png'))!.id).toBe(images[7].id);
    expect(store.images.byPath(path.join(dir, 'other', 'img007.png'))).toBeUndefined();
  });

  it('lists unreadable and vanished images only when asked', () => {
    const { lib, images } = seed(3);
    store.images.recordError(images[1].id, 'not a readable image (truncated)');
    store.images.markMissing([images[2].id]);
    expect(store.images.count({ libraryId: lib.id })).toBe(1);
    expect(store.images.page({ status: 'error' }).items).toMatchObject([{ id: images[1].id, error: 'not a readable image (truncated)' }]);
    expect(store.images.page({ status: 'missing' }).items).toMatchObject([{ id: images[2].id, missing: true, error: 'file not found' }]);
    expect(store.images.count({ status: 'all' })).toBe(3);
  });

  it('a second connection to the file sees committed writes (WAL) and the file passes the integrity check', () => {
    seed(5);
    const other = new Database(store.path, { readonly: true });
    expect((other.prepare('SELECT COUNT(*) AS n FROM images').get() as { n: number }).n).toBe(5);
    other.close();
    expect(store.integrityCheck()).toBe('ok');
  });
});
