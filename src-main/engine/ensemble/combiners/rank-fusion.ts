// Rank aggregation over regions. Each method ranks regions (square cells of the grid, or given segments such
// as superpixels) by its mean value there; the ranks are fused, which ignores each method's scale entirely:
// - Borda count: a region scores sum_i w_i (R - rank_i), divided by R - 1 so the top region of every method
//   gets 1;
// - reciprocal rank fusion (Cormack et al. 2009): sum_i w_i / (k + rank_i), k = 60 by default.
// Every pixel then carries its region's fused score.
import { SaliencyError } from '../../types.ts';
import type { Combiner, MemberStack } from '../types.ts';
import { averageRanks } from '../stats.ts';
import { numberOption } from './pixelwise.ts';

export interface Regions { count: number; label: Int32Array }

/** Square cells of `cell` pixels (the last row/column of cells may be smaller). */
export function gridRegions(width: number, height: number, cell: number): Regions {
  const cols = Math.ceil(width / cell);
  const label = new Int32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) label[y * width + x] = Math.floor(y / cell) * cols + Math.floor(x / cell);
  return { count: cols * Math.ceil(height / cell), label };
}

function regionsFor(stack: MemberStack, o: Record<string, unknown>): Regions {
  const seg = o.segments;
  if (seg === undefined) return gridRegions(stack.width, stack.height, o.cell as number);
  if (!(seg instanceof Int32Array) || seg.length !== stack.width * stack.height) {
    throw new SaliencyError(`rank fusion: segments must be an Int32Array of ${stack.width}x${stack.height} region labels`, 'BAD_SETTING');
  }
  let count = 0;
  for (const l of seg) {
    if (l < 0) throw new SaliencyError('rank fusion: segment labels must be >= 0', 'BAD_SETTING');
    count = Math.max(count, l + 1);
  }
  return { count, label: seg };
}

/** Ranks 1..R of the regions by one map's mean value, best first (ties share their average rank); a region
 * with no finite value is ranked last. */
export function regionRanks(map: Float32Array, regions: Regions): Float64Array {
  const sum = new Float64Array(regions.count);
  const n = new Float64Array(regions.count);
  for (let p = 0; p < map.length; p++) {
    if (Number.isNaN(map[p])) continue;
    sum[regions.label[p]] += map[p];
    n[regions.label[p]]++;
  }
  const means = sum.map((s, r) => (n[r] > 0 ? s / n[r] : NaN));
  const asc = averageRanks(means);
  let finite = 0;
  for (const v of means) if (!Number.isNaN(v)) finite++;
  return asc.map((a) => (Number.isNaN(a) ? regions.count : finite - a));
}

function fuse(score: (rank: number, regions: number, o: Record<string, unknown>) => number): Combiner['combine'] {
  return (stack, o) => {
    const regions = regionsFor(stack, o);
    const fused = new Float64Array(regions.count);
    stack.maps.forEach((map, i) => {
      const ranks = regionRanks(map, regions);
      for (let r = 0; r < regions.count; r++) fused[r] += stack.weights[i] * score(ranks[r], regions.count, o);
    });
    const out = new Float32Array(stack.width * stack.height);
    for (let p = 0; p < out.length; p++) {
      // A pixel no member saw stays NaN, as in the pixelwise combiners.
      out[p] = stack.maps.every((m) => Number.isNaN(m[p])) ? NaN : fused[regions.label[p]];
    }
    return out;
  };
}

const cellOption = (name: string, o: Record<string, unknown>) => numberOption(name, o, 'cell', 16, (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1 (pixels per region side)');

export const borda: Combiner = {
  name: 'borda',
  description: 'Borda count over regions: sum of weighted (R - rank) / (R - 1)',
  usesWeights: true,
  options: (o) => ({ cell: cellOption('borda', o), ...(o.segments !== undefined ? { segments: o.segments } : {}) }),
  combine: fuse((rank, count) => (count > 1 ? (count - rank) / (count - 1) : 1)),
};

export const reciprocalRankFusion: Combiner = {
  name: 'rrf',
  description: 'reciprocal rank fusion over regions: sum of weighted 1 / (k + rank)',
  usesWeights: true,
  options: (o) => ({
    cell: cellOption('rrf', o),
    k: numberOption('rrf', o, 'k', 60, (v) => v >= 0, 'a number >= 0'),
    ...(o.segments !== undefined ? { segments: o.segments } : {}),
  }),
  combine: fuse((rank, _count, o) => 1 / ((o.k as number) + rank)),
};
