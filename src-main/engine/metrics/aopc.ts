// AOPC (Samek et al. 2017, "Evaluating the visualization of what a deep neural network has learned"):
// regions are perturbed one per step in order of relevance, x_0 = x, x_k = x with the first k regions replaced
// by the baseline (uniform noise by default, as in the paper), k = 0..L, and
//   AOPC = 1/(L+1) * sum_{k=0..L} ( f(x) - f(x_k) )        (the k = 0 term is 0; eq. 12 of the paper)
// MoRF (most relevant first): a faithful map makes the score drop fast, higher is better.
// LeRF (least relevant first): a faithful map keeps the score, so lower (closer to 0 or negative) is better.
import { SaliencyError } from '../types.ts';
import { defineMetric, intSetting, TAGS, type ControlSettings } from './define.ts';
import { baselineImage, parseBaseline, type Baseline } from './perturb.ts';
import { pixelCurve } from './curve.ts';
import { gridRegions, regionOrder, segmentRegions } from './regions.ts';
import { Random } from '../util/random.ts';
import { slic } from '../explain/segment/slic.ts';
import type { Metric } from './types.ts';

export type AopcSettings = {
  /** Patch side in pixels (ignored when `segments` is given). */
  patch: number;
  /** Superpixels instead of patches: about this many SLIC segments of the image (0 = patches). */
  superpixels: number;
  /** Or a given segment label per pixel (e.g. the segmentation LIME used). */
  segments?: Int32Array;
  /** L: regions perturbed in total (0 = all regions). */
  steps: number;
  baseline: Baseline;
} & ControlSettings;

function aopcMetric(morf: boolean): Metric<AopcSettings> {
  const name = morf ? 'aopc-morf' : 'aopc-lerf';
  return defineMetric<AopcSettings>({
    name,
    description: `AOPC ${morf ? 'MoRF' : 'LeRF'} (Samek et al.): mean over k=0..L of f(x) - f(x_k), regions (16x16 patches, or SLIC superpixels) perturbed ${morf ? 'most' : 'least'} relevant first with uniform noise. ${morf ? 'Higher' : 'Lower'} is better.`,
    tags: TAGS.faithfulness(morf),
    settings: (p) => {
      if (p.segments !== undefined && !(p.segments instanceof Int32Array)) throw new SaliencyError('setting segments must be an Int32Array of labels', 'BAD_SETTING');
      return {
        patch: intSetting(p.patch, 16, 'patch'),
        superpixels: intSetting(p.superpixels, 0, 'superpixels', 0),
        ...(p.segments ? { segments: p.segments } : {}),
        steps: intSetting(p.steps, 0, 'steps', 0),
        baseline: parseBaseline(p.baseline ?? 'uniform'),
      };
    },
    async run(input, map, s, seed) {
      const image = input.image.input;
      const regions = s.segments ? segmentRegions(s.segments, image.width, image.height)
        : s.superpixels > 0 ? { ...segmentRegions(slic(image, { segments: s.superpixels }).labels, image.width, image.height), description: `SLIC superpixels (~${s.superpixels})` }
          : gridRegions(image.width, image.height, s.patch);
      const { order, cumulative } = regionOrder(map, regions, Random.derive(seed, 'ties'), morf);
      const L = s.steps === 0 ? regions.pixels.length : Math.min(s.steps, regions.pixels.length);
      const counts = cumulative.slice(0, L + 1);
      const source = baselineImage(image, s.baseline, Random.derive(seed, 'baseline'), undefined, input.model);
      const y = await pixelCurve({ model: input.model!, target: input.target, start: image, source, order, counts, signal: input.signal, onProgress: input.onProgress });
      let sum = 0;
      for (const v of y) sum += y[0] - v;
      return {
        value: sum / (L + 1),
        curve: { x: counts.map((c) => c / order.length), y, xLabel: `fraction of pixels perturbed (${regions.description}, ${morf ? 'MoRF' : 'LeRF'})`, yLabel: `target ${input.target.score}` },
        extras: { regions: regions.pixels.length, L, originalScore: y[0], evaluations: y.length },
      };
    },
  });
}

export const aopcMorf = aopcMetric(true);
export const aopcLerf = aopcMetric(false);
