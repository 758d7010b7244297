import { describe, expect, it } from 'vitest';
import { nnlsGram } from '../../src-main/engine/ensemble/nnls.ts';
import { fitAndEvaluate, fitLearnedWeights, maskAuc, type AnnotatedSample } from '../../src-main/engine/ensemble/learned.ts';
import type { Explanation } from '../../src-main/engine/explain/types.ts';
import { Random } from '../../src-main/engine/util/random.ts';

function gram(X: number[][], y: number[]) {
  const m = X[0].length;
  const G = Array.from({ length: m }, (_, i) => Array.from({ length: m }, (__, j) => X.reduce((s, r) => s + r[i] * r[j], 0)));
  const b = Array.from({ length: m }, (_, i) => X.reduce((s, r, k) => s + r[i] * y[k], 0));
  return { G, b };
}

describe('NNLS (Lawson-Hanson)', () => {
  it('recovers exact non-negative weights', () => {
    const rng = new Random(1);
    const X = Array.from({ length: 50 }, () => [rng.next(), rng.next(), rng.next()]);
    const y = X.map((r) => 2 * r[0] + 0.5 * r[2]);
    const w = nnlsGram(gram(X, y).G, gram(X, y).b);
    expect(w[0]).toBeCloseTo(2, 8);
    expect(w[1]).toBeCloseTo(0, 8);
    expect(w[2]).toBeCloseTo(0.5, 8);
  });

  it('clips a weight the unconstrained fit would make negative, and satisfies the KKT conditions', () => {
    const rng = new Random(2);
    const X = Array.from({ length: 80 }, () => [rng.next(), rng.next()]);
    const y = X.map((r) => r[0] - 0.8 * r[1] + 0.01 * rng.normal());
    const { G, b } = gram(X, y);
    const w = nnlsGram(G, b);
    expect(w[1]).toBe(0);
    expect(w[0]).toBeGreaterThan(0);
    const grad = b.map((bi, i) => bi - G[i].reduce((s, g, j) => s + g * w[j], 0));
    expect(Math.abs(grad[0])).toBeLessThan(1e-8); // free variable: zero gradient
    expect(grad[1]).toBeLessThanOrEqual(1e-8); // bound variable: pushing it up would not help
  });
});

describe('maskAuc', () => {
  it('is 1 for a perfect detector, 0 for the reverse, 0.5 for a constant map', () => {
    const mask = { width: 4, height: 1, data: Float32Array.from([0, 1, 1, 0]) };
    expect(maskAuc({ width: 4, height: 1, data: Float32Array.from([0.1, 0.9, 0.8, 0.2]) }, mask)).toBe(1);
    expect(maskAuc({ width: 4, height: 1, data: Float32Array.from([0.9, 0.1, 0.2, 0.8]) }, mask)).toBe(0);
    expect(maskAuc({ width: 4, height: 1, data: Float32Array.from([1, 1, 1, 1]) }, mask)).toBe(0.5);
  });
});

describe('learned combiner fitted on annotation masks', () => {
  // 16x16 images with a 5x5 object at a random place. "good" sees the object with noise, "blurry" sees a
  // dilated version, "noise" is unrelated: the fit must weight good and blurry and give noise (nearly) nothing.
  function samples(n: number, seed: number): AnnotatedSample[] {
    const rng = new Random(seed);
    return Array.from({ length: n }, (_, k) => {
      const ox = rng.int(11), oy = rng.int(11);
      const inside = (x: number, y: number, pad: number) => x >= ox - pad && x < ox + 5 + pad && y >= oy - pad && y < oy + 5 + pad;
      const map = (f: (x: number, y: number) => number) => {
        const data = new Float32Array(256);
        for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) data[y * 16 + x] = f(x, y);
        return { width: 16, height: 16, data };
      };
      const e = (method: string, f: (x: number, y: number) => number): Explanation => ({ method, target: { classIndex: 0, score: 'logit' }, map: map(f), evaluations: 1, settings: {}, seed: 0, extras: {}, millis: 0 });
      return {
        id: `img${k}`,
        mask: map((x, y) => (inside(x, y, 0) ? 1 : 0)),
        explanations: [
          e('good', (x, y) => (inside(x, y, 0) ? 1 : 0) + 1.5 * rng.next()),
          e('blurry', (x, y) => (inside(x, y, 2) ? 1 : 0) + 0.1 * rng.next()),
          e('noise', () => rng.next()),
        ],
      };
    });
  }

  it('fits non-negative weights that ignore the uninformative method, with provenance', () => {
    const w = fitLearnedWeights(samples(12, 5));
    expect(w.source).toBe('annotations');
    expect(w.weights.noise).toBeLessThan(0.05);
    expect(w.weights.good).toBeGreaterThan(0.2);
    expect(w.weights.blurry).toBeGreaterThan(0.2);
    expect(w.provenance.images).toBe(12);
  });

  it('on held-out images the learned combination beats every single method and the plain mean', () => {
    const report = fitAndEvaluate(samples(30, 9), { testFraction: 0.3, seed: 1 });
    expect(report.test.length).toBe(9);
    expect(report.train.length).toBe(21);
    const singles = ['good', 'blurry', 'noise'].map((m) => report.auc[m]);
    expect(report.auc.noise).toBeGreaterThan(0.4);
    expect(report.auc.noise).toBeLessThan(0.6);
    expect(report.auc['ensemble:learned']).toBeGreaterThan(Math.max(...singles));
    expect(report.auc['ensemble:learned']).toBeGreaterThan(report.auc['ensemble:mean']);
  });

  it('rejects inconsistent samples and masks with nothing to learn', () => {
    const s = samples(2, 1);
    s[1].explanations = s[1].explanations.slice(0, 2);
    expect(() => fitLearnedWeights(s)).toThrow(/sample img1 has methods good, blurry, expected good, blurry, noise/);
    const flat = samples(1, 1);
    flat[0].mask.data.fill(1);
    expect(() => fitLearnedWeights(flat)).toThrow(/both object and background/);
  });
});
