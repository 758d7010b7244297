// Store benchmark: generates a library of small PNGs (default 10,000), imports it (hash, header,
// thumbnail each), rescans it unchanged, and times the UI's paged queries (200 records a page), then
// prints the database and cache sizes.  Usage: npm run bench:store -- [--images N] [--keep]
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { openStore } from '../src-main/engine/store/store.ts';
import { importFolder, scanLibrary } from '../src-main/engine/library/scan.ts';
import type { ModelInfo } from '../src-main/engine/model/classifier.ts';

const { values } = parseArgs({ options: { images: { type: 'string', default: '10000' }, keep: { type: 'boolean' } } });
const N = Number(values.images);
const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-store-'));
const root = path.join(dir, 'images');
const ms = (t0: number) => performance.now() - t0;
const fmt = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
const dirSize = (d: string): number => readdirSync(d, { withFileTypes: true })
  .reduce((s, e) => s + (e.isDirectory() ? dirSize(path.join(d, e.name)) : statSync(path.join(d, e.name)).size), 0);

// 1. N distinct 48x40 PNGs, 100 per folder, ImageNet-style names (so ground truth is read from them)
let t0 = performance.now();
const wnids = ['n01440764', 'n01443537', 'n01484850', 'n01491361', 'n01494475'];
for (let i = 0; i < N; i++) {
  const sub = path.join(root, `part${String(Math.floor(i / 100)).padStart(3, '0')}`);
  if (i % 100 === 0) mkdirSync(sub, { recursive: true });
  const w = 48, h = 40;
  const px = Buffer.alloc(w * h * 3);
  for (let p = 0; p < w * h; p++) {
    px[3 * p] = (i * 7 + p) & 255;
    px[3 * p + 1] = (i >> 3) & 255;
    px[3 * p + 2] = ((p % w) * 5 + i) & 255;
  }
  const png = await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
  writeFileSync(path.join(sub, `${wnids[i % wnids.length]}_${i}.png`), png);
}
console.log(`generated ${N} PNGs in ${(ms(t0) / 1000).toFixed(1)} s (${fmt(dirSize(root))})`);

// 2. import (hash + header + 160 px WebP thumbnail per file), then an unchanged rescan
const store = openStore(path.join(dir, 'studio.db'));
t0 = performance.now();
const { library, scan } = await importFolder(store, root);
const importMs = ms(t0);
console.log(`import: ${scan.files} files, ${scan.added} added, ${scan.errors} errors in ${(importMs / 1000).toFixed(1)} s (${(scan.files / importMs * 1000).toFixed(0)} files/s, thumbnails included)`);
t0 = performance.now();
const again = await scanLibrary(store, library.id);
console.log(`rescan, nothing changed: ${again.unchanged} unchanged in ${ms(t0).toFixed(0)} ms`);

// 3. synthetic predictions of one model (so the class / correctness filters have data to filter)
const info = { sha256: 'bench-model', path: null, name: 'bench', preset: { name: 'torchvision' }, head: { found: false, reason: 'bench' } } as unknown as ModelInfo;
const model = store.models.ensure(info);
const all = store.images.allOf(library.id);
t0 = performance.now();
store.transaction(() => {
  for (const img of all) {
    const cls = img.id % 3 === 0 ? (img.id % 5) : img.trueClass!; // 2/3 correct
    store.predictions.save({ imageId: img.id, modelId: model.id, topK: [{ classIndex: cls, probability: 0.6, logit: 2 }] });
  }
});
console.log(`stored ${all.length} predictions in one transaction in ${ms(t0).toFixed(0)} ms`);

// 4. pages of 200 records, as the UI asks for them (median of 20)
function time(label: string, f: () => { items: unknown[] }): void {
  const times: number[] = [];
  let n = 0;
  for (let k = 0; k < 20; k++) {
    const t = performance.now();
    n = f().items.length;
    times.push(ms(t));
  }
  times.sort((a, b) => a - b);
  console.log(`page of ${n} records, ${label}: median ${times[10].toFixed(2)} ms, worst ${times[19].toFixed(2)} ms`);
}
const mid = all[Math.floor(all.length / 2)].id;
time('first page', () => store.images.page({ libraryId: library.id, limit: 200 }));
time('from the middle (keyset)', () => store.images.page({ libraryId: library.id, limit: 200, afterId: mid }));
time('with predictions joined', () => store.images.page({ libraryId: library.id, modelId: model.id, limit: 200, afterId: mid }));
time('predicted class 1', () => store.images.page({ libraryId: library.id, modelId: model.id, predictedClass: 1, limit: 200 }));
time('misclassified', () => store.images.page({ libraryId: library.id, modelId: model.id, correct: false, limit: 200 }));
time('not rated', () => store.images.page({ libraryId: library.id, rated: false, limit: 200 }));
const tc = performance.now();
const count = store.images.count({ libraryId: library.id, modelId: model.id, correct: false });
console.log(`count of misclassified: ${count} in ${ms(tc).toFixed(1)} ms`);

store.db.pragma('wal_checkpoint(TRUNCATE)');
const dbBytes = statSync(store.path).size;
console.log(`database: ${fmt(dbBytes)} (${(dbBytes / N).toFixed(0)} bytes per image); thumbnails: ${fmt(dirSize(path.join(store.cacheDir, 'thumbnails')))}; integrity ${store.integrityCheck()}`);
store.close();
if (values.keep) console.log(`kept ${dir}`);
else rmSync(dir, { recursive: true, force: true });
