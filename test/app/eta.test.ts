// ETA of a 40-image study job with a deterministic fake cost (no clock, no model): per image three method items
// of 1, 1 and 17 evaluations and one ensemble item whose metrics cost 100, at 5 ms per evaluation, after a 3 s
// start-up. After 20% of the job the shown ETA must be within 30% of the true time left.
import { describe, expect, it } from 'vitest';
import { Eta } from '../../src-main/engine/jobs/eta.ts';

const COSTS = [1, 1, 17, 100];
const MS_PER_EVAL = 5;
const IMAGES = 40;

function simulate(weighted: boolean): { at20: number; actual: number; naive: number } {
  const items = Array.from({ length: IMAGES }, () => COSTS).flat();
  const totalUnits = weighted ? items.reduce((a, b) => a + b, 0) : items.length;
  const eta = new Eta(totalUnits);
  let t = 3000; // start-up: workers load the model
  const ends: number[] = [];
  for (const c of items) { t += c * MS_PER_EVAL; ends.push(t); }
  const cut = Math.ceil(items.length * 0.2);
  let shown: number | null = null;
  let units = 0;
  for (let i = 0; i < cut; i++) {
    units += weighted ? items[i] : 1;
    shown = eta.update(units, ends[i]);
  }
  // The old estimate: mean time per finished item since the job started (start-up included).
  const naive = (ends[cut - 1] / cut) * (items.length - cut) / 1000;
  return { at20: shown!, actual: (ends[ends.length - 1] - ends[cut - 1]) / 1000, naive };
}

describe('job ETA on a 40-image job with a deterministic fake cost', () => {
  for (const weighted of [false, true]) {
    it(`is within 30% of the actual time left after 20% of the job (${weighted ? 'units = evaluations' : 'units = items'})`, () => {
      const r = simulate(weighted);
      const err = Math.abs(r.at20 - r.actual) / r.actual;
      console.log(`ETA after 20% (${weighted ? 'evaluations' : 'items'}): shown ${r.at20.toFixed(1)} s, actual ${r.actual.toFixed(1)} s, error ${(err * 100).toFixed(1)}% (old per-item mean with start-up: ${r.naive.toFixed(1)} s, error ${(Math.abs(r.naive - r.actual) / r.actual * 100).toFixed(1)}%)`);
      expect(err).toBeLessThan(0.3);
    });
  }
});
