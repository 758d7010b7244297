// Complexity (Bhatt et al. 2020, as in Quantus): the Shannon entropy (nats) of the map's fractional
// contributions p_i = |a_i| / sum |a|. 0 for a single pixel, ln(n) for a uniform map; an all-zero map counts
// as uniform (ln n).
import { defineMetric } from './define.ts';
import type { Map2D } from '../types.ts';

export function entropy(values: ArrayLike<number>): number {
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Number.isNaN(values[i]) ? 0 : Math.abs(values[i]);
  if (!(sum > 0)) return Math.log(n);
  let h = 0;
  for (let i = 0; i < n; i++) {
    const p = (Number.isNaN(values[i]) ? 0 : Math.abs(values[i])) / sum;
    if (p > 0) h -= p * Math.log(p);
  }
  return h;
}

export const complexity = defineMetric<Record<string, never>>({
  name: 'complexity',
  description: 'Complexity (Bhatt et al.): entropy of |map| / sum |map| in nats; 0 = one pixel, ln(n) = uniform. Lower is better.',
  tags: { higherIsBetter: false, category: 'complexity', needs: { model: false, annotations: false, explainerReruns: false, referenceMap: false } },
  settings: () => ({}),
  run: async (_input, map: Map2D) => ({ value: entropy(map.data), extras: { maxEntropy: Math.log(map.data.length) } }),
});
