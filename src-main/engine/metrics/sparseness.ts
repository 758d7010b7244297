// Sparseness (Chalasani et al. 2020, as in Quantus): the Gini index of the map's evidence mass m (metrics/mass.ts:
// positive part after removing a positive offset, the same for every method; Quantus uses |a|),
//   G = sum_i (2i - n - 1) m_(i) / (n sum_i m_(i)),  m sorted ascending, i = 1..n.
// 0 for a uniform map, 1 - 1/n for a single non-zero pixel. A map without mass (all zero, constant, or
// nowhere positive) counts as uniform (0).
import { defineMetric } from './define.ts';
import type { Map2D } from '../types.ts';
import { evidenceMass } from './mass.ts';

export function gini(values: ArrayLike<number>): number {
  const a = evidenceMass(values).sort();
  const n = a.length;
  let num = 0, sum = 0;
  for (let i = 0; i < n; i++) { num += (2 * (i + 1) - n - 1) * a[i]; sum += a[i]; }
  return sum > 0 ? num / (n * sum) : 0;
}

export const sparseness = defineMetric<Record<string, never>>({
  name: 'sparseness',
  description: 'Sparseness (Chalasani et al.): Gini index of the evidence mass max(map - max(min, 0), 0); 0 = uniform, near 1 = a few pixels hold everything. Higher is better.',
  tags: { higherIsBetter: true, category: 'complexity', needs: { model: false, annotations: false, explainerReruns: false, referenceMap: false } },
  settings: () => ({}),
  run: async (_input, map: Map2D) => ({ value: gini(map.data) }),
});
