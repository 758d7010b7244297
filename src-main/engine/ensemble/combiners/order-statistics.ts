// Order statistics across methods: the median, and the trimmed mean (drop the most extreme members at each
// pixel, average the rest). Both resist one method that is wildly off.
import type { Combiner } from '../types.ts';
import { numberOption, perPixel } from './pixelwise.ts';
import { quantileSorted } from '../stats.ts';

export const median: Combiner = {
  name: 'median',
  description: 'median across methods at each pixel',
  usesWeights: false,
  options: () => ({}),
  combine: (stack) => perPixel(stack, (values) => quantileSorted(values.sort((a, b) => a - b), 0.5)),
};

/** Members cut from each end: floor(trim * n), but at least 1 once there are 3 or more members (otherwise a
 * fraction of a handful of methods would never cut anything). */
export function trimCount(n: number, trim: number): number {
  if (n < 3) return 0;
  return Math.min(Math.max(1, Math.floor(trim * n)), Math.floor((n - 1) / 2));
}

export const trimmedMean: Combiner = {
  name: 'trimmed',
  description: 'trimmed mean across methods (the highest and lowest members at each pixel are dropped)',
  usesWeights: false,
  options: (o) => ({ trim: numberOption('trimmed', o, 'trim', 0.2, (v) => v >= 0 && v < 0.5, 'a fraction in [0, 0.5)') }),
  combine(stack, o) {
    return perPixel(stack, (values) => {
      values.sort((a, b) => a - b);
      const k = trimCount(values.length, o.trim as number);
      let s = 0;
      for (let i = k; i < values.length - k; i++) s += values[i];
      return s / (values.length - 2 * k);
    });
  },
};
