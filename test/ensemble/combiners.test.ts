import { describe, expect, it } from 'vitest';
import { ENSEMBLE_NAMES, getCombiner } from '../../src-main/engine/ensemble/registry.ts';
import { gridRegions, regionRanks } from '../../src-main/engine/ensemble/combiners/rank-fusion.ts';
import { trimCount } from '../../src-main/engine/ensemble/combiners/order-statistics.ts';
import type { MemberStack } from '../../src-main/engine/ensemble/types.ts';

/** A 1-row stack: one array of pixel values per method. */
function stack(methods: string[], maps: number[][], weights?: number[]): MemberStack {
  return { width: maps[0].length, height: 1, methods, maps: maps.map((m) => Float32Array.from(m)), weights: weights ?? methods.map(() => 1 / methods.length) };
}
const run = (name: string, s: MemberStack, options: Record<string, unknown> = {}) => {
  const c = getCombiner(name);
  return Array.from(c.combine(s, c.options(options)));
};
const close = (a: number[], b: number[], digits = 5) => b.forEach((v, i) => (Number.isNaN(v) ? expect(a[i]).toBeNaN() : expect(a[i]).toBeCloseTo(v, digits)));

describe('pixelwise combiners', () => {
  const s = stack(['a', 'b', 'c'], [[0, 1, 0.2], [1, 1, 0.4], [0.5, 1, 0.9]], [0.5, 0.25, 0.25]);

  it('mean ignores weights; weighted mean uses them', () => {
    close(run('mean', s), [0.5, 1, 0.5]);
    close(run('weighted', s), [0.375, 1, 0.425]);
  });

  it('variance-aware: mean / (population std + eps)', () => {
    const std0 = Math.sqrt(((0 - 0.5) ** 2 + (1 - 0.5) ** 2 + 0) / 3);
    const std2 = Math.sqrt(((0.2 - 0.5) ** 2 + (0.4 - 0.5) ** 2 + (0.9 - 0.5) ** 2) / 3);
    close(run('variance', s), [0.5 / (std0 + 0.1), 1 / 0.1, 0.5 / (std2 + 0.1)], 4);
    close(run('variance', s, { eps: 1 }), [0.5 / (std0 + 1), 1, 0.5 / (std2 + 1)], 4);
    expect(() => run('variance', s, { eps: 0 })).toThrow(/option eps must be a number > 0/);
  });

  it('median and trimmed mean resist one outlying method', () => {
    const o = stack(['a', 'b', 'c', 'd', 'e'], [[0.1], [0.2], [0.3], [0.4], [10]]);
    close(run('median', o), [0.3]);
    close(run('trimmed', o), [0.3]); // trims 1 each end: mean(0.2,0.3,0.4)
    close(run('mean', o), [2.2]);
    close(run('median', stack(['a', 'b'], [[1], [4]])), [2.5]);
    expect(trimCount(2, 0.2)).toBe(0);
    expect(trimCount(3, 0.2)).toBe(1);
    expect(trimCount(10, 0.2)).toBe(2);
    expect(trimCount(10, 0.45)).toBe(4);
  });

  it('geometric mean: weighted, negative evidence counts as 0, all-zero pixels stay 0', () => {
    const g = stack(['a', 'b'], [[0.25, 0, -1, 0], [1, 1, 1, 0]]);
    const eps = 1e-3;
    close(run('geometric', g), [Math.sqrt((0.25 + eps) * (1 + eps)) - eps, Math.sqrt(eps * (1 + eps)) - eps, Math.sqrt(eps * (1 + eps)) - eps, 0], 6);
    const w = stack(['a', 'b'], [[0.25], [1]], [0.75, 0.25]);
    close(run('geometric', w), [Math.exp(0.75 * Math.log(0.25 + eps) + 0.25 * Math.log(1 + eps)) - eps], 6);
  });

  it('NaN members are skipped per pixel; a pixel where every member is NaN stays NaN', () => {
    const n = stack(['a', 'b'], [[NaN, NaN, 0.2], [0.6, NaN, 0.4]], [0.25, 0.75]);
    for (const name of ['mean', 'weighted', 'median', 'trimmed', 'geometric', 'variance']) {
      const out = run(name, n);
      expect(out[1], name).toBeNaN();
      expect(Number.isFinite(out[0]) && Number.isFinite(out[2]), name).toBe(true);
    }
    close(run('mean', n), [0.6, NaN, 0.3]);
    close(run('weighted', n), [0.6, NaN, 0.35]); // weight of the NaN member is redistributed
  });

  it('one method: every pixelwise combiner returns its map (variance: scaled by 1/eps)', () => {
    const one = stack(['a'], [[0, 0.3, 1]], [1]);
    for (const name of ['mean', 'weighted', 'median', 'trimmed', 'learned']) close(run(name, one), [0, 0.3, 1]);
    close(run('variance', one), [0, 3, 10]);
    close(run('geometric', one), [0, 0.3, 1]);
  });

  it('constant members give a constant result', () => {
    const c = stack(['a', 'b'], [[0, 0, 0], [0, 0, 0]]);
    for (const name of ['mean', 'median', 'geometric', 'variance', 'borda', 'rrf']) {
      const out = run(name, c, name === 'borda' || name === 'rrf' ? { cell: 1 } : {});
      expect(new Set(out).size, name).toBe(1);
    }
  });
});

describe('rank aggregation over regions', () => {
  it('regions are square cells; ranks are 1 = best with ties averaged, NaN regions last', () => {
    const r = gridRegions(4, 2, 2);
    expect(r.count).toBe(2);
    expect(Array.from(r.label)).toEqual([0, 0, 1, 1, 0, 0, 1, 1]);
    expect(Array.from(regionRanks(Float32Array.from([5, 1, 3, 3]), gridRegions(4, 1, 1)))).toEqual([1, 4, 2.5, 2.5]);
    expect(Array.from(regionRanks(Float32Array.from([NaN, 1, 3]), gridRegions(3, 1, 1)))).toEqual([3, 2, 1]);
  });

  it('Borda: sum of weighted (R - rank) / (R - 1); RRF: sum of weighted 1 / (k + rank)', () => {
    // Regions = single pixels. a ranks (p0, p1, p2) = (1, 2, 3); b ranks = (2, 1, 3).
    const s = stack(['a', 'b'], [[0.9, 0.5, 0.1], [0.7, 100, -3]]);
    close(run('borda', s, { cell: 1 }), [0.5 * 1 + 0.5 * 0.5, 0.5 * 0.5 + 0.5 * 1, 0]);
    close(run('rrf', s, { cell: 1 }), [0.5 / 61 + 0.5 / 62, 0.5 / 62 + 0.5 / 61, 0.5 / 63 + 0.5 / 63], 7);
    close(run('rrf', s, { cell: 1, k: 0 }), [0.5 + 0.25, 0.25 + 0.5, 1 / 3], 6);
    // Scale-free: multiplying one method by 1000 changes nothing.
    const scaled = stack(['a', 'b'], [[900, 500, 100], [0.7, 100, -3]]);
    close(run('borda', scaled, { cell: 1 }), run('borda', s, { cell: 1 }));
  });

  it('regions average their pixels, every pixel gets its region score; segments can be given', () => {
    const s = stack(['a'], [[1, 0, 0.2, 0.2]], [1]);
    close(run('borda', s, { cell: 2 }), [1, 1, 0, 0]); // region means 0.5 vs 0.2
    close(run('borda', s, { segments: Int32Array.from([1, 0, 0, 1]) }), [1, 0, 0, 1]); // means 0.6 vs 0.1
    expect(() => run('borda', s, { segments: Int32Array.from([0, 1]) })).toThrow(/segments must be an Int32Array of 4x1/);
  });
});

describe('region x detail', () => {
  it('soft gate: the coarse map, min-max scaled, multiplies the (weighted) fine detail', () => {
    const s = stack(['gradcam', 'lime', 'rise'], [[0, 2, 4, 4], [1, 1, -1, 0.5], [1, 0, 1, 0.5]], [0.5, 0.25, 0.25]);
    // gate = (0, 0.5, 1, 1); fine = mean(lime, rise) with equal remaining weights.
    close(run('region-detail', s), [0, 0.25, 0, 0.5]);
    close(run('region-detail', s, { gamma: 2 }), [0, 0.125, 0, 0.5]);
    close(run('region-detail', s, { gate: 'hard', threshold: 0.6 }), [0, 0, 0, 0.5]);
  });

  it('picks the CAM member as coarse, or the named one; needs two members', () => {
    const s = stack(['lime', 'occlusion'], [[0, 1], [1, 1]]);
    expect(() => run('region-detail', s)).toThrow(/set option coarse/);
    close(run('region-detail', s, { coarse: 'lime' }), [0, 1]);
    expect(() => run('region-detail', s, { coarse: 'gradcam' })).toThrow(/"gradcam" is not a member/);
    expect(() => run('region-detail', stack(['gradcam'], [[1, 2]]))).toThrow(/needs a coarse method and at least one fine method/);
  });
});

describe('registry', () => {
  it('lists every combiner and rejects unknown names clearly', () => {
    expect(ENSEMBLE_NAMES).toEqual(['mean', 'weighted', 'variance', 'median', 'trimmed', 'geometric', 'borda', 'rrf', 'region-detail', 'learned']);
    expect(() => getCombiner('max')).toThrow(/unknown ensemble "max"; known: mean, weighted/);
  });
});
