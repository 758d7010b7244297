import { describe, expect, it } from 'vitest';
import { buildEnsemble } from '../../src-main/engine/ensemble/build.ts';
import { ENSEMBLE_NAMES } from '../../src-main/engine/ensemble/registry.ts';
import type { EnsembleSpec } from '../../src-main/engine/ensemble/types.ts';
import { manualWeights } from '../../src-main/engine/ensemble/weights/manual.ts';
import type { Explanation } from '../../src-main/engine/explain/types.ts';

function expl(method: string, width: number, height: number, f: (x: number, y: number) => number, classIndex = 1): Explanation {
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  return { method, target: { classIndex, score: 'logit' }, map: { width, height, data }, evaluations: 10, settings: { k: method }, seed: 3, extras: {}, millis: 5 };
}

describe('buildEnsemble', () => {
  const cam = expl('gradcam', 4, 4, (x, y) => x + y); // coarse grid
  const lime = expl('lime', 8, 8, (x) => (x < 4 ? -1 : 1)); // signed, fine grid
  const rise = expl('rise', 8, 8, (x, y) => 0.3 + 0.01 * (x + y));

  it('resamples to one grid, normalises, and returns an Explanation that records how it was made', () => {
    const w = manualWeights({ gradcam: 2, lime: 1, rise: 1 }, { note: 'test' });
    const e = buildEnsemble([cam, lime, rise], { combiner: 'weighted', normaliser: 'minmax', weights: w, grid: { width: 8, height: 8 } });
    expect(e.method).toBe('ensemble:weighted');
    expect(e.map.width).toBe(8);
    expect(e.map.data.length).toBe(64);
    expect(e.evaluations).toBe(30);
    expect(e.target).toEqual(cam.target);
    expect(e.settings).toMatchObject({ combiner: 'weighted', normaliser: 'minmax', sign: 'signed', weights: { gradcam: 0.5, lime: 0.25, rise: 0.25 }, weightSet: { name: 'manual', source: 'manual', provenance: { note: 'test' } } });
    expect((e.settings.members as { method: string }[]).map((m) => m.method)).toEqual(['gradcam', 'lime', 'rise']);
    // Top-left: cam 0, lime -1 (signed min-max keeps -1), rise 0 -> 0.25 * -1.
    expect(e.map.data[0]).toBeCloseTo(-0.25, 5);
    // Bottom-right: all three at their maximum 1.
    expect(e.map.data[63]).toBeCloseTo(1, 5);
    expect(JSON.parse(JSON.stringify(e.settings))).toEqual(e.settings); // storable as JSON
  });

  it('the sign policy changes how negative LIME evidence enters', () => {
    const signed = buildEnsemble([lime, rise], { combiner: 'mean', grid: { width: 8, height: 8 } });
    const positive = buildEnsemble([lime, rise], { combiner: 'mean', sign: 'positive', grid: { width: 8, height: 8 } });
    expect(signed.map.data[0]).toBeCloseTo(-0.5, 5);
    expect(positive.map.data[0]).toBeCloseTo(0, 5);
  });

  it('every combiner runs on real-shaped members and one member gives back that member (rank-preserving)', () => {
    const weightsFor = (name: string, methods: string[]): EnsembleSpec['weights'] => {
      const w = Object.fromEntries(methods.map((m) => [m, 1]));
      if (name === 'weighted') return w;
      if (name === 'learned') return { name: 'l', source: 'annotations', weights: w, provenance: {} };
      return undefined;
    };
    for (const name of ENSEMBLE_NAMES) {
      const e = buildEnsemble([cam, lime, rise], { combiner: name, weights: weightsFor(name, ['gradcam', 'lime', 'rise']) });
      expect(e.map.data.every(Number.isFinite), name).toBe(true);
      if (name === 'region-detail') continue; // needs two members (tested in combiners.test.ts)
      const one = buildEnsemble([rise], { combiner: name, weights: weightsFor(name, ['rise']), options: name === 'borda' || name === 'rrf' ? { cell: 1 } : {} });
      // The single member's pixel order is kept (bigger stays bigger).
      expect(one.map.data[63], name).toBeGreaterThan(one.map.data[0]);
    }
  });

  it('clear errors: no members, mixed classes, duplicate names, missing weights', () => {
    expect(() => buildEnsemble([], { combiner: 'mean' })).toThrow(/at least one explanation/);
    expect(() => buildEnsemble([cam, expl('lime', 4, 4, () => 1, 7)], { combiner: 'mean' })).toThrow(/different classes \(gradcam: 1, lime: 7\)/);
    expect(() => buildEnsemble([cam, cam], { combiner: 'mean' })).toThrow(/both "gradcam"/);
    expect(() => buildEnsemble([cam, lime], { combiner: 'weighted' })).toThrow(/weighted ensemble needs weights/);
    expect(() => buildEnsemble([cam, lime], { combiner: 'learned', weights: { gradcam: 1, lime: 1 } })).toThrow(/fitted on annotation masks/);
    expect(() => buildEnsemble([cam, lime], { combiner: 'weighted', weights: { gradcam: 1 } })).toThrow(/no weight for lime/);
    expect(() => buildEnsemble([cam, lime], { combiner: 'mean', normaliser: 'l2' as never })).toThrow(/unknown normaliser "l2"/);
  });

  it('NaN pixels (outside what a method saw) stay NaN only where every member is NaN', () => {
    const a = expl('a', 2, 1, (x) => (x === 0 ? NaN : 1));
    const b = expl('b', 2, 1, (x) => (x === 0 ? NaN : 0.5));
    const c = expl('c', 2, 1, (x) => x);
    expect(buildEnsemble([a, b], { combiner: 'mean' }).map.data[0]).toBeNaN();
    expect(buildEnsemble([a, c], { combiner: 'mean' }).map.data[0]).toBe(0);
  });
});
