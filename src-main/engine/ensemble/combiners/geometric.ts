// Weighted geometric mean across methods: high only where every method is high (a soft AND). Defined on
// non-negative evidence, so negative values count as 0; eps keeps one zero from vetoing a pixel outright and is
// subtracted again so that all-zero pixels stay 0.
import type { Combiner } from '../types.ts';
import { numberOption, perPixel } from './pixelwise.ts';

export const geometric: Combiner = {
  name: 'geometric',
  description: 'weighted geometric mean exp(sum w log(max(x,0)+eps)) - eps (all methods must agree)',
  usesWeights: true,
  options: (o) => ({ eps: numberOption('geometric', o, 'eps', 1e-3, (v) => v > 0, 'a number > 0') }),
  combine(stack, o) {
    const eps = o.eps as number;
    return perPixel(stack, (values, weights) => {
      let s = 0;
      for (let i = 0; i < values.length; i++) s += weights[i] * Math.log(Math.max(values[i], 0) + eps);
      return Math.exp(s) - eps;
    });
  },
};
