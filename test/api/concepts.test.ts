// concepts.image on real data: typed captions of ImageNet samples imported into a library, real MobileNetV2
// predictions as the regression target, and the SMER scores the Image screen shows.
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiService } from '../../src-main/api/service.ts';
import type { Res } from '../../src-main/api/contract.ts';
import { importCaptionFile } from '../../src-main/engine/concepts/store-captions.ts';
import { conceptWords } from '../../src-main/engine/concepts/words.ts';
import { HAS_DATA, MODELS, REPO, model, sample } from '../helpers/data.ts';

const CAPTIONS = path.join(REPO, 'resources/captions/imagenet-samples.json');

interface CaptionFileJson { version: 1; groups: Record<string, (number | [number, number])[]>; captions: { filename: string; caption: string; author: string }[] }

/** A library of the first `n` of `every`-th captioned samples, with a captions file of just those. */
async function captionedLibrary(root: string, name: string, pick: (i: number) => boolean) {
  const all = JSON.parse(readFileSync(CAPTIONS, 'utf8')) as CaptionFileJson;
  const captions = all.captions.filter((_, i) => pick(i));
  const lib = path.join(root, name);
  mkdirSync(lib);
  for (const c of captions) copyFileSync(sample(c.filename), path.join(lib, c.filename));
  const file = path.join(root, `${name}.json`);
  writeFileSync(file, JSON.stringify({ version: 1, imagesDir: lib, groups: all.groups, captions }));
  return { lib, file, captions, groups: all.groups };
}

describe.skipIf(!HAS_DATA)('concepts.image', () => {
  it('fits SMER on the library captions and keeps the fidelity identity; says why when captions are too few', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'saliency-concepts-'));
    const big = await captionedLibrary(root, 'big', (i) => i % 2 === 0);
    const small = await captionedLibrary(root, 'small', (i) => i % 2 === 1 && i < 10);
    const api = new ApiService({ dataDir: root, model: model(MODELS.mobilenet) });
    await api.init();
    try {
      const library = await api.call('library.open', { path: big.lib });
      const few = await api.call('library.open', { path: small.lib });
      await api.jobs.idle();
      const imported = await importCaptionFile(api.store, big.file, Number(library.id));
      expect(imported.added).toBe(big.captions.length);
      await importCaptionFile(api.store, small.file, Number(few.id));
      const page = await api.call('images.list', { libraryId: library.id, offset: 0, limit: 500, filter: {} });
      expect(page.total).toBe(big.captions.length);

      const results: Res<'concepts.image'>[] = [];
      for (const img of page.items.slice(0, 12)) {
        const r = await api.call('concepts.image', { imageId: img.id, groups: big.groups });
        results.push(r);
        expect(r.captions).toBe(big.captions.length);
        expect(r.caption).toBe(big.captions.find((c) => c.filename === img.name)!.caption);
        if (!r.available) {
          // Only an image whose prediction lies in no group may be left out, and it says so.
          expect(r.reason).toMatch(/in no group|no concept word/);
          continue;
        }
        expect(r.fitted).toBeGreaterThanOrEqual(10);
        expect(r.classes).toContain(r.target);
        expect(r.classes).toContain(r.predicted);
        expect(r.classes.length).toBeGreaterThanOrEqual(2);
        expect(r.accuracy!.trainN + r.accuracy!.testN).toBe(r.fitted);
        // The words are the caption's concept words, each counted as often as it occurs.
        const words = conceptWords(r.caption);
        expect(r.words.map((w) => w.word).sort()).toEqual([...new Set(words)].sort());
        expect(r.words.reduce((s, w) => s + w.count, 0)).toBe(words.length);
        // SMER's identity: the count-weighted mean of the per-word logits is the caption's logit.
        const mean = r.words.reduce((s, w) => s + w.count * w.smer, 0) / words.length;
        expect(Math.abs(mean - r.score!)).toBeLessThan(1e-9);
        expect(r.fidelityError!).toBeLessThan(1e-9);
        expect(r.probability!).toBeGreaterThan(0);
        expect(r.probability!).toBeLessThan(1);
        expect(r.words.every((w) => Number.isFinite(w.lime))).toBe(true);
        // Sorted best SMER first.
        for (let k = 1; k < r.words.length; k++) expect(r.words[k - 1].smer).toBeGreaterThanOrEqual(r.words[k].smer);
      }
      const ok = results.filter((r) => r.available);
      expect(ok.length).toBeGreaterThanOrEqual(8);
      // LIME and SMER are different explanations of the same model: somewhere their weights differ.
      expect(ok.some((r) => r.words.some((w) => Math.abs(w.smer - w.lime) > 1e-6))).toBe(true);

      // Cached per caption set: the same answer again; a changed caption refits and is seen.
      const first = page.items.find((_, i) => results[i]?.available)!;
      expect(await api.call('concepts.image', { imageId: first.id, groups: big.groups })).toEqual(results[page.items.indexOf(first)]);
      await api.call('annotations.save', { imageId: first.id, boxes: [], mask: null, caption: 'orange striped tiger cat on sofa', concepts: [], author: 'annotator' });
      const edited = await api.call('concepts.image', { imageId: first.id, groups: big.groups });
      expect(edited.caption).toBe('orange striped tiger cat on sofa');
      expect(edited.available).toBe(true);
      expect(edited.words.map((w) => w.word).sort()).toEqual([...new Set(conceptWords(edited.caption))].sort());

      // Too few captions: a plain reason, no scores.
      const fewImages = await api.call('images.list', { libraryId: few.id, offset: 0, limit: 10, filter: {} });
      const none = await api.call('concepts.image', { imageId: fewImages.items[0].id, groups: big.groups });
      // Without a groups argument the library's own groups (stored when its captions file was imported) are used.
      const stored = await api.call('concepts.image', { imageId: page.items[0].id });
      expect(stored).toEqual(await api.call('concepts.image', { imageId: page.items[0].id, groups: big.groups }));
      expect(stored.available).toBe(true);
      // With no groups at all each predicted ImageNet class is its own: these samples are mostly one per class.
      api.store.libraries.setConceptGroups(Number(library.id), null);
      const ungrouped = await api.call('concepts.image', { imageId: page.items[0].id });
      expect(ungrouped.available).toBe(false);
      expect(ungrouped.reason).toMatch(/this library has 45 captioned image\(s\): \d+ usable in \d+ class\(es\) with 2\+ images each/);
      expect(none.available).toBe(false);
      expect(none.words).toEqual([]);
      expect(none.reason).toMatch(/needs captions of at least 10 images of 2\+ classes .*; this library has 5 captioned image\(s\)/);
    } finally {
      api.close();
    }
  }, 180_000);
});
