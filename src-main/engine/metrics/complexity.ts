// Complexity (Bhatt et al. 2020, as in Quantus): the Shannon entropy (nats) of the fractional contributions
// p_i = m_i / sum m of the map's evidence mass m (metrics/mass.ts: positive part after removing a positive
// offset, the same for every method; Quantus uses |a|). 0 for a single pixel, ln(n) for a uniform map; a map
// without mass (all zero, constant, or nowhere positive) counts as uniform (ln n).
import { defineMetric } from './define.ts';
import type { Map2D } from '../types.ts';
import { evidenceMass } from './mass.ts';

export function entropy(values: ArrayLike<number>): number {
  const m = evidenceMass(values);
  const n = m.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += m[i];
  if (!(sum > 0)) return Math.log(n);
  let h = 0;
  for (let i = 0; i < n; i++) {
    const p = m[i] / sum;
    if (p > 0) h -= p * Math.log(p);
  }
  return h;
}

export const complexity = defineMetric<Record<string, never>>({
  name: 'complexity',
  description: 'Complexity (Bhatt et al.): entropy (nats) of the evidence mass max(map - max(min, 0), 0), normalised; 0 = one pixel, ln(n) = uniform. Lower is better.',
  tags: { higherIsBetter: false, category: 'complexity', needs: { model: false, annotations: false, explainerReruns: false, referenceMap: false } },
  settings: () => ({}),
  run: async (_input, map: Map2D) => ({ value: entropy(map.data), extras: { maxEntropy: Math.log(map.data.length) } }),
});
