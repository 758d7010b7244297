// mean / (std + eps) across methods: pixels the methods agree on are raised, pixels where they disagree are
// damped (a signal-to-noise ratio of the ensemble). eps is in the units of the normalised maps: with maps in
// [0,1] the default 0.1 keeps near-zero pixels with tiny disagreement from being blown up.
import type { Combiner } from '../types.ts';
import { numberOption, perPixel } from './pixelwise.ts';

export const varianceAware: Combiner = {
  name: 'variance',
  description: 'variance-aware mean: mean / (std + eps) across methods (agreement is rewarded)',
  usesWeights: false,
  options: (o) => ({ eps: numberOption('variance', o, 'eps', 0.1, (v) => v > 0, 'a number > 0') }),
  combine(stack, o) {
    const eps = o.eps as number;
    return perPixel(stack, (values) => {
      let s = 0;
      for (const v of values) s += v;
      const mu = s / values.length;
      let ss = 0;
      for (const v of values) ss += (v - mu) * (v - mu);
      return mu / (Math.sqrt(ss / values.length) + eps);
    });
  },
};
