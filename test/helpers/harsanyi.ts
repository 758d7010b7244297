// A cooperative game with exactly known Shapley values, for the KernelSHAP sampler tests.
import { Random } from '../../src-main/engine/util/random.ts';

/** v(z) = sum_T d_T prod_{i in T} z_i (Harsanyi dividends: M main effects plus `terms` random interactions of
 *  2..maxSize players), so phi_i = sum over T containing i of d_T / |T|. */
export function harsanyiGame(M: number, seed: number, terms: number, maxSize: number) {
  const rng = new Random(seed);
  const T: { set: number[]; d: number }[] = [];
  for (let i = 0; i < M; i++) T.push({ set: [i], d: rng.normal() * 0.3 });
  for (let t = 0; t < terms; t++) {
    const size = 2 + rng.int(maxSize - 1);
    const set = new Set<number>();
    while (set.size < size) set.add(rng.int(M));
    T.push({ set: [...set], d: rng.normal() });
  }
  const exact = new Float64Array(M);
  for (const { set, d } of T) for (const i of set) exact[i] += d / set.length;
  return { v: (z: Uint8Array) => T.reduce((s, { set, d }) => (set.every((i) => z[i] === 1) ? s + d : s), 0), exact };
}
