// Insertion (Petsiuk et al. 2018, RISE): start from a blurred copy and put the original pixels back, most
// relevant first. A faithful map makes the score rise early: higher AUC is better.
import { defineMetric, intSetting, numSetting, TAGS, type ControlSettings } from './define.ts';
import { stepSettings } from './curve.ts';
import { orderCurve, type DeletionSettings } from './deletion.ts';

export type InsertionSettings = DeletionSettings;

export const insertion = defineMetric<InsertionSettings>({
  name: 'insertion',
  description: 'Insertion AUC (RISE): target score as original pixels are put back into a blurred copy (sigma 5), most relevant first; trapezoid AUC on [0,1]. Higher is better.',
  tags: TAGS.faithfulness(true),
  settings: (p) => ({
    ...stepSettings(p, intSetting),
    baseline: 'blur',
    blurSigma: numSetting(p.blurSigma, 5, 'blurSigma', 0, 100),
  }),
  run: (input, map, s, seed) => orderCurve(input, map, s, seed, 'insertion'),
});
