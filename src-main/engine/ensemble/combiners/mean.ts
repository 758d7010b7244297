// Arithmetic means across methods: the uniform baseline and the weighted mean (weights from metrics, ratings,
// annotations or by hand).
import type { Combiner } from '../types.ts';
import { perPixel, weightedSum } from './pixelwise.ts';

export const mean: Combiner = {
  name: 'mean',
  description: 'mean of the normalised maps, every method counted equally',
  usesWeights: false,
  options: () => ({}),
  combine: (stack) => perPixel({ ...stack, weights: stack.weights.map(() => 1) }, weightedSum),
};

export const weighted: Combiner = {
  name: 'weighted',
  description: 'weighted mean of the normalised maps (weights from metrics, ratings or by hand)',
  usesWeights: true,
  options: () => ({}),
  combine: (stack) => perPixel(stack, weightedSum),
};
