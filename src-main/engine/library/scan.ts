// Importing and rescanning a library folder. A file is looked at again only when its size or modification
// time changed; then its content hash decides whether it really changed. New and changed files are hashed,
// measured and thumbnailed; vanished files are marked missing (their results and ratings are kept).
// Unreadable or corrupt files are recorded with their error; nothing in a folder can make the scan fail.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { Store } from '../store/store.ts';
import type { ImageFileState, LibraryRecord } from '../store/images-repo.ts';
import { listImageFiles, type FoundFile, type SkippedPath } from './walk.ts';
import { trueClassFromPath } from './ground-truth.ts';
import { writeThumbnail } from './thumbnails.ts';
import { realpathInside } from '../store/paths.ts';
import { SaliencyError } from '../types.ts';

export interface ScanOptions {
  /** Make thumbnails during the scan (default true); otherwise only the header is checked. */
  thumbnails?: boolean;
  /** Files decoded at once (default 4). */
  concurrency?: number;
  onProgress?: (p: { done: number; total: number; file: string }) => void;
}

export interface ScanSummary {
  libraryId: number;
  files: number;
  added: number;
  changed: number;
  unchanged: number;
  /** Modification time changed, content did not. */
  touched: number;
  removed: number;
  /** Files recorded with an error in this scan. */
  errors: number;
  /** Folders and files the scan could not take (unreadable folders, broken symbolic links), with the reason. */
  skipped: SkippedPath[];
  millis: number;
}

/** Adds a folder as a library (or finds it) and scans it. */
export async function importFolder(store: Store, folder: string, opts: ScanOptions & { name?: string; labelsSource?: 'auto' | 'none' } = {}): Promise<{ library: LibraryRecord; scan: ScanSummary }> {
  const isDir = await stat(folder).then((s) => s.isDirectory(), () => false);
  if (!isDir) throw new SaliencyError(`library folder ${folder}: not found or not a folder`, 'NOT_FOUND');
  const library = store.libraries.add(folder, { name: opts.name, labelsSource: opts.labelsSource });
  return { library, scan: await scanLibrary(store, library.id, opts) };
}

export async function scanLibrary(store: Store, libraryId: number, opts: ScanOptions = {}): Promise<ScanSummary> {
  const t0 = performance.now();
  const lib = store.libraries.find(libraryId);
  store.ensureCacheDir();
  const skipped: SkippedPath[] = [];
  const found = await listImageFiles(lib.root, { exclude: [store.cacheDir], skipped });
  const known = new Map(store.images.allOf(lib.id).map((r) => [r.relPath, r]));
  const summary: ScanSummary = { libraryId: lib.id, files: found.length, added: 0, changed: 0, unchanged: 0, touched: 0, removed: 0, errors: 0, skipped, millis: 0 };

  const toExamine: FoundFile[] = [];
  for (const f of found) {
    const k = known.get(f.relPath);
    if (k && !k.missing && k.sha256 !== null && k.bytes === f.bytes && k.mtimeMs === f.mtimeMs) summary.unchanged++;
    else toExamine.push(f);
  }
  const seen = new Set(found.map((f) => f.relPath));
  const vanished = [...known.values()].filter((k) => !seen.has(k.relPath) && !k.missing).map((k) => k.id);
  store.images.markMissing(vanished);
  summary.removed = vanished.length;

  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const chunk = 64;
  let done = summary.unchanged;
  for (let i = 0; i < toExamine.length; i += chunk) {
    const files = toExamine.slice(i, i + chunk);
    const states: (ImageFileState | null)[] = new Array(files.length);
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, async () => {
      for (let j = next++; j < files.length; j = next++) {
        states[j] = await examine(store, lib, files[j], opts.thumbnails ?? true);
        opts.onProgress?.({ done: ++done, total: found.length, file: files[j].relPath });
      }
    }));
    const writes: ImageFileState[] = [];
    const touches: { id: number; mtimeMs: number }[] = [];
    files.forEach((f, j) => {
      const s = states[j]!;
      const k = known.get(f.relPath);
      if (!k) summary.added++;
      else if (k.sha256 === s.sha256 && s.error === null && k.error === null && !k.missing) { summary.touched++; touches.push({ id: k.id, mtimeMs: f.mtimeMs }); return; }
      else summary.changed++;
      if (s.error) summary.errors++;
      writes.push(s);
    });
    store.transaction(() => {
      store.images.upsertFiles(lib.id, writes);
      store.images.touch(touches);
    });
  }
  store.libraries.markScanned(lib.id);
  summary.millis = performance.now() - t0;
  return summary;
}

/** Reads one file: hash, dimensions, ground truth, thumbnail; any failure becomes its recorded error. */
async function examine(store: Store, lib: LibraryRecord, f: FoundFile, thumbnails: boolean): Promise<ImageFileState> {
  const state: ImageFileState = {
    relPath: f.relPath, sha256: null, bytes: f.bytes, mtimeMs: f.mtimeMs, width: null, height: null,
    trueClass: lib.labelsSource === 'auto' ? trueClassFromPath(f.relPath) : null, error: null,
  };
  // A symlink that leads out of the library is recorded as an error and never read (as the app refuses it).
  const outside = await realpathInside(lib.root, path.join(lib.root, f.relPath)).then(() => false, (e: SaliencyError) => e.code === 'PATH_OUTSIDE_LIBRARY');
  if (outside) { state.error = 'links to a file outside the library: not read'; return state; }
  let bytes: Buffer;
  try {
    bytes = await readFile(path.join(lib.root, f.relPath));
  } catch (e) {
    state.error = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `unreadable: ${(e as Error).message}`;
    return state;
  }
  state.sha256 = createHash('sha256').update(bytes).digest('hex');
  state.bytes = bytes.length;
  if (bytes.length === 0) { state.error = 'the file is empty'; return state; }
  try {
    const meta = await sharp(bytes).metadata();
    if (!meta.width || !meta.height) throw new Error('no dimensions');
    const swap = (meta.orientation ?? 1) >= 5; // EXIF rotations by 90 degrees
    state.width = swap ? meta.height : meta.width;
    state.height = swap ? meta.width : meta.height;
    if (thumbnails) await writeThumbnail(bytes, store.thumbnailPath(state.sha256));
  } catch (e) {
    state.error = `not a readable image (${String((e as Error).message).split('\n')[0]})`;
  }
  return state;
}
