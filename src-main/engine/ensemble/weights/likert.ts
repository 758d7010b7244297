// Weights from Likert ratings ("how well does this map show the evidence?", 1..5): a method's weight is its
// mean rating above the bottom of the scale, so a method everyone rated 1 gets 0.
import { SaliencyError } from '../../types.ts';
import type { WeightSet } from '../types.ts';
import { type Row, numberCell, stringCell } from './table.ts';
import { normaliseWeights } from './weight-set.ts';

export interface LikertRow { method: string; score: number }

export function likertRows(rows: Row[], where = 'ratings table'): LikertRow[] {
  return rows.map((r, i) => ({ method: stringCell(r, `${where} row ${i + 1}`, 'method'), score: numberCell(r, `${where} row ${i + 1}`, 'score', 'rating', 'likert') }));
}

export function weightsFromLikert(rows: LikertRow[], opts: { name?: string; scale?: [number, number] } = {}): WeightSet {
  const [lo, hi] = opts.scale ?? [1, 5];
  if (!(hi > lo)) throw new SaliencyError(`Likert scale must have max > min, got [${lo}, ${hi}]`, 'BAD_SETTING');
  if (rows.length === 0) throw new SaliencyError('no Likert ratings', 'BAD_INPUT');
  const by = new Map<string, number[]>();
  for (const r of rows) {
    if (!(r.score >= lo && r.score <= hi)) throw new SaliencyError(`Likert score ${r.score} for ${r.method} is outside the scale [${lo}, ${hi}]`, 'BAD_INPUT');
    by.set(r.method, [...(by.get(r.method) ?? []), r.score]);
  }
  const stats = Object.fromEntries([...by].map(([m, s]) => {
    const mean = s.reduce((a, b) => a + b, 0) / s.length;
    const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, s.length - 1));
    return [m, { n: s.length, mean, sd }];
  }));
  const raw = Object.fromEntries(Object.entries(stats).map(([m, s]) => [m, (s.mean - lo) / (hi - lo)]));
  if (Object.values(raw).every((w) => w === 0)) throw new SaliencyError('every method has the lowest possible mean rating: no weights can be derived', 'BAD_INPUT');
  return {
    name: opts.name ?? 'ratings-likert',
    source: 'ratings',
    weights: normaliseWeights(raw),
    provenance: { kind: 'likert', scale: [lo, hi], ratings: rows.length, methods: stats, createdAt: new Date().toISOString() },
  };
}
