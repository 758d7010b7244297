// LIME's coalition sampler (lime_image draws each segment on/off uniformly). Row 0 = all segments on
// (lime_image's first sample, f(x)); row 1 = all off (f(baseline)); then antithetic pairs (z, 1-z) with z
// uniform on {0,1}^M (each row is still uniform, as LIME samples). Rows are prefix-stable: the first n rows
// do not depend on how many are drawn in total. KernelSHAP has its own sampler (shapley-sampler.ts): uniform
// rows almost never have fewer than ~30 or more than ~70 of 100 segments on, where the Shapley kernel's mass is.
import { Random } from '../../util/random.ts';
import { PrefixCache } from '../../util/prefix-cache.ts';

const cache = new PrefixCache<Uint8Array[]>(16, (rows) => rows.length);

export function sampleCoalitions(segments: number, samples: number, seed: number): Uint8Array[] {
  return cache.get(`${segments}:${seed}`, samples, (n) => generate(segments, n, seed)).slice(0, samples);
}

/** The pair each of the first n rows belongs to (rows 2i and 2i+1 are complements): the clusters of the
 *  standard errors (convergence.ts). */
export function coalitionPairs(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, k) => k >> 1);
}

function generate(M: number, n: number, seed: number): Uint8Array[] {
  const rng = Random.derive(seed, 'coalitions');
  const rows: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    if (i === 0) rows.push(new Uint8Array(M).fill(1));
    else if (i === 1) rows.push(new Uint8Array(M));
    else if (i % 2 === 0) {
      const z = new Uint8Array(M);
      for (let j = 0; j < M; j++) z[j] = rng.nextUint32() >>> 31;
      rows.push(z);
    } else {
      rows.push(rows[i - 1].map((v) => 1 - v));
    }
  }
  return rows;
}
