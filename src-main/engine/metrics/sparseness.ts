// Sparseness (Chalasani et al. 2020, as in Quantus): the Gini index of |map|,
//   G = sum_i (2i - n - 1) a_(i) / (n sum_i a_(i)),  a sorted ascending, i = 1..n.
// 0 for a uniform map, 1 - 1/n for a single non-zero pixel. An all-zero map counts as uniform (0).
import { defineMetric } from './define.ts';
import type { Map2D } from '../types.ts';

export function gini(values: ArrayLike<number>): number {
  const a = Float64Array.from(values, (v) => (Number.isNaN(v) ? 0 : Math.abs(v))).sort();
  const n = a.length;
  let num = 0, sum = 0;
  for (let i = 0; i < n; i++) { num += (2 * (i + 1) - n - 1) * a[i]; sum += a[i]; }
  return sum > 0 ? num / (n * sum) : 0;
}

export const sparseness = defineMetric<Record<string, never>>({
  name: 'sparseness',
  description: 'Sparseness (Chalasani et al.): Gini index of |map|; 0 = uniform, near 1 = a few pixels hold everything. Higher is better.',
  tags: { higherIsBetter: true, category: 'complexity', needs: { model: false, annotations: false, explainerReruns: false, referenceMap: false } },
  settings: () => ({}),
  run: async (_input, map: Map2D) => ({ value: gini(map.data) }),
});
