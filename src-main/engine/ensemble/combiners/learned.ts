// The learned combiner: a weighted sum whose non-negative weights were fitted to human annotation masks
// (see ../learned.ts, fitLearnedWeights). The fit is done once over a set of annotated images; combining is
// then a weighted sum like 'weighted', so buildEnsemble insists on a weight set whose source is 'annotations'.
import type { Combiner } from '../types.ts';
import { perPixel, weightedSum } from './pixelwise.ts';

export const learned: Combiner = {
  name: 'learned',
  description: 'weighted sum with non-negative weights fitted to human annotation masks (NNLS)',
  usesWeights: true,
  options: () => ({}),
  combine: (stack) => perPixel(stack, weightedSum),
};
