// What people add: Likert ratings and pairwise choices on explanations, annotations on images; and what the
// app derives from them: ensemble weight sets and exported reports.
import type Database from 'better-sqlite3';
import { SaliencyError } from '../types.ts';
import { canonicalJson, parseJson } from './json.ts';

export interface RatingRecord { id: number; rater: string; explanationId: number; likert: number; comment: string | null; createdAt: string }
export type PairWinner = 'a' | 'b' | 'tie';
export interface PairwiseRecord { id: number; rater: string; explanationA: number; explanationB: number; winner: PairWinner; createdAt: string }

export class RatingsRepo {
  constructor(private db: Database.Database) {}

  /** A rater's Likert score (1-5) for an explanation; rating it again replaces the score. */
  rate(x: { rater: string; explanationId: number; likert: number; comment?: string }): number {
    if (!Number.isInteger(x.likert) || x.likert < 1 || x.likert > 5) {
      throw new SaliencyError(`rating ${x.likert} must be an integer from 1 to 5`, 'BAD_RATING');
    }
    if (!x.rater) throw new SaliencyError('a rating needs a rater', 'BAD_RATING');
    return (this.db.prepare(`INSERT INTO ratings (rater, explanation_id, likert, comment) VALUES (?, ?, ?, ?)
      ON CONFLICT(rater, explanation_id) DO UPDATE SET likert = excluded.likert, comment = excluded.comment,
        created_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') RETURNING id`)
      .get(x.rater, x.explanationId, x.likert, x.comment ?? null) as { id: number }).id;
  }

  list(filter: { explanationId?: number; rater?: string } = {}): RatingRecord[] {
    return (this.db.prepare(`SELECT * FROM ratings WHERE (@e IS NULL OR explanation_id = @e) AND (@r IS NULL OR rater = @r) ORDER BY id`)
      .all({ e: filter.explanationId ?? null, r: filter.rater ?? null }) as
      { id: number; rater: string; explanation_id: number; likert: number; comment: string | null; created_at: string }[])
      .map((r) => ({ id: r.id, rater: r.rater, explanationId: r.explanation_id, likert: r.likert, comment: r.comment, createdAt: r.created_at }));
  }

  /** A pairwise choice between two explanations (each choice is kept: raters may see a pair again). */
  choose(x: { rater: string; explanationA: number; explanationB: number; winner: PairWinner }): number {
    if (!['a', 'b', 'tie'].includes(x.winner)) throw new SaliencyError(`winner "${x.winner}" must be "a", "b" or "tie"`, 'BAD_RATING');
    if (x.explanationA === x.explanationB) throw new SaliencyError('a pairwise choice needs two different explanations', 'BAD_RATING');
    return Number(this.db.prepare('INSERT INTO pairwise_choices (rater, explanation_a, explanation_b, winner) VALUES (?, ?, ?, ?)')
      .run(x.rater, x.explanationA, x.explanationB, x.winner).lastInsertRowid);
  }

  /** Undo: removes the rater's latest Likert rating (by time, then id) or pairwise choice; what it removed, or null. */
  undoLatest(rater: string, kind: 'likert' | 'pairwise'): number[] | null {
    if (kind === 'likert') {
      const r = this.db.prepare('DELETE FROM ratings WHERE id = (SELECT id FROM ratings WHERE rater = ? ORDER BY created_at DESC, id DESC LIMIT 1) RETURNING explanation_id').get(rater) as { explanation_id: number } | undefined;
      return r ? [r.explanation_id] : null;
    }
    const c = this.db.prepare('DELETE FROM pairwise_choices WHERE id = (SELECT MAX(id) FROM pairwise_choices WHERE rater = ?) RETURNING explanation_a, explanation_b').get(rater) as { explanation_a: number; explanation_b: number } | undefined;
    return c ? [c.explanation_a, c.explanation_b] : null;
  }

  choices(filter: { rater?: string } = {}): PairwiseRecord[] {
    return (this.db.prepare('SELECT * FROM pairwise_choices WHERE (@r IS NULL OR rater = @r) ORDER BY id').all({ r: filter.rater ?? null }) as
      { id: number; rater: string; explanation_a: number; explanation_b: number; winner: PairWinner; created_at: string }[])
      .map((r) => ({ id: r.id, rater: r.rater, explanationA: r.explanation_a, explanationB: r.explanation_b, winner: r.winner, createdAt: r.created_at }));
  }
}

export type AnnotationKind = 'box' | 'mask' | 'caption' | 'concepts';
export interface AnnotationRecord {
  id: number; imageId: number; kind: AnnotationKind; data: unknown; blob: Buffer | null; author: string; createdAt: string;
}

export class AnnotationsRepo {
  constructor(private db: Database.Database) {}

  /** data: boxes [{x,y,width,height,label}], {text} for a caption, {words} for concepts, {width,height} for a mask
   *  (whose pixels go in blob). */
  add(x: { imageId: number; kind: AnnotationKind; data: unknown; blob?: Uint8Array | null; author: string }): number {
    if (!['box', 'mask', 'caption', 'concepts'].includes(x.kind)) {
      throw new SaliencyError(`annotation kind "${x.kind}" must be box, mask, caption or concepts`, 'BAD_ANNOTATION');
    }
    return Number(this.db.prepare('INSERT INTO annotations (image_id, kind, data, blob, author) VALUES (?, ?, ?, ?, ?)')
      .run(x.imageId, x.kind, canonicalJson(x.data ?? {}), x.blob ? Buffer.from(x.blob) : null, x.author).lastInsertRowid);
  }

  list(imageId: number, kind?: AnnotationKind): AnnotationRecord[] {
    return (this.db.prepare('SELECT * FROM annotations WHERE image_id = ? AND (? IS NULL OR kind = ?) ORDER BY id').all(imageId, kind ?? null, kind ?? null) as
      { id: number; image_id: number; kind: AnnotationKind; data: string; blob: Buffer | null; author: string; created_at: string }[])
      .map((r) => ({ id: r.id, imageId: r.image_id, kind: r.kind, data: parseJson(r.data, {}), blob: r.blob, author: r.author, createdAt: r.created_at }));
  }

  remove(id: number): void {
    this.db.prepare('DELETE FROM annotations WHERE id = ?').run(id);
  }
}

export type WeightSource = 'metrics' | 'ratings' | 'manual' | 'learned';
export interface WeightSetRecord { id: number; name: string; source: WeightSource; weights: Record<string, number>; provenance: Record<string, unknown>; createdAt: string }
type WeightRow = { id: number; name: string; source: WeightSource; weights: string; provenance: string; created_at: string };
const toWeights = (r: WeightRow): WeightSetRecord => ({
  id: r.id, name: r.name, source: r.source, weights: JSON.parse(r.weights), provenance: parseJson(r.provenance, {}), createdAt: r.created_at,
});

export class WeightSetsRepo {
  constructor(private db: Database.Database) {}

  /** Saves ensemble weights under a name (replacing an earlier set of that name). */
  save(x: { name: string; source: WeightSource; weights: Record<string, number>; provenance?: Record<string, unknown> }): number {
    if (!['metrics', 'ratings', 'manual', 'learned'].includes(x.source)) {
      throw new SaliencyError(`weight source "${x.source}" must be metrics, ratings, manual or learned`, 'BAD_WEIGHTS');
    }
    for (const [k, v] of Object.entries(x.weights)) {
      if (!Number.isFinite(v)) throw new SaliencyError(`weight for "${k}" is not a finite number`, 'BAD_WEIGHTS');
    }
    return (this.db.prepare(`INSERT INTO weight_sets (name, source, weights, provenance) VALUES (?, ?, ?, ?)
      ON CONFLICT(name) DO UPDATE SET source = excluded.source, weights = excluded.weights, provenance = excluded.provenance,
        created_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') RETURNING id`)
      .get(x.name, x.source, canonicalJson(x.weights), canonicalJson(x.provenance ?? {})) as { id: number }).id;
  }

  get(name: string): WeightSetRecord | undefined {
    const r = this.db.prepare('SELECT * FROM weight_sets WHERE name = ?').get(name) as WeightRow | undefined;
    return r && toWeights(r);
  }

  list(): WeightSetRecord[] {
    return (this.db.prepare('SELECT * FROM weight_sets ORDER BY name').all() as WeightRow[]).map(toWeights);
  }
}

export interface ReportRecord { id: number; kind: string; path: string; madeFrom: Record<string, unknown>; createdAt: string }

export class ReportsRepo {
  constructor(private db: Database.Database) {}

  /** Records an exported report and what it was made from (run ids, weight set, filters...). */
  add(x: { kind: string; path: string; madeFrom?: Record<string, unknown> }): number {
    return Number(this.db.prepare('INSERT INTO reports (kind, path, made_from) VALUES (?, ?, ?)')
      .run(x.kind, x.path, canonicalJson(x.madeFrom ?? {})).lastInsertRowid);
  }

  list(): ReportRecord[] {
    return (this.db.prepare('SELECT * FROM reports ORDER BY id').all() as { id: number; kind: string; path: string; made_from: string; created_at: string }[])
      .map((r) => ({ id: r.id, kind: r.kind, path: r.path, madeFrom: parseJson(r.made_from, {}), createdAt: r.created_at }));
  }
}
