// What the app records survives a restart: a second ApiService on the same database sees the maps, ratings,
// annotations and ensembles of the first.
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiService } from '../../src-main/api/service.ts';
import { HAS_DATA, MODELS, model, sample } from '../helpers/data.ts';

describe.skipIf(!HAS_DATA)('ApiService on the SQLite store', () => {
  it('keeps maps, ratings, annotations and ensembles across a restart', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'saliency-persist-'));
    const lib = path.join(root, 'lib');
    mkdirSync(lib);
    for (const f of ['n01440764_tench.JPEG', 'n02123045_tabby.JPEG']) copyFileSync(sample(f), path.join(lib, f));
    const opts = { dataDir: root, model: model(MODELS.mobilenet) };

    const a = new ApiService(opts);
    await a.init();
    const library = await a.call('library.open', { path: lib });
    await a.call('jobs.start', { libraryId: library.id, methods: ['gradcam', 'ablationcam'], seed: 0 });
    await a.jobs.idle();
    const page = await a.call('images.list', { libraryId: library.id, offset: 0, limit: 10, filter: {} });
    expect(page.items.map((i) => [i.name, i.predicted?.label, i.correct, i.methods.sort()])).toEqual([
      ['n01440764_tench.JPEG', 'tench', true, ['ablationcam', 'gradcam']],
      ['n02123045_tabby.JPEG', 'Egyptian_cat', false, ['ablationcam', 'gradcam']],
    ]);
    const tench = await a.call('image.get', { imageId: page.items[0].id });
    const [g, ab] = tench.explanations;
    await a.call('ratings.likert', { explanationId: g.id, rater: 'ann', score: 5, blind: true });
    await a.call('ratings.likert', { explanationId: ab.id, rater: 'ann', score: 2, blind: true });
    await a.call('ratings.pairwise', { a: g.id, b: ab.id, winner: 'a', rater: 'ann', blind: true });
    const annotation = { imageId: tench.image.id, boxes: [{ x: 0.1, y: 0.2, w: 0.5, h: 0.4, label: 'fish' }], mask: { width: 4, height: 2, runs: [2, 3, 3] }, caption: 'the fish', concepts: ['fins'], author: 'ann' };
    await a.call('annotations.save', annotation);
    const derived = await a.call('ensemble.derive', { source: 'likert' });
    expect(derived.weights.gradcam).toBeCloseTo(4 / 5, 6); // (5-1)/4 vs (2-1)/4, normalised
    await a.call('ensemble.save', { name: 'liked', weights: derived.weights, source: 'likert' });
    // Ensembles of the methods are maps like the others (made by the batch runner, rated and listed the same way).
    const ens = await a.call('jobs.start', { libraryId: library.id, methods: ['gradcam', 'ablationcam'], seed: 0, ensembles: ['mean', 'borda'] });
    expect(ens.label).toContain('ensemble:mean');
    await a.jobs.idle();
    const withEnsembles = await a.call('image.get', { imageId: page.items[1].id });
    expect(withEnsembles.explanations.map((e) => e.method).sort()).toEqual(['ablationcam', 'ensemble:borda', 'ensemble:mean', 'gradcam']);
    const bad = await a.call('jobs.start', { libraryId: library.id, methods: ['gradcam', 'ablationcam'], seed: 0, ensembles: ['nonsense'] }).catch((e: Error) => e.message);
    expect(bad).toMatch(/nonsense/);
    // A second library job skips the maps that exist.
    const again = await a.call('jobs.start', { libraryId: library.id, methods: ['gradcam'], seed: 0 });
    expect(again.total).toBe(0);
    a.close();

    const b = new ApiService(opts);
    await b.init();
    expect((await b.call('library.list', {})).map((l) => l.imageCount)).toEqual([2]);
    const again2 = await b.call('image.get', { imageId: tench.image.id });
    expect(again2.explanations.map((e) => e.id).slice(0, 2)).toEqual(tench.explanations.map((e) => e.id));
    const map = await b.call('map.get', { explanationId: g.id, maxSide: 64 });
    expect(map.max).toBeGreaterThan(map.min);
    const summary = await b.call('ratings.summary', {});
    expect(summary.map((s) => [s.method, s.likertMean, s.pairwiseWins, s.pairwiseCount])).toEqual([['ablationcam', 2, 0, 1], ['gradcam', 5, 1, 1]]);
    expect(again2.explanations.map((e) => e.method).sort()).toEqual(['ablationcam', 'ensemble:borda', 'ensemble:mean', 'gradcam']);
    const saved = await b.call('annotations.get', { imageId: tench.image.id });
    expect(saved.caption).toBe('the fish');
    expect(saved.concepts).toEqual(['fins']);
    expect(saved.mask).toEqual(annotation.mask);
    expect(saved.boxes[0].x).toBeCloseTo(0.1, 6);
    expect(saved.boxes[0].h).toBeCloseTo(0.4, 6);
    expect((await b.call('ensemble.list', {})).map((e) => e.name)).toEqual(['liked']);
    const preview = await b.call('ensemble.preview', { imageId: tench.image.id, weights: derived.weights, maxSide: 64 });
    expect(preview.used.sort()).toEqual(['ablationcam', 'gradcam']);
    const filtered = await b.call('images.list', { libraryId: library.id, offset: 0, limit: 10, filter: { rated: true } });
    expect(filtered.items.map((i) => i.name)).toEqual(['n01440764_tench.JPEG']);
    const wrong = await b.call('images.list', { libraryId: library.id, offset: 0, limit: 10, filter: { correct: 'no' } });
    expect(wrong.items.map((i) => i.name)).toEqual(['n02123045_tabby.JPEG']);
    b.close();
  });
});
