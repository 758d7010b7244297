// Importing real image folders: hashes, dimensions, ground truth from ImageNet file names, thumbnails,
// incremental rescans (new, changed, touched, removed) and unreadable files recorded, never thrown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { HAS_DATA, manifest, sample } from '../helpers/data.ts';
import { openStore, type Store } from '../../src-main/engine/store/store.ts';
import { importFolder, scanLibrary } from '../../src-main/engine/library/scan.ts';
import { ensureThumbnail } from '../../src-main/engine/library/thumbnails.ts';
import { trueClassFromPath } from '../../src-main/engine/library/ground-truth.ts';
import { listImageFiles } from '../../src-main/engine/library/walk.ts';

describe('ground truth from file names', () => {
  it('reads ImageNet wnids from the file or folder name', () => {
    expect(trueClassFromPath('n01440764_tench.JPEG')).toBe(0);
    expect(trueClassFromPath('val/n01443537/ILSVRC2012_val_1.JPEG')).toBe(1);
    expect(trueClassFromPath('holiday/IMG_0001.jpg')).toBeNull();
    expect(trueClassFromPath('n99999999_unknown.jpg')).toBeNull();
  });
});

describe.skipIf(!HAS_DATA)('library import and rescan (real JPEGs)', () => {
  let dir: string;
  let root: string;
  let store: Store;
  let rows: Awaited<ReturnType<typeof manifest>>;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'library-test-'));
    root = path.join(dir, 'photos');
    mkdirSync(path.join(root, 'nested', 'deeper'), { recursive: true });
    rows = (await manifest()).slice(0, 12);
    rows.forEach((r, i) => copyFileSync(sample(r.filename), path.join(root, i < 6 ? '' : 'nested/deeper', r.filename)));
    writeFileSync(path.join(root, 'corrupt.jpg'), Buffer.concat([readFileSync(sample(rows[0].filename)).subarray(0, 600)])); // truncated JPEG
    writeFileSync(path.join(root, 'nested', 'empty.png'), '');
    writeFileSync(path.join(root, 'nested', 'notes.txt'), 'not an image');
    writeFileSync(path.join(root, '.hidden.jpg'), 'skipped');
    store = openStore(path.join(dir, 'db', 'studio.db'));
  });
  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports a folder recursively with hashes, dimensions, classes and thumbnails; bad files become recorded errors', async () => {
    const { library, scan } = await importFolder(store, root);
    expect(scan).toMatchObject({ files: 14, added: 14, errors: 2, removed: 0 });
    const ok = store.images.page({ libraryId: library.id, limit: 100 }).items;
    expect(ok).toHaveLength(12);
    for (const img of ok) {
      const row = rows.find((r) => img.relPath.endsWith(r.filename))!;
      expect(img.trueClass).toBe(row.classIndex);
      expect(img.sha256).toBe(createHash('sha256').update(readFileSync(img.path)).digest('hex'));
      const meta = await sharp(img.path).metadata();
      expect([img.width, img.height]).toEqual([meta.width, meta.height]);
      const thumb = await sharp(store.thumbnailPath(img.sha256!)).metadata();
      expect(thumb.format).toBe('webp');
      expect(Math.max(thumb.width!, thumb.height!)).toBe(160);
    }
    const bad = store.images.page({ libraryId: library.id, status: 'error' }).items;
    expect(bad.map((b) => b.relPath).sort()).toEqual(['corrupt.jpg', path.join('nested', 'empty.png')]);
    expect(bad.find((b) => b.relPath === 'corrupt.jpg')!.error).toMatch(/not a readable image/);
    expect(bad.find((b) => b.relPath.endsWith('empty.png'))!.error).toMatch(/empty/);
    await expect(ensureThumbnail(store, bad[0].id)).rejects.toThrow(/no thumbnail/);
  });

  it('rescans incrementally: unchanged files are not read, touched ones keep their content, changes and removals are found', async () => {
    const lib = store.libraries.byRoot(root)!;
    const again = await scanLibrary(store, lib.id);
    expect(again).toMatchObject({ files: 14, added: 0, changed: 0, unchanged: 14, removed: 0 });

    const moved = path.join(root, rows[1].filename);
    const before = store.images.page({ libraryId: lib.id, limit: 100 }).items.find((i) => i.path === moved)!;
    utimesSync(moved, new Date(), new Date(Date.now() + 5000)); // touched: same bytes, new time
    copyFileSync(sample((await manifest())[30].filename), path.join(root, 'nested', 'new.JPEG')); // new
    copyFileSync(sample((await manifest())[40].filename), path.join(root, rows[2].filename)); // changed content
    unlinkSync(path.join(root, rows[3].filename)); // removed
    const scan = await scanLibrary(store, lib.id);
    expect(scan).toMatchObject({ files: 14, added: 1, changed: 1, touched: 1, removed: 1, unchanged: 11 });
    const after = store.images.get(before.id)!;
    expect(after.sha256).toBe(before.sha256);
    expect(after.mtimeMs).not.toBe(before.mtimeMs);
    const changed = store.images.page({ libraryId: lib.id, limit: 100 }).items.find((i) => i.relPath === rows[2].filename)!;
    expect(changed.sha256).toBe(createHash('sha256').update(readFileSync(sample((await manifest())[40].filename))).digest('hex'));
    // the file name still says the old wnid: ground truth follows the name
    expect(changed.trueClass).toBe(rows[2].classIndex);
    expect(store.images.page({ libraryId: lib.id, status: 'missing' }).items.map((i) => i.relPath)).toEqual([rows[3].filename]);

    // the removed file comes back: present again, same row
    copyFileSync(sample(rows[3].filename), path.join(root, rows[3].filename));
    const back = await scanLibrary(store, lib.id);
    expect(back).toMatchObject({ changed: 1, removed: 0 });
    expect(store.images.count({ libraryId: lib.id, status: 'missing' })).toBe(0);
  });

  it('never lists the cache folder or hidden files, and names a missing folder clearly', async () => {
    const inside = openStore(path.join(root, 'studio.db'));
    try {
      const { scan } = await importFolder(inside, root);
      expect(scan.files).toBe((await scanLibrary(store, store.libraries.byRoot(root)!.id)).files); // the thumbnails written under root/studio-cache are not images of the library
      expect((await listImageFiles(root, { exclude: [inside.cacheDir] })).some((f) => f.relPath.includes('studio-cache'))).toBe(false);
    } finally {
      inside.close();
    }
    await expect(importFolder(store, path.join(dir, 'nope'))).rejects.toThrow(/nope: not found or not a folder/);
  });
});
