// The seeded PRNG behind every sampling method.
import { describe, expect, it } from 'vitest';
import { Random } from '../../src-main/engine/util/random.ts';

describe('Random (xoshiro128**)', () => {
  it('same seed -> same stream; different seeds and derived streams differ', () => {
    const a = new Random(42);
    const b = new Random(42);
    const xs = Array.from({ length: 100 }, () => a.nextUint32());
    expect(Array.from({ length: 100 }, () => b.nextUint32())).toEqual(xs);
    const c = new Random(43);
    expect(Array.from({ length: 100 }, () => c.nextUint32())).not.toEqual(xs);
    const d1 = Random.derive(42, 'masks');
    const d2 = Random.derive(42, 'shifts');
    expect(d1.nextUint32()).not.toBe(d2.nextUint32());
    expect(Random.derive(42, 'masks').nextUint32()).toBe(Random.derive(42, 'masks').nextUint32());
    // Seeds outside 32 bits and fractional seeds are accepted and still distinct.
    expect(new Random(2 ** 40).next()).not.toBe(new Random(0).next());
    expect(new Random(0.5).next()).not.toBe(new Random(0).next());
    expect(() => new Random(NaN)).toThrow(/finite/);
  });

  it('is uniform enough: mean, bit balance, int range, normal moments', () => {
    const r = new Random(7);
    const n = 100_000;
    let sum = 0;
    const bins = new Array(10).fill(0);
    let outside = 0;
    for (let i = 0; i < n; i++) { const v = r.next(); if (!(v >= 0 && v < 1)) outside++; sum += v; bins[Math.floor(v * 10)]++; }
    expect(outside).toBe(0);
    expect(sum / n).toBeCloseTo(0.5, 2);
    for (const b of bins) expect(Math.abs(b - n / 10)).toBeLessThan(500); // ~5 sigma
    let ones = 0;
    for (let i = 0; i < n; i++) ones += r.nextUint32() >>> 31;
    expect(Math.abs(ones / n - 0.5)).toBeLessThan(0.01);
    const ks = new Set(Array.from({ length: 1000 }, () => r.int(7)));
    expect([...ks].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    let s1 = 0, s2 = 0;
    for (let i = 0; i < n; i++) { const z = r.normal(); s1 += z; s2 += z * z; }
    expect(s1 / n).toBeCloseTo(0, 1);
    expect(s2 / n).toBeCloseTo(1, 1);
    const items = [1, 2, 3, 4, 5, 6];
    expect(r.shuffle([...items]).sort()).toEqual(items);
  });
});
