// RISE's control variate (rise.controlVariate=true): the map is the reference estimate minus mean score x
// (coverage / p - 1), computed here independently from the same masks and scores; over seeds it has the same
// mean map as the reference estimator and a smaller spread; its running standard error matches that spread.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Classifier } from '../../src-main/engine/model/classifier.ts';
import { getExplainer } from '../../src-main/engine/explain/registry.ts';
import { resolveSettings } from '../../src-main/engine/explain/check-settings.ts';
import { RISE_AUTO_PRECISION, RISE_CV_AUTO_PRECISION, RiseMaskGenerator, type RiseSettings } from '../../src-main/engine/explain/perturb/rise.ts';
import { applyPixelMask, makeModelBaseline } from '../../src-main/engine/explain/perturb/masking.ts';
import { schedulerFor, targetScore } from '../../src-main/engine/infer/scheduler.ts';
import { Random } from '../../src-main/engine/util/random.ts';
import { SIZE, base, image, input, loadEvidenceModel, rmsDistance, seCalibration, seedSpread, target } from './rise-fixture.ts';
import { NO_CLOCK } from '../helpers/demo-image.ts';

let model: Classifier;
beforeAll(async () => { model = await loadEvidenceModel(); });
afterAll(async () => model?.dispose());

const rise = getExplainer('rise');
const run = (seed: number, controlVariate: boolean) => rise.explain(image, target, rise.settings({ ...base, ...(controlVariate ? { controlVariate } : {}) }), seed, { model });

describe('RISE control variate', () => {
  it('is the reference map minus mean score x (coverage / p - 1), from the same masks', async () => {
    const [ref, cv] = [await run(7, false), await run(7, true)];
    // The masks and scores, drawn here as rise.ts draws them (same seeded stream).
    const gen = new RiseMaskGenerator(SIZE, SIZE, base.cells, base.p, Random.derive(7, 'rise-masks'));
    const masks = Array.from({ length: base.masks }, () => gen.next());
    const baseline = makeModelBaseline(input, 'zero', model);
    const rows = await schedulerFor(model).evaluate(masks.map((m) => applyPixelMask(input, baseline, m)));
    let meanScore = 0;
    for (let i = 0; i < masks.length; i++) meanScore += targetScore(rows, i, target) / masks.length;
    let worst = 0;
    let spread = 0;
    for (let q = 0; q < SIZE * SIZE; q++) {
      let coverage = 0;
      for (const m of masks) coverage += m[q] / masks.length;
      const want = ref.map.data[q] - meanScore * (coverage / base.p - 1);
      worst = Math.max(worst, Math.abs(cv.map.data[q] - want));
      spread = Math.max(spread, Math.abs(cv.map.data[q] - ref.map.data[q]));
    }
    expect(worst).toBeLessThan(1e-4 * Math.abs(meanScore));
    expect(spread).toBeGreaterThan(0.01 * Math.abs(meanScore)); // the correction is not nothing
    expect(cv.settings).toMatchObject({ controlVariate: true });
    expect(ref.settings).not.toHaveProperty('controlVariate'); // reference runs keep their stored settings
  }, NO_CLOCK);

  it('over 12 seeds: the same mean map as the reference, a smaller spread, and a standard error that matches it', async () => {
    const seeds = Array.from({ length: 12 }, (_, i) => 100 + i);
    const ref = await seedSpread((seed) => run(seed, false), seeds);
    const cv = await seedSpread((seed) => run(seed, true), seeds);
    // Same expectation: the mean maps differ by far less than the reference's seed-to-seed spread.
    expect(rmsDistance(cv.mean, ref.mean)).toBeLessThan(Math.sqrt(ref.variance / seeds.length) * 2);
    // Lower variance (on this model the score's mean is large next to its spread, so by a wide margin).
    console.log(`RISE on the evidence model, 256 masks, 12 seeds: per-pixel SD across seeds ${Math.sqrt(ref.variance).toFixed(4)} (reference) vs ${Math.sqrt(cv.variance).toFixed(4)} (control variate)`);
    expect(cv.variance).toBeLessThan(ref.variance / 2);
    // The reported relative SE (RMS SE / SD of the map) matches the observed spread / the map's contrast.
    for (const s of [ref, cv]) {
      expect(seCalibration(s)).toBeGreaterThan(0.7);
      expect(seCalibration(s)).toBeLessThan(1.4);
    }
  }, NO_CLOCK);

  it('settings: off by default, true or false only; false is stored as absent', () => {
    expect(rise.settings({})).not.toHaveProperty('controlVariate');
    expect(() => rise.settings({ controlVariate: 'yes' } as never)).toThrow('rise: controlVariate must be true or false (got yes)');
    expect(resolveSettings<RiseSettings>(rise as never, { controlVariate: false })).not.toHaveProperty('controlVariate');
    expect(resolveSettings<RiseSettings>(rise as never, { controlVariate: true, masks: 'auto' })).toMatchObject({ controlVariate: true, auto: true });
    expect(resolveSettings<RiseSettings>(rise as never, { auto: false })).not.toHaveProperty('auto'); // the same rule for auto
    // masks=auto has its own default precision with the control variate (tuned separately, README)
    expect(rise.settings({ masks: 'auto' } as never)).toMatchObject({ precision: RISE_AUTO_PRECISION });
    expect(rise.settings({ masks: 'auto', controlVariate: true } as never)).toMatchObject({ precision: RISE_CV_AUTO_PRECISION, controlVariate: true });
  });
});
