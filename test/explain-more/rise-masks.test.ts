// RISE masks: soft values in [0,1], each pixel kept with probability p on average (so sum_i m_i / (N p) ~ 1 and the
// saliency estimator is unbiased), smooth, shifted (not aligned to one grid), and reproducible from the seed.
import { describe, expect, it } from 'vitest';
import { RiseMaskGenerator } from '../../src-main/engine/explain/perturb/rise.ts';
import { Random } from '../../src-main/engine/util/random.ts';

describe('RISE mask generator', () => {
  for (const p of [0.5, 0.25]) {
    it(`p = ${p}: values in [0,1], mean p per pixel, smooth`, () => {
      const W = 60, H = 45, N = 800;
      const gen = new RiseMaskGenerator(W, H, 7, p, new Random(3));
      const sum = new Float64Array(W * H);
      let maxStep = 0, vmin = Infinity, vmax = -Infinity;
      for (let i = 0; i < N; i++) {
        const m = gen.next();
        for (let q = 0; q < m.length; q++) {
          vmin = Math.min(vmin, m[q]);
          vmax = Math.max(vmax, m[q]);
          sum[q] += m[q];
          if (q % W > 0) maxStep = Math.max(maxStep, Math.abs(m[q] - m[q - 1]));
        }
      }
      expect(vmin).toBe(0);
      expect(vmax).toBe(1);
      let lo = Infinity, hi = -Infinity, mean = 0;
      for (const s of sum) { lo = Math.min(lo, s / N); hi = Math.max(hi, s / N); mean += s / N / sum.length; }
      expect(mean).toBeCloseTo(p, 1);
      expect(lo).toBeGreaterThan(p - 0.08);
      expect(hi).toBeLessThan(p + 0.08);
      // Bilinear over cells of ceil(60/7) = 9 px: neighbours differ by at most 1/9.
      expect(maxStep).toBeLessThanOrEqual(1 / 9 + 1e-6);
      expect(maxStep).toBeGreaterThan(0);
    });
  }

  it('same seed -> same masks, another seed -> other masks', () => {
    const a = new RiseMaskGenerator(32, 32, 5, 0.5, Random.derive(1, 'rise-masks'));
    const b = new RiseMaskGenerator(32, 32, 5, 0.5, Random.derive(1, 'rise-masks'));
    const c = new RiseMaskGenerator(32, 32, 5, 0.5, Random.derive(2, 'rise-masks'));
    for (let i = 0; i < 5; i++) {
      const ma = a.next();
      expect(Array.from(b.next())).toEqual(Array.from(ma));
      expect(Array.from(c.next())).not.toEqual(Array.from(ma));
    }
  });
});
