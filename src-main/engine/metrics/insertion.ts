// Insertion (Petsiuk et al. 2018, RISE): start from a blurred copy and put the original pixels back, most
// relevant first. A faithful map makes the score rise early: higher AUC is better.
// The blurred copy is RISE's own: conv2d with gkern(11, blurSigma = 5), zero-padded in the normalised space
// (metrics/perturb.ts riseBlur; effective sigma ~3.1 px). Before issue 14 it was a box-blur approximation of a
// true sigma-5 Gaussian (effective ~5.5 px), a blurrier start than RISE's that lowered insertion scores.
import { defineMetric, intSetting, numSetting, TAGS, type ControlSettings } from './define.ts';
import { stepSettings } from './curve.ts';
import { orderCurve, type DeletionSettings } from './deletion.ts';

export type InsertionSettings = DeletionSettings;

export const insertion = defineMetric<InsertionSettings>({
  name: 'insertion',
  description: 'Insertion AUC (RISE): target score as original pixels are put back into a blurred copy (RISE\'s gkern(11, 5) kernel, effective sigma 3.1 px), most relevant first; trapezoid AUC on [0,1]. Higher is better.',
  tags: TAGS.faithfulness(true),
  settings: (p) => ({
    ...stepSettings(p, intSetting),
    baseline: 'blur',
    blurSigma: numSetting(p.blurSigma, 5, 'blurSigma', 0, 100),
  }),
  run: (input, map, s, seed) => orderCurve(input, map, s, seed, 'insertion'),
});
