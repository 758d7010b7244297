// Captions in the database: a captions file imported as annotations of a library's images (kind "caption",
// data {text, prompt?}; concept boxes as kind "box", data [{x, y, width, height, label}] in original-image
// pixels, as the app stores them), and read back as a captions file for the concept pipeline.
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import type { Store } from '../store/store.ts';
import type { ImageRecord } from '../store/images-repo.ts';
import type { AnnotationRecord } from '../store/feedback-repo.ts';
import { SaliencyError } from '../types.ts';
import { type CaptionEntry, type CaptionFile, ClassGroups, type ConceptBox, readCaptionFile } from './captions-file.ts';

/** What the app and the importer store as a caption annotation. */
interface CaptionData { text: string; prompt?: string }
/** One box of a box annotation (original-image pixels); label names the concept. */
interface StoredBox { x: number; y: number; width: number; height: number; label?: string }

export interface CaptionImportResult {
  library: { id: number; root: string };
  captions: number;
  added: number;
  /** Same author, new text: the old caption is replaced. */
  updated: number;
  unchanged: number;
  boxesAdded: number;
  boxesUnchanged: number;
}

const norm = (p: string) => p.split(path.sep).join('/').replace(/^\.\//, '');

/** The library image of each captioned file: same relative path, else the only image with that file name. */
function matchImages(images: ImageRecord[], filenames: string[], where: string): Map<string, ImageRecord> {
  const byRel = new Map(images.map((i) => [norm(i.relPath), i]));
  const byBase = new Map<string, ImageRecord[]>();
  for (const i of images) byBase.set(path.basename(i.relPath), [...(byBase.get(path.basename(i.relPath)) ?? []), i]);
  const out = new Map<string, ImageRecord>();
  const unknown: string[] = [];
  const ambiguous: string[] = [];
  for (const f of filenames) {
    const hit = byRel.get(norm(f));
    const same = byBase.get(path.basename(f)) ?? [];
    if (hit) out.set(f, hit);
    else if (same.length === 1) out.set(f, same[0]);
    else if (same.length > 1) ambiguous.push(`${f} (${same.map((i) => i.relPath).join(', ')})`);
    else unknown.push(f);
  }
  const problems = [
    unknown.length ? `${unknown.length} captioned file(s) are not in ${where}: ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ', ...' : ''}` : '',
    ambiguous.length ? `${ambiguous.length} file name(s) match several images, give the relative path: ${ambiguous.slice(0, 5).join('; ')}` : '',
  ].filter(Boolean);
  if (problems.length) throw new SaliencyError(`${problems.join('; ')}. Nothing was imported.`, 'NOT_FOUND');
  return out;
}

const sameBox = (a: StoredBox, b: StoredBox) => a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height && (a.label ?? '') === (b.label ?? '');

/**
 * Stores each caption of the file as a caption annotation of the library image with that file name, and its
 * concept boxes as box annotations. Re-importing adds nothing twice: the same author's caption is kept when
 * the text is the same and replaced when it changed; boxes already stored are skipped. All or nothing: an
 * unknown file name stops the import before anything is written.
 */
export function importCaptions(store: Store, data: CaptionFile, libraryId: number): CaptionImportResult {
  const library = store.libraries.find(libraryId);
  const matched = matchImages(store.images.allOf(library.id), data.captions.map((c) => c.filename), `library ${library.id} (${library.root})`);
  const r: CaptionImportResult = { library: { id: library.id, root: library.root }, captions: data.captions.length, added: 0, updated: 0, unchanged: 0, boxesAdded: 0, boxesUnchanged: 0 };
  store.transaction(() => {
    // The file's class groups become the library's, so the app and reports pool classes the same way.
    if (data.groups) store.libraries.setConceptGroups(library.id, data.groups as Record<string, unknown>);
    for (const entry of data.captions) {
      const image = matched.get(entry.filename)!;
      const text = entry.caption.trim();
      if (text) {
        const mine = store.annotations.list(image.id, 'caption').filter((a) => a.author === entry.author);
        const value: CaptionData = entry.prompt ? { text, prompt: entry.prompt } : { text };
        if (mine.length === 1 && (mine[0].data as CaptionData).text === text) r.unchanged++;
        else {
          for (const old of mine) store.annotations.remove(old.id);
          store.annotations.add({ imageId: image.id, kind: 'caption', author: entry.author, data: value });
          if (mine.length) r.updated++;
          else r.added++;
        }
      }
      const byAuthor = new Map<string, StoredBox[]>();
      for (const b of entry.boxes ?? []) {
        const box: StoredBox = { x: b.box[0], y: b.box[1], width: b.box[2] - b.box[0], height: b.box[3] - b.box[1], label: b.concept };
        const stored = store.annotations.list(image.id, 'box').filter((a) => a.author === b.author).flatMap((a) => a.data as StoredBox[]);
        const pending = byAuthor.get(b.author) ?? [];
        if (stored.some((s) => sameBox(s, box)) || pending.some((s) => sameBox(s, box))) { r.boxesUnchanged++; continue; }
        byAuthor.set(b.author, [...pending, box]);
      }
      for (const [author, boxes] of byAuthor) {
        store.annotations.add({ imageId: image.id, kind: 'box', author, data: boxes });
        r.boxesAdded += boxes.length;
      }
    }
  });
  return r;
}

export async function importCaptionFile(store: Store, file: string, libraryId: number): Promise<CaptionImportResult> {
  return importCaptions(store, await readCaptionFile(file), libraryId);
}

/** Concept boxes of an image from its box annotations (labelled boxes only; pixels rounded to integers). */
function conceptBoxes(annotations: AnnotationRecord[]): ConceptBox[] {
  return annotations.flatMap((a) => (Array.isArray(a.data) ? (a.data as StoredBox[]) : [])
    .filter((b) => b.label && b.label.trim())
    .map((b) => ({
      concept: b.label!.trim(), author: a.author,
      box: [Math.round(b.x), Math.round(b.y), Math.round(b.x + b.width), Math.round(b.y + b.height)] as [number, number, number, number],
    })));
}

export interface StoredCaptions {
  /** The captions as a captions file (filenames relative to imagesDir), for labelCaptionRows / labelCaptionData. */
  data: CaptionFile;
  imagesDir: string;
  /** filename -> image id */
  imageIds: Map<string, number>;
  /** A name for messages, e.g. "library 1 (/photos)". */
  source: string;
}

/**
 * The stored captions of these images as a captions file: for each image the latest caption (of `author`
 * when given), with its labelled boxes as concept boxes. Images without a caption are not included.
 */
export function captionsFromStore(store: Store, images: readonly ImageRecord[], opts: { author?: string; groups?: ClassGroups; source?: string } = {}): StoredCaptions {
  const libraries = [...new Set(images.map((i) => i.libraryId))];
  const single = libraries.length <= 1;
  // One library: file names relative to its root; several: absolute paths under the file-system root.
  const imagesDir = single ? (libraries.length ? store.libraries.find(libraries[0]).root : path.resolve('.')) : path.parse(path.resolve(images[0].path)).root;
  const captions: CaptionEntry[] = [];
  const imageIds = new Map<string, number>();
  for (const image of images) {
    const found = store.annotations.list(image.id, 'caption').filter((a) => opts.author === undefined || a.author === opts.author);
    const latest = found[found.length - 1];
    if (!latest) continue;
    const filename = single ? norm(image.relPath) : image.path;
    const d = latest.data as CaptionData;
    const boxes = conceptBoxes(store.annotations.list(image.id, 'box'));
    captions.push({ filename, caption: d.text ?? '', author: latest.author, ...(d.prompt ? { prompt: d.prompt } : {}), ...(boxes.length ? { boxes } : {}) });
    imageIds.set(filename, image.id);
  }
  const data: CaptionFile = { version: 1, imagesDir, captions, ...(opts.groups ? { groups: opts.groups } : {}) };
  return { data, imagesDir, imageIds, source: opts.source ?? (single ? imagesDir : 'the database') };
}

/** The captioned images of a library, as captionsFromStore. */
export function libraryCaptions(store: Store, library: string | number, opts: { author?: string; groups?: ClassGroups } = {}): StoredCaptions {
  const lib = store.libraries.find(library);
  const images = store.images.allOf(lib.id).filter((i) => !i.missing && !i.error);
  return captionsFromStore(store, images, { ...opts, source: `library ${lib.id} (${lib.root})` });
}

/** Class groups from a JSON file: a captions file's "groups", {"groups": ...}, or the groups object itself. */
export async function readGroupsFile(file: string): Promise<ClassGroups> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SaliencyError(`${file}: ${code === 'ENOENT' ? 'groups file not found' : `not valid JSON (${(e as Error).message})`}`, code === 'ENOENT' ? 'NOT_FOUND' : 'BAD_CAPTIONS');
  }
  const raw = json && typeof json === 'object' && 'groups' in json ? (json as { groups: unknown }).groups : json;
  const parsed = ClassGroups.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SaliencyError(`${file}: groups: ${issue.path.join('.') || 'top level'}: ${issue.message} (expected {"<class name>": [<index> or [<from>, <to>], ...]})`, 'BAD_CAPTIONS');
  }
  if (Object.keys(parsed.data).length < 2) throw new SaliencyError(`${file}: groups must name at least 2 classes`, 'BAD_CAPTIONS');
  return parsed.data;
}
