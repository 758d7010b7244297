// Orderings and rank statistics of maps: which pixels come first, average ranks, Spearman, top-k overlap.
import type { Map2D } from '../types.ts';
import { SaliencyError } from '../types.ts';
import { Random } from '../util/random.ts';
import { averageRanks as zeroBasedRanks } from '../util/ranks.ts';

/**
 * Pixel indices from most to least relevant (or the reverse). Ties (e.g. the zeros of a ReLU'd CAM) are put in
 * a seeded random order: breaking them in scan order would remove the image top to bottom, a systematic bias.
 * NaN pixels always come last.
 */
export function relevanceOrder(values: ArrayLike<number>, random: Random, mostRelevantFirst = true): Int32Array {
  const n = values.length;
  const rankOfTie = Int32Array.from(random.shuffle(Array.from({ length: n }, (_, i) => i)));
  const key = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    key[i] = Number.isNaN(v) ? -Infinity : mostRelevantFirst ? v : -v;
  }
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => key[b] - key[a] || rankOfTie[a] - rankOfTie[b]);
  return Int32Array.from(order);
}

/** 1-based ranks, ties get the mean of their ranks (as scipy.stats.rankdata 'average'). */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  return zeroBasedRanks(values).map((r) => r + 1);
}

/** Pearson correlation; 0 when either side is constant (it carries no ranking to agree with). */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) { ma += a[i]; mb += b[i]; }
  ma /= n; mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma, db = b[i] - mb;
    sab += da * db; saa += da * da; sbb += db * db;
  }
  if (!(saa > 0) || !(sbb > 0)) return 0;
  return Math.max(-1, Math.min(1, sab / Math.sqrt(saa * sbb)));
}

function checkSameGrid(a: Map2D, b: Map2D, what: string): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new SaliencyError(`${what}: maps are ${a.width}x${a.height} and ${b.width}x${b.height}; resample them to one grid first`, 'BAD_INPUT');
  }
  if (a.data.length === 0) throw new SaliencyError(`${what}: the maps are empty`, 'BAD_INPUT');
}

/** Spearman rank correlation of two maps on the same grid (ties averaged; 0 if a map is constant). */
export function spearman(a: Map2D, b: Map2D): number {
  checkSameGrid(a, b, 'Spearman correlation');
  return pearson(averageRanks(a.data), averageRanks(b.data));
}

/** Intersection over union of the top `fraction` pixels of each map (ties broken by a seeded order). */
export function topKIoU(a: Map2D, b: Map2D, fraction: number, seed: number): number {
  checkSameGrid(a, b, 'top-k IoU');
  if (!(fraction > 0 && fraction <= 1)) throw new SaliencyError(`top-k fraction ${fraction} must be in (0,1]`, 'BAD_SETTING');
  const n = a.data.length;
  const k = Math.max(1, Math.round(fraction * n));
  const inA = new Uint8Array(n);
  const oa = relevanceOrder(a.data, Random.derive(seed, 'ties-a'));
  for (let i = 0; i < k; i++) inA[oa[i]] = 1;
  const ob = relevanceOrder(b.data, Random.derive(seed, 'ties-b'));
  let inter = 0;
  for (let i = 0; i < k; i++) inter += inA[ob[i]];
  return inter / (2 * k - inter);
}
