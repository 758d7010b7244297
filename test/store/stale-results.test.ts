// A file whose content changes after it was explained never shows its old results as current: the rescan drops
// its predictions (the app predicts it again) and its maps are outdated (hidden unless asked for), and a new
// library job explains it again.
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiService } from '../../src-main/api/service.ts';
import { scanLibrary } from '../../src-main/engine/library/scan.ts';
import { HAS_DATA, MODELS, model, sample } from '../helpers/data.ts';

describe.skipIf(!HAS_DATA)('results of a changed file', () => {
  it('are outdated after a rescan: re-predicted, old maps hidden, explained again', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'saliency-stale-'));
    const lib = path.join(root, 'lib');
    mkdirSync(lib);
    const file = path.join(lib, 'photo.jpg');
    copyFileSync(sample('n01440764_tench.JPEG'), file);
    const s = new ApiService({ dataDir: root, model: model(MODELS.squeezenet) });
    await s.init();
    try {
      const library = await s.call('library.open', { path: lib });
      await s.call('jobs.start', { libraryId: library.id, methods: ['gradcam'], seed: 0 });
      await s.jobs.idle();
      const [item] = (await s.call('images.list', { libraryId: library.id, offset: 0, limit: 10, filter: {} })).items;
      const before = await s.call('image.get', { imageId: item.id });
      expect(before.predictions[0].label).toBe('tench');
      expect(before.explanations.map((e) => [e.method, e.targetLabel])).toEqual([['gradcam', 'tench']]);

      // The same path now holds a goldfish.
      copyFileSync(sample('n01443537_goldfish.JPEG'), file);
      utimesSync(file, new Date(), new Date(Date.now() + 5000));
      const scan = await scanLibrary(s.store, Number(library.id));
      expect(scan.changed).toBe(1);

      const after = await s.call('image.get', { imageId: item.id });
      expect(after.predictions[0].label).toBe('goldfish');
      expect(after.explanations).toEqual([]);
      const all = s.store.explanations.list({ imageId: Number(item.id), includeOutdated: true });
      expect(all.map((e) => e.outdated)).toEqual([true]);
      const listed = (await s.call('images.list', { libraryId: library.id, offset: 0, limit: 10, filter: {} })).items[0];
      expect(listed.predicted?.label).toBe('goldfish');
      expect(listed.methods).toEqual([]);

      // A new library job redoes the outdated map, for the new content.
      const again = await s.call('jobs.start', { libraryId: library.id, methods: ['gradcam'], seed: 0 });
      expect(again.total).toBe(1);
      await s.jobs.idle();
      const redone = await s.call('image.get', { imageId: item.id });
      expect(redone.explanations.map((e) => [e.method, e.targetLabel])).toEqual([['gradcam', 'goldfish']]);
      // The old map stays stored (its ratings refer to it), still marked outdated.
      expect(s.store.explanations.list({ imageId: Number(item.id), includeOutdated: true }).map((e) => [e.targetClass, e.outdated])).toEqual([[0, true], [1, false]]);
    } finally {
      s.close();
    }
  });
});
