// Libraries (imported folders) and their images, with the paged, filtered listing the UI browses.
import path from 'node:path';
import type Database from 'better-sqlite3';
import { SaliencyError } from '../types.ts';
import { nowIso, parseJson } from './json.ts';

export interface LibraryRecord {
  id: number;
  root: string;
  name: string;
  labelsSource: 'auto' | 'none';
  createdAt: string;
  scannedAt: string | null;
  /** Class groups for concept explanations (a captions file's "groups"), or null: each class its own. */
  conceptGroups: Record<string, unknown> | null;
}

/** Fields the scanner writes for one file. */
export interface ImageFileState {
  relPath: string;
  sha256: string | null;
  bytes: number;
  mtimeMs: number;
  width: number | null;
  height: number | null;
  trueClass: number | null;
  error: string | null;
}

export interface ImageRecord extends ImageFileState {
  id: number;
  libraryId: number;
  /** Absolute path (library root + relPath). */
  path: string;
  missing: boolean;
}

export interface ImageQuery {
  libraryId?: number;
  /** The model whose predictions `predictedClass` and `correct` refer to; also narrows `method`. */
  modelId?: number;
  predictedClass?: number;
  trueClass?: number;
  /** Top-1 prediction of modelId equals the ground truth (images without ground truth never match). */
  correct?: boolean;
  /** Has an explanation by this method. */
  method?: string;
  /** Has a metric of this name on one of its explanations. */
  metric?: string;
  /** Has (true) or lacks (false) a rating on one of its explanations, by `rater` when given. */
  rated?: boolean;
  rater?: string;
  /** 'ok' (default): readable and present; 'error': unreadable; 'missing': vanished; 'all'. */
  status?: 'ok' | 'error' | 'missing' | 'all';
  /** Keyset paging: images with id greater than this. */
  afterId?: number;
  /** Page size, default 200, at most 1000. */
  limit?: number;
}

export interface ImageListItem extends ImageRecord {
  predictedClass: number | null;
  predictedProbability: number | null;
}

export interface ImagePage {
  items: ImageListItem[];
  /** Pass as afterId for the next page; null on the last page. */
  nextAfterId: number | null;
}

interface ImageRow {
  id: number; library_id: number; rel_path: string; root: string; sha256: string | null; bytes: number; mtime_ms: number;
  width: number | null; height: number | null; true_class: number | null; error: string | null; missing: number;
  predicted_class?: number | null; predicted_probability?: number | null;
}

const toImage = (r: ImageRow): ImageRecord => ({
  id: r.id, libraryId: r.library_id, relPath: r.rel_path, path: path.join(r.root, r.rel_path), sha256: r.sha256,
  bytes: r.bytes, mtimeMs: r.mtime_ms, width: r.width, height: r.height, trueClass: r.true_class, error: r.error,
  missing: r.missing === 1,
});

interface LibraryRow { id: number; root: string; name: string; labels_source: 'auto' | 'none'; created_at: string; scanned_at: string | null; concept_groups: string | null }
const toLibrary = (r: LibraryRow): LibraryRecord => ({
  id: r.id, root: r.root, name: r.name, labelsSource: r.labels_source, createdAt: r.created_at, scannedAt: r.scanned_at,
  conceptGroups: parseJson<Record<string, unknown> | null>(r.concept_groups, null),
});

export class LibrariesRepo {
  constructor(private db: Database.Database) {}

  /** Adds a folder (absolute path), or returns the library already there. */
  add(root: string, opts: { name?: string; labelsSource?: 'auto' | 'none' } = {}): LibraryRecord {
    const abs = path.resolve(root);
    this.db.prepare(`INSERT INTO libraries (root, name, labels_source) VALUES (?, ?, ?) ON CONFLICT(root) DO NOTHING`)
      .run(abs, opts.name ?? path.basename(abs), opts.labelsSource ?? 'auto');
    return this.byRoot(abs)!;
  }

  /** Stores (or with null, clears) the class groups concept explanations use for this library. */
  setConceptGroups(id: number, groups: Record<string, unknown> | null): void {
    this.db.prepare('UPDATE libraries SET concept_groups = ? WHERE id = ?').run(groups ? JSON.stringify(groups) : null, id);
  }

  get(id: number): LibraryRecord | undefined {
    const r = this.db.prepare('SELECT * FROM libraries WHERE id = ?').get(id) as LibraryRow | undefined;
    return r && toLibrary(r);
  }

  byRoot(root: string): LibraryRecord | undefined {
    const r = this.db.prepare('SELECT * FROM libraries WHERE root = ?').get(path.resolve(root)) as LibraryRow | undefined;
    return r && toLibrary(r);
  }

  /** A library by id ("3") or folder path; a clear error when there is none. */
  find(idOrPath: string | number): LibraryRecord {
    const lib = typeof idOrPath === 'number' || /^\d+$/.test(idOrPath) ? this.get(Number(idOrPath)) : this.byRoot(idOrPath);
    if (!lib) throw new SaliencyError(`no library "${idOrPath}" in this database (add it with: saliency library add <folder>)`, 'NOT_FOUND');
    return lib;
  }

  list(): (LibraryRecord & { images: number; errors: number; missing: number })[] {
    const rows = this.db.prepare(`SELECT l.*,
        (SELECT COUNT(*) FROM images i WHERE i.library_id = l.id AND i.missing = 0 AND i.error IS NULL) AS n_ok,
        (SELECT COUNT(*) FROM images i WHERE i.library_id = l.id AND i.missing = 0 AND i.error IS NOT NULL) AS n_err,
        (SELECT COUNT(*) FROM images i WHERE i.library_id = l.id AND i.missing = 1) AS n_missing
      FROM libraries l ORDER BY l.id`).all() as (LibraryRow & { n_ok: number; n_err: number; n_missing: number })[];
    return rows.map((r) => ({ ...toLibrary(r), images: r.n_ok, errors: r.n_err, missing: r.n_missing }));
  }

  markScanned(id: number): void {
    this.db.prepare('UPDATE libraries SET scanned_at = ? WHERE id = ?').run(nowIso(), id);
  }

  remove(id: number): void {
    this.db.prepare('DELETE FROM libraries WHERE id = ?').run(id);
  }
}

export class ImagesRepo {
  constructor(private db: Database.Database) {}

  get(id: number): ImageRecord | undefined {
    const r = this.db.prepare('SELECT i.*, l.root FROM images i JOIN libraries l ON l.id = i.library_id WHERE i.id = ?').get(id) as ImageRow | undefined;
    return r && toImage(r);
  }

  /** The image at an absolute file path, in whichever library holds it (index lookup, not a scan). */
  byPath(file: string): ImageRecord | undefined {
    const abs = path.resolve(file);
    const libs = this.db.prepare('SELECT id, root FROM libraries').all() as { id: number; root: string }[];
    const stmt = this.db.prepare('SELECT i.*, l.root FROM images i JOIN libraries l ON l.id = i.library_id WHERE i.library_id = ? AND i.rel_path = ?');
    for (const lib of libs) {
      if (!abs.startsWith(lib.root + path.sep)) continue;
      const r = stmt.get(lib.id, path.relative(lib.root, abs)) as ImageRow | undefined;
      if (r) return toImage(r);
    }
    return undefined;
  }

  /** Every image row of a library (the scanner's view of what it knew). */
  allOf(libraryId: number): ImageRecord[] {
    return (this.db.prepare('SELECT i.*, l.root FROM images i JOIN libraries l ON l.id = i.library_id WHERE i.library_id = ? ORDER BY i.id')
      .all(libraryId) as ImageRow[]).map(toImage);
  }

  /**
   * Inserts or updates the files' state (one transaction); a file seen again is no longer missing. A file whose
   * content changed loses its predictions (they are made again: the app and jobs predict images without one);
   * its explanations stay stored but are outdated (results-repo hides them unless asked).
   */
  upsertFiles(libraryId: number, files: ImageFileState[]): void {
    const old = this.db.prepare('SELECT id, sha256 FROM images WHERE library_id = ? AND rel_path = ?');
    const dropPredictions = this.db.prepare('DELETE FROM predictions WHERE image_id = ?');
    const stmt = this.db.prepare(`INSERT INTO images (library_id, rel_path, sha256, bytes, mtime_ms, width, height, true_class, error, missing)
      VALUES (@libraryId, @relPath, @sha256, @bytes, @mtimeMs, @width, @height, @trueClass, @error, 0)
      ON CONFLICT(library_id, rel_path) DO UPDATE SET sha256 = excluded.sha256, bytes = excluded.bytes,
        mtime_ms = excluded.mtime_ms, width = excluded.width, height = excluded.height, true_class = excluded.true_class,
        error = excluded.error, missing = 0, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')`);
    this.db.transaction(() => {
      for (const f of files) {
        const before = old.get(libraryId, f.relPath) as { id: number; sha256: string | null } | undefined;
        if (before && before.sha256 !== f.sha256) dropPredictions.run(before.id);
        stmt.run({ libraryId, ...f });
      }
    })();
  }

  /** Only the modification time changed (same content). */
  touch(ids: { id: number; mtimeMs: number }[]): void {
    const stmt = this.db.prepare('UPDATE images SET mtime_ms = ?, missing = 0 WHERE id = ?');
    this.db.transaction(() => { for (const x of ids) stmt.run(x.mtimeMs, x.id); })();
  }

  markMissing(ids: number[]): void {
    const stmt = this.db.prepare(`UPDATE images SET missing = 1, error = 'file not found', updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?`);
    this.db.transaction(() => { for (const id of ids) stmt.run(id); })();
  }

  /** Records why an image could not be used (e.g. found corrupt or gone while a job ran). */
  recordError(id: number, error: string, missing = false): void {
    this.db.prepare(`UPDATE images SET error = ?, missing = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?`)
      .run(error, missing ? 1 : 0, id);
  }

  /** One page of images matching the filters, in id order. */
  page(q: ImageQuery = {}): ImagePage {
    const limit = Math.min(Math.max(1, Math.trunc(q.limit ?? 200)), 1000);
    const { sql, params } = buildImageQuery(q);
    const rows = this.db.prepare(`${sql} AND i.id > @afterId ORDER BY i.id LIMIT @limit`)
      .all({ ...params, afterId: q.afterId ?? 0, limit: limit + 1 }) as ImageRow[];
    const more = rows.length > limit;
    const items = rows.slice(0, limit).map((r) => ({
      ...toImage(r), predictedClass: r.predicted_class ?? null, predictedProbability: r.predicted_probability ?? null,
    }));
    return { items, nextAfterId: more ? items[items.length - 1].id : null };
  }

  count(q: ImageQuery = {}): number {
    const { sql, params } = buildImageQuery(q);
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM (${sql})`).get(params) as { n: number }).n;
  }
}

function buildImageQuery(q: ImageQuery): { sql: string; params: Record<string, unknown> } {
  const where: string[] = ['1 = 1'];
  const params: Record<string, unknown> = {};
  const needsModel = q.predictedClass !== undefined || q.correct !== undefined;
  if (needsModel && q.modelId === undefined) {
    throw new SaliencyError('filtering by predicted class or correctness needs a model (modelId)', 'BAD_QUERY');
  }
  let join = 'JOIN libraries l ON l.id = i.library_id';
  let cols = 'i.*, l.root';
  if (q.modelId !== undefined) {
    join += ' LEFT JOIN predictions p ON p.image_id = i.id AND p.model_id = @modelId';
    cols += ', p.top_class AS predicted_class, p.top_probability AS predicted_probability';
    params.modelId = q.modelId;
  }
  if (q.libraryId !== undefined) { where.push('i.library_id = @libraryId'); params.libraryId = q.libraryId; }
  const status = q.status ?? 'ok';
  if (status === 'ok') where.push('i.missing = 0 AND i.error IS NULL');
  else if (status === 'error') where.push('i.missing = 0 AND i.error IS NOT NULL');
  else if (status === 'missing') where.push('i.missing = 1');
  if (q.trueClass !== undefined) { where.push('i.true_class = @trueClass'); params.trueClass = q.trueClass; }
  if (q.predictedClass !== undefined) { where.push('p.top_class = @predictedClass'); params.predictedClass = q.predictedClass; }
  if (q.correct !== undefined) where.push(q.correct ? 'p.top_class = i.true_class' : 'p.top_class <> i.true_class');
  // Only maps of the file's current content count (outdated ones are kept but are not results of the image).
  const current = '(e.image_sha256 IS NULL OR e.image_sha256 = i.sha256)';
  if (q.method !== undefined) {
    where.push(`EXISTS (SELECT 1 FROM explanations e JOIN runs r ON r.id = e.run_id
      WHERE e.image_id = i.id AND ${current} AND r.method = @method${q.modelId !== undefined ? ' AND r.model_id = @modelId' : ''})`);
    params.method = q.method;
  }
  if (q.metric !== undefined) {
    where.push(`EXISTS (SELECT 1 FROM explanations e JOIN metrics m ON m.explanation_id = e.id WHERE e.image_id = i.id AND ${current} AND m.name = @metric)`);
    params.metric = q.metric;
  }
  if (q.rated !== undefined) {
    const rated = `EXISTS (SELECT 1 FROM explanations e JOIN ratings g ON g.explanation_id = e.id WHERE e.image_id = i.id AND ${current}${q.rater !== undefined ? ' AND g.rater = @rater' : ''})`;
    where.push(q.rated ? rated : `NOT ${rated}`);
    if (q.rater !== undefined) params.rater = q.rater;
  }
  return { sql: `SELECT ${cols} FROM images i ${join} WHERE ${where.join(' AND ')}`, params };
}
