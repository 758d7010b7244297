// RISE's cell-regression control variate (rise.cellRegression=true): the exactly known part of the map (the
// score's linear regression on the grid cells) checked against a brute-force Monte Carlo of the reference
// estimator; on a model, the same mean map as the reference over seeds, less spread than the mean control
// variate, and a standard error that matches the spread.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Classifier } from '../../src-main/engine/model/classifier.ts';
import { getExplainer } from '../../src-main/engine/explain/registry.ts';
import { resolveSettings } from '../../src-main/engine/explain/check-settings.ts';
import { RISE_CELLS_AUTO_PRECISION, RiseMaskGenerator, type RiseSettings } from '../../src-main/engine/explain/perturb/rise.ts';
import { RiseCellRegression } from '../../src-main/engine/explain/perturb/rise-cell-regression.ts';
import { Random } from '../../src-main/engine/util/random.ts';
import { base, image, loadEvidenceModel, rmsDistance, seCalibration, seedSpread, target } from './rise-fixture.ts';
import { NO_CLOCK } from '../helpers/demo-image.ts';

describe('RISE cell regression: the closed-form part', () => {
  // A score exactly linear in the cells: the residual is 0, so the map is the closed form alone, at any N.
  const [W, H, S, p] = [23, 19, 4, 0.4]; // cells not dividing the image, p != 0.5: the shift and p terms matter
  const coef = Float64Array.from({ length: S * S }, (_, j) => Math.sin(3 * j + 1));
  const score = (grid: Uint8Array) => grid.reduce((a, c, j) => a + c * coef[j], 0.7);

  it('equals the reference estimator of RISE at a million masks', () => {
    const gen = new RiseMaskGenerator(W, H, S, p, Random.derive(5, 'rise-masks'));
    const est = new RiseCellRegression(gen);
    for (let i = 0; i < 200; i++) { const d = gen.draw(); est.add(score(d.grid), gen.render(d), d); }
    const map = est.map(200);
    expect(Math.max(...est.standardErrors(200))).toBeLessThan(1e-5); // nothing left to sample (but the fit's tiny ridge)
    // Reference estimator sum_i f_i M_i(x) / (N p) on independent masks.
    const ref = new Float64Array(W * H);
    const N = 1_000_000;
    const mc = new RiseMaskGenerator(W, H, S, p, Random.derive(6, 'rise-masks'));
    for (let i = 0; i < N; i++) {
      const d = mc.draw();
      const f = score(d.grid) / (N * p);
      const m = mc.render(d);
      for (let q = 0; q < m.length; q++) ref[q] += f * m[q];
    }
    let worst = 0;
    let spread = 0;
    const mean = ref.reduce((a, v) => a + v, 0) / ref.length;
    for (let q = 0; q < ref.length; q++) { worst = Math.max(worst, Math.abs(map[q] - ref[q])); spread = Math.max(spread, Math.abs(ref[q] - mean)); }
    console.log(`RISE cell regression closed form vs 1e6-mask reference: max abs difference ${worst.toExponential(2)}, map range +-${spread.toFixed(3)}`);
    expect(spread).toBeGreaterThan(0.1); // a map with structure, not a constant
    expect(worst).toBeLessThan(0.01 * spread);
  }, NO_CLOCK);
});

describe('RISE cell regression on a model', () => {
  let model: Classifier;
  beforeAll(async () => { model = await loadEvidenceModel(); });
  afterAll(async () => model?.dispose());
  const rise = getExplainer('rise');
  const run = (seed: number, variate: Record<string, boolean>) => rise.explain(image, target, rise.settings({ ...base, ...variate }), seed, { model });

  it('over 12 seeds: the reference\'s mean map, less spread than the mean control variate, a calibrated standard error', async () => {
    const seeds = Array.from({ length: 12 }, (_, i) => 200 + i);
    const ref = await seedSpread((seed) => run(seed, {}), seeds);
    const cv = await seedSpread((seed) => run(seed, { controlVariate: true }), seeds);
    const cells = await seedSpread((seed) => run(seed, { cellRegression: true }), seeds);
    const d = rmsDistance(cells.mean, ref.mean);
    console.log(`RISE on the evidence model, 256 masks, 12 seeds: per-pixel SD across seeds ${Math.sqrt(ref.variance).toFixed(4)} (reference), ${Math.sqrt(cv.variance).toFixed(4)} (mean control variate), ${Math.sqrt(cells.variance).toFixed(4)} (cell regression); RMS distance of the mean maps ${d.toFixed(4)}`);
    expect(d).toBeLessThan(Math.sqrt(ref.variance / seeds.length) * 2);
    expect(cells.variance).toBeLessThan(cv.variance);
    expect(seCalibration(cells)).toBeGreaterThan(0.7);
    expect(seCalibration(cells)).toBeLessThan(1.4);
  }, NO_CLOCK);

  it('settings: off by default; not with controlVariate; at most 16 cells; its own default precision', () => {
    expect(rise.settings({})).not.toHaveProperty('cellRegression');
    expect(resolveSettings<RiseSettings>(rise as never, { cellRegression: true, masks: 'auto' })).toMatchObject({ cellRegression: true, auto: true, precision: RISE_CELLS_AUTO_PRECISION });
    expect(() => rise.settings({ cellRegression: true, controlVariate: true } as never)).toThrow('rise: controlVariate and cellRegression are alternatives');
    expect(() => rise.settings({ cellRegression: true, cells: 17 } as never)).toThrow('rise: cellRegression fits one coefficient per grid cell, so cells must be at most 16 (got 17)');
    expect(() => rise.settings({ cellRegression: 'yes' } as never)).toThrow('rise: cellRegression must be true or false (got yes)');
  });
});
