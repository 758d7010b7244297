// Deletion (Petsiuk et al. 2018, RISE): remove pixels from the most relevant down, replacing them with a
// baseline, and record the target score. A faithful map makes the score collapse early: lower AUC is better.
import type { Map2D } from '../types.ts';
import type { MetricInput, MetricValue } from './types.ts';
import { defineMetric, intSetting, numSetting, TAGS, type ControlSettings } from './define.ts';
import { baselineImage, parseBaseline, type Baseline } from './perturb.ts';
import { pixelCounts, pixelCurve, stepSettings, trapezoidAuc, type StepSettings } from './curve.ts';
import { relevanceOrder } from './rank.ts';
import { Random } from '../util/random.ts';

export type DeletionSettings = StepSettings & { baseline: Baseline; blurSigma: number } & ControlSettings;

export const deletion = defineMetric<DeletionSettings>({
  name: 'deletion',
  description: 'Deletion AUC (RISE): target score as pixels are replaced by a baseline, most relevant first; x = fraction removed, trapezoid AUC on [0,1]. Lower is better.',
  tags: TAGS.faithfulness(false),
  settings: (p) => ({
    ...stepSettings(p, intSetting),
    baseline: parseBaseline(p.baseline ?? 'mean'),
    blurSigma: numSetting(p.blurSigma, 5, 'blurSigma', 0, 100),
  }),
  run: (input, map, s, seed) => orderCurve(input, map, s, seed, 'deletion'),
});

/** Shared by deletion and insertion: they differ only in the start image and where pixels come from. */
export async function orderCurve(input: MetricInput, map: Map2D, s: DeletionSettings, seed: number, kind: 'deletion' | 'insertion'): Promise<MetricValue> {
  const image = input.image.input;
  const other = baselineImage(image, kind === 'deletion' ? s.baseline : 'blur', Random.derive(seed, 'baseline'), s.blurSigma, input.model);
  const [start, source] = kind === 'deletion' ? [image, other] : [other, image];
  const order = relevanceOrder(map.data, Random.derive(seed, 'ties'));
  const counts = pixelCounts(order.length, s);
  const y = await pixelCurve({ model: input.model!, target: input.target, start, source, order, counts, signal: input.signal, onProgress: input.onProgress });
  const x = counts.map((c) => c / order.length);
  const auc = trapezoidAuc(y, x);
  const original = kind === 'deletion' ? y[0] : y[y.length - 1];
  return {
    value: auc,
    curve: { x, y, xLabel: kind === 'deletion' ? 'fraction of pixels removed' : 'fraction of pixels inserted', yLabel: `target ${input.target.score}` },
    extras: { originalScore: original, relativeAuc: original !== 0 ? auc / original : null, evaluations: y.length },
  };
}
