// Captions in the database: the real captions file imported as annotations of a library of the real sample
// images (no duplicates on re-import, all-or-nothing on unknown files), read back as a captions file, and the
// `saliency smer import-captions` command.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HAS_DATA, MODELS, REPO, model, sample } from '../helpers/data.ts';
import { tempDir } from '../helpers/files.ts';
import { openStore, type Store } from '../../src-main/engine/store/store.ts';
import { importFolder } from '../../src-main/engine/library/scan.ts';
import { readCaptionFile, type CaptionFile } from '../../src-main/engine/concepts/captions-file.ts';
import { importCaptionFile, importCaptions, libraryCaptions, readGroupsFile } from '../../src-main/engine/concepts/store-captions.ts';
import { smer } from '../../src-main/cli/commands/smer.ts';

const CAPTIONS = path.join(REPO, 'resources/captions/imagenet-samples.json');

describe.skipIf(!HAS_DATA)('captions in the store', () => {
  let store: Store;
  let dbFile: string;
  let libraryId: number;
  let file: CaptionFile;
  const count = (kind: 'caption' | 'box') => store.images.allOf(libraryId).reduce((n, i) => n + store.annotations.list(i.id, kind).length, 0);

  beforeAll(async () => {
    file = await readCaptionFile(CAPTIONS);
    const dir = tempDir();
    const folder = path.join(dir, 'images');
    mkdirSync(path.join(folder, 'sub'), { recursive: true });
    for (const c of file.captions) copyFileSync(sample(c.filename), path.join(folder, c.filename));
    copyFileSync(sample('n01440764_tench.JPEG'), path.join(folder, 'sub', 'n01440764_tench.JPEG')); // an uncaptioned extra
    dbFile = path.join(dir, 'studio.db');
    store = openStore(dbFile);
    libraryId = (await importFolder(store, folder, { thumbnails: false })).library.id;
  }, 120_000);
  afterAll(() => store?.close());

  it('imports every caption and box once; re-importing adds nothing; a changed caption replaces the old one', async () => {
    const boxes = file.captions.reduce((n, c) => n + (c.boxes?.length ?? 0), 0);
    const r = await importCaptionFile(store, CAPTIONS, libraryId);
    expect(r).toMatchObject({ captions: 89, added: 89, updated: 0, unchanged: 0, boxesAdded: boxes, boxesUnchanged: 0 });
    expect(count('caption')).toBe(89);
    const again = await importCaptionFile(store, CAPTIONS, libraryId);
    expect(again).toMatchObject({ added: 0, updated: 0, unchanged: 89, boxesAdded: 0, boxesUnchanged: boxes });
    expect(count('caption')).toBe(89);
    expect(count('box')).toBe(4); // one box annotation per captioned image with boxes (one author each)

    const chihuahua = store.images.allOf(libraryId).find((i) => i.relPath === 'n02085620_Chihuahua.JPEG')!;
    const stored = store.annotations.list(chihuahua.id, 'caption');
    expect(stored.map((a) => [a.author, a.data])).toEqual([['annotator', { text: 'small dog in grey sweater on table' }]]);
    const edited = { ...file, captions: [{ ...file.captions[0], caption: 'tiny dog wearing a grey jumper' }] };
    expect(importCaptions(store, edited, libraryId)).toMatchObject({ added: 0, updated: 1 });
    expect(store.annotations.list(chihuahua.id, 'caption').map((a) => (a.data as { text: string }).text)).toEqual(['tiny dog wearing a grey jumper']);
    // Another author's caption of the same image is added next to it, not over it.
    expect(importCaptions(store, { ...file, captions: [{ ...file.captions[0], author: 'bob' }] }, libraryId)).toMatchObject({ added: 1 });
    expect(store.annotations.list(chihuahua.id, 'caption')).toHaveLength(2);
    importCaptions(store, file, libraryId); // back to the file's text
  });

  it('an unknown file name stops the import before anything is written, naming the file', () => {
    const before = count('caption');
    const bad = { ...file, captions: [{ ...file.captions[1], caption: 'changed' }, { filename: 'n99999999_nothing.JPEG', caption: 'a cat', author: 'annotator' }] };
    expect(() => importCaptions(store, bad, libraryId)).toThrow(/1 captioned file\(s\) are not in library \d+ .*n99999999_nothing\.JPEG.*Nothing was imported/);
    expect(count('caption')).toBe(before);
    const second = store.images.allOf(libraryId).find((i) => i.relPath === file.captions[1].filename)!;
    expect((store.annotations.list(second.id, 'caption')[0].data as { text: string }).text).toBe(file.captions[1].caption);
    expect(() => importCaptions(store, file, 999)).toThrow(/no library "999"/);
  });

  it('reads the captions back as a captions file: latest caption (or one author\'s), boxes, groups', async () => {
    const groups = await readGroupsFile(CAPTIONS);
    expect(Object.keys(groups)).toEqual(Object.keys(file.groups!));
    const back = libraryCaptions(store, libraryId, { groups, author: 'annotator' });
    expect(back.data.captions).toHaveLength(89);
    expect(back.data.groups).toEqual(file.groups);
    const byName = new Map(back.data.captions.map((c) => [c.filename, c]));
    for (const c of file.captions) {
      const b = byName.get(c.filename)!;
      expect(b.caption).toBe(c.caption);
      expect(b.boxes ?? []).toEqual(c.boxes ?? []);
      expect(store.images.get(back.imageIds.get(c.filename)!)!.relPath).toBe(c.filename);
    }
    // Without an author filter the latest caption wins: the annotator's, stored again after bob's by the last re-import.
    expect(libraryCaptions(store, libraryId).data.captions.find((c) => c.filename === 'n02085620_Chihuahua.JPEG')!.author).toBe('annotator');
    expect(libraryCaptions(store, libraryId, { author: 'bob' }).data.captions.map((c) => [c.filename, c.author])).toEqual([['n02085620_Chihuahua.JPEG', 'bob']]);
    const badGroups = path.join(tempDir(), 'groups.json');
    writeFileSync(badGroups, JSON.stringify({ groups: { dog: ['x'] } }));
    await expect(readGroupsFile(badGroups)).rejects.toThrow(/groups: dog\.0/);
  });

  it('saliency smer import-captions: counts, and clear usage errors', async () => {
    const out: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((s: unknown) => { out.push(String(s)); });
    try {
      expect(await smer.run(['import-captions', CAPTIONS, '--library', String(libraryId), '--db', dbFile, '--json'])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(JSON.parse(out.join('\n'))).toMatchObject({ captions: 89, added: 0, unchanged: 89 });
    await expect(smer.run(['import-captions', '--library', '1', '--db', dbFile])).rejects.toThrow(/needs the captions file/);
    await expect(smer.run(['import-captions', CAPTIONS, '--db', dbFile])).rejects.toThrow(/--library <id\|folder> is required/);
    await expect(smer.run(['fit', '--captions', CAPTIONS, '--library', '1'])).rejects.toThrow(/not both/);
  });

  it('saliency smer fit --library: the stored captions, labelled by MobileNetV2, give the same model as the file', async () => {
    const fit = async (source: string[]) => {
      const out: string[] = [];
      const spy = vi.spyOn(console, 'log').mockImplementation((s: unknown) => { out.push(String(s)); });
      try {
        expect(await smer.run(['fit', ...source, '--model', model(MODELS.mobilenet), '--test-fraction', '0', '--json'])).toBe(0);
      } finally {
        spy.mockRestore();
      }
      return JSON.parse(out.join('\n'));
    };
    const stored = await fit(['--library', String(libraryId), '--db', dbFile, '--author', 'annotator', '--groups', CAPTIONS]);
    const fromFile = await fit(['--captions', CAPTIONS]);
    expect(stored.documents).toBe(85);
    expect(stored.classes).toEqual(fromFile.classes);
    expect(stored.fidelity.worst).toBeLessThan(1e-9);
    // Trained on every caption (no test split), the fit does not depend on the caption order: same top concepts.
    expect(stored.trainAccuracy).toBe(fromFile.trainAccuracy);
    for (const c of stored.classes) {
      stored.topConcepts[c].forEach((r: { word: string; score: number }, i: number) => {
        expect(r.word).toBe(fromFile.topConcepts[c][i].word);
        expect(r.score).toBeCloseTo(fromFile.topConcepts[c][i].score, 4);
      });
    }
    await expect(smer.run(['fit', '--library', String(libraryId), '--db', dbFile, '--author', 'nobody', '--model', model(MODELS.mobilenet)])).rejects.toThrow(/has no caption by nobody/);
  }, 120_000);
});
