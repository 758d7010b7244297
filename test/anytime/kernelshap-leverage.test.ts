// KernelSHAP with leverage-score sampling (kernelshap.leverage=true): coalition sizes drawn uniformly and each
// sampled row importance-weighted back to the Shapley kernel's mass, so the regression and its Shapley values are
// shap's; what changes is the noise. Checked on games whose Shapley values are known exactly at M = 100.
import { describe, expect, it } from 'vitest';
import { kernelShapCoalitions, kernelShapGame, kernelSizeMass } from '../../src-main/engine/explain/perturb/shapley-sampler.ts';
import { KERNELSHAP_AUTO_PRECISION, KERNELSHAP_LEVERAGE_AUTO_PRECISION } from '../../src-main/engine/explain/perturb/kernelshap.ts';
import { getExplainer } from '../../src-main/engine/explain/registry.ts';
import { resolveSettings } from '../../src-main/engine/explain/check-settings.ts';
import { Random } from '../../src-main/engine/util/random.ts';
import { harsanyiGame } from '../helpers/harsanyi.ts';

const l2 = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
};
const sizeOf = (z: Uint8Array) => z.reduce((a, b) => a + b, 0);

describe('leverage-score coalitions', () => {
  it('draw sizes uniformly and weigh each size back to the kernel mass', () => {
    const M = 100;
    const c = kernelShapCoalitions(M, 8000, 5, true);
    expect(c.fullSizes).toBe(0); // no size fits the budget's uniform share (size 1 needs 200 rows, gets ~2%)
    const mass = kernelSizeMass(M);
    const folded = (s: number) => Math.min(s, M - s);
    const rows = new Float64Array(mass.length);
    const weight = new Float64Array(mass.length);
    for (let i = c.fixedRows; i < c.rows.length; i++) {
      const k = folded(sizeOf(c.rows[i])) - 1;
      rows[k]++;
      weight[k] += c.weights[i];
    }
    const sampled = c.rows.length - c.fixedRows;
    // uniform over sizes 1..99: a paired size's rows (both sides) are 2/99 of the rows, the middle size 1/99
    expect(rows[0] / sampled).toBeGreaterThan(0.015);
    expect(rows[0] / sampled).toBeLessThan(0.026);
    // shap's draw puts the kernel's mass of sizes 1 and 99 there: 19.5% of the rows
    expect(mass[0]).toBeCloseTo(0.195, 3);
    // importance weights: each size's total weight is its kernel mass (within the sampling error of ~160 rows a
    // size, SD ~8%)
    for (let k = 0; k < mass.length; k++) expect(Math.abs(weight[k] / mass[k] - 1)).toBeLessThan(0.35);
    expect(c.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    // paired complements, as shap's sampler
    for (let i = c.fixedRows; i + 1 < c.rows.length; i += 2) {
      if (sizeOf(c.rows[i]) < 50) expect(sizeOf(c.rows[i]) + sizeOf(c.rows[i + 1])).toBe(M);
    }
  });

  it('enumerate exactly as shap does when the budget covers every coalition', () => {
    const v = (z: Uint8Array) => Math.tanh(z[0] + 0.5 * z[1] * z[2] - 0.3 * z[3]);
    const a = kernelShapGame(v, 10, 4000, 1);
    const b = kernelShapGame(v, 10, 4000, 1, true);
    expect(b.evaluations).toBe(1024);
    for (let i = 0; i < 10; i++) expect(b.phi[i]).toBeCloseTo(a.phi[i], 10);
  });

  it('an additive game is exact at 1,000 samples', () => {
    const rng = new Random(2);
    const a = Float64Array.from({ length: 100 }, () => rng.normal());
    const { phi } = kernelShapGame((z) => z.reduce((s, zi, i) => s + zi * a[i], 0), 100, 1000, 3, true);
    expect(l2(phi, a)).toBeLessThan(1e-6);
  });

  /** L2 error of shap's sampler and of leverage over 20 seeds, and their paired difference with a 95% t-interval. */
  function compare(g: ReturnType<typeof harsanyiGame>, n: number) {
    const seeds = Array.from({ length: 20 }, (_, i) => i + 1);
    const err = (leverage: boolean) => seeds.map((s) => l2(kernelShapGame(g.v, 100, n, s, leverage).phi, g.exact));
    const [shap, lev] = [err(false), err(true)];
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const d = lev.map((x, i) => x - shap[i]);
    const mean = avg(d);
    const half = (2.093 * Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / (d.length - 1))) / Math.sqrt(d.length);
    return { shap: avg(shap), lev: avg(lev), mean, lo: mean - half, hi: mean + half };
  }

  // Low-order interactions (the regime where leverage helped on superpixel images) must show the gain; the
  // others are printed for the README (with interactions of up to 30 players leverage is worse at 1,000).
  it('M = 100 Harsanyi games: lower error than shap\'s sampler with 2- to 4-player interactions (paired, 20 seeds)', () => {
    const games = [{ terms: 200, maxSize: 4 }, { terms: 200, maxSize: 10 }, { terms: 50, maxSize: 30 }];
    const rows = games.map(({ terms, maxSize }) => ({ terms, maxSize, ...compare(harsanyiGame(100, 3, terms, maxSize), 1000) }));
    for (const r of rows) {
      console.log(`Harsanyi game, M = 100, ${r.terms} interactions of 2-${r.maxSize} players, L2 error at 1,000 samples, 20 seeds: shap's sampler ${r.shap.toFixed(3)}, leverage ${r.lev.toFixed(3)}, paired difference ${r.mean.toFixed(3)} [${r.lo.toFixed(3)}, ${r.hi.toFixed(3)}]`);
    }
    expect(rows[0].hi).toBeLessThan(0);
    const g = harsanyiGame(100, 3, 200, 4);
    const at = (n: number) => [1, 2, 3, 4, 5].reduce((a, s) => a + l2(kernelShapGame(g.v, 100, n, s, true).phi, g.exact), 0);
    expect(at(4000)).toBeLessThan(at(1000)); // consistent: the error falls with samples
  }, 600_000);
});

describe('kernelshap.leverage setting', () => {
  const ks = getExplainer('kernelshap');
  it('is an opt-in switch with its own auto precision; off leaves the stored settings as they were', () => {
    expect(ks.settings({})).not.toHaveProperty('leverage');
    expect(ks.settings({ leverage: true } as never)).toMatchObject({ leverage: true });
    expect(ks.settings({ samples: 'auto', leverage: true } as never)).toMatchObject({ auto: true, precision: KERNELSHAP_LEVERAGE_AUTO_PRECISION });
    expect(ks.settings({ samples: 'auto' } as never)).toMatchObject({ precision: KERNELSHAP_AUTO_PRECISION });
    expect(resolveSettings(ks, { leverage: false })).not.toHaveProperty('leverage');
    expect(() => ks.settings({ leverage: 'yes' } as never)).toThrow('kernelshap: leverage must be true or false (got yes)');
  });
});
