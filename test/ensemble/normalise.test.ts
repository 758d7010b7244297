import { describe, expect, it } from 'vitest';
import { applySign, normalise } from '../../src-main/engine/ensemble/normalise.ts';
import { NORMALISER_NAMES } from '../../src-main/engine/ensemble/types.ts';

const f = (...v: number[]) => Float32Array.from(v);
const close = (a: Float32Array, b: number[], digits = 5) => {
  expect(a.length).toBe(b.length);
  b.forEach((v, i) => (Number.isNaN(v) ? expect(a[i]).toBeNaN() : expect(a[i]).toBeCloseTo(v, digits)));
};

describe('sign policy', () => {
  it('keeps, clips or takes the absolute value of negative evidence, NaN kept', () => {
    const x = f(-2, 0, 3, NaN);
    close(applySign(x, 'signed'), [-2, 0, 3, NaN]);
    close(applySign(x, 'positive'), [0, 0, 3, NaN]);
    close(applySign(x, 'absolute'), [2, 0, 3, NaN]);
  });
});

describe('normalisers', () => {
  it('min-max maps to [0,1]; signed maps with negatives are divided by max|x| instead', () => {
    close(normalise(f(2, 4, 6), 'minmax'), [0, 0.5, 1]);
    close(normalise(f(-2, 1, 4), 'minmax'), [-0.5, 0.25, 1]);
    close(normalise(f(-2, 1, 4), 'minmax', { sign: 'positive' }), [0, 0.25, 1]);
    close(normalise(f(-2, 1, 4), 'minmax', { sign: 'absolute' }), [1 / 3, 0, 1]);
  });

  it('percentile clipping removes the outlier that would otherwise set the scale', () => {
    // 0..99 plus one outlier 1000; numpy: percentile 1 = 1.0, percentile 99 = 99.0 for this data.
    const x = new Float32Array(101);
    for (let i = 0; i < 100; i++) x[i] = i;
    x[100] = 1000;
    const out = normalise(x, 'percentile');
    expect(out[0]).toBe(0); // clipped at p1 = 1
    expect(out[1]).toBeCloseTo(0, 6);
    expect(out[50]).toBeCloseTo((50 - 1) / (99 - 1), 5);
    expect(out[100]).toBe(1);
    // Min-max would squash the bulk of the map below 0.1.
    expect(normalise(x, 'minmax')[50]).toBeLessThan(0.06);
    // Signed with negatives: clip |x| at its 99th percentile and divide by it.
    const s = normalise(f(-4, -1, 0, 1, 2), 'percentile', { highPercentile: 100 });
    close(s, [-1, -0.25, 0, 0.25, 0.5]);
  });

  it('z-score and robust standardisation', () => {
    close(normalise(f(1, 2, 3, 4), 'zscore'), [-1.341641, -0.447214, 0.447214, 1.341641]);
    // median 3, IQR (numpy linear) = 4 - 2 = 2 -> spread 2/1.349
    close(normalise(f(1, 2, 3, 4, 100), 'robust'), [-2 * 1.349 / 2, -1.349 / 2, 0, 1.349 / 2, 97 * 1.349 / 2]);
  });

  it('robust falls back to MAD, then std, when the IQR of a mostly-zero map is 0', () => {
    const sparse = new Float32Array(20);
    sparse[0] = 10;
    const out = normalise(sparse, 'robust');
    // IQR = 0 and MAD = 0, so the population std sqrt(100/20 - 0.25) is the spread, around median 0.
    const std = Math.sqrt(100 / 20 - 0.25);
    expect(out[0]).toBeCloseTo(10 / std, 5);
    expect(out[1]).toBe(0);
  });

  it('rank gives the quantile of each pixel with ties averaged', () => {
    close(normalise(f(10, 30, 20, 20), 'rank'), [0, 1, 0.5, 0.5]);
  });

  it('second-moment scaling divides by sqrt(mean(x^2)) and keeps the sign', () => {
    close(normalise(f(3, -4), 'second-moment'), [3 / Math.sqrt(12.5), -4 / Math.sqrt(12.5)]);
  });

  it('every normaliser: constant map -> zeros (rank: 0.5), NaN stays NaN and is ignored by the statistics', () => {
    for (const name of NORMALISER_NAMES) {
      const c = normalise(f(5, 5, NaN, 5), name);
      expect(Number.isNaN(c[2]), name).toBe(true);
      const expected = name === 'rank' ? 0.5 : name === 'second-moment' ? 1 : name === 'none' ? 5 : 0;
      for (const i of [0, 1, 3]) expect(c[i], name).toBeCloseTo(expected, 6);
      const z = normalise(f(0, 0, 0), name);
      for (const v of z) expect(Number.isFinite(v), name).toBe(true);
    }
    close(normalise(f(0, NaN, 10), 'minmax'), [0, NaN, 1]);
    close(normalise(f(0, NaN, 10), 'zscore'), [-1, NaN, 1]);
  });

  it('rejects unknown names and bad percentiles with a clear error', () => {
    expect(() => normalise(f(1), 'softmax' as never)).toThrow(/unknown normaliser "softmax"; known: minmax/);
    expect(() => normalise(f(1), 'percentile', { lowPercentile: 60, highPercentile: 40 })).toThrow(/percentile bounds/);
    expect(() => normalise(f(1), 'minmax', { sign: 'negative' as never })).toThrow(/unknown sign policy/);
  });
});
