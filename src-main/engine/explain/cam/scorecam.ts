// Score-CAM (Wang et al. 2020): each channel's activation map, upsampled and min-max normalised to [0,1],
// masks the input (input * m + baseline * (1 - m)); the target's score on that masked input, softmax-normalised
// over the channels as in the paper, is the channel's weight. map = ReLU(sum_k w_k A_k) on the feature grid.
// Only the top-k channels by mean activation are scored (InceptionV3 has 2048); the rest get weight 0.
// Constant channels (e.g. all zero after ReLU) carry no spatial information and are skipped.
import { BaseCam, type CamInputs, type CamSettings } from './base-cam.ts';
import { targetScore } from '../../infer/scheduler.ts';
import { resizeMap } from '../../image/upsample.ts';
import { minMaxNormalise, topK } from '../../util/math.ts';
import { applyPixelMask, checkBaselineKind, makeModelBaseline, type BaselineKind } from '../perturb/masking.ts';
import { evaluateChunked } from '../perturb/chunked-eval.ts';
import { intSetting } from '../check-settings.ts';
import { SaliencyError } from '../../types.ts';

export type ScoreCamSettings = CamSettings & { topK: number; baseline: BaselineKind };

export class ScoreCam extends BaseCam {
  readonly name = 'scorecam';
  readonly description = 'Score-CAM (channel maps as masks, weighted by the softmax of the masked scores)';

  override settings(partial: Partial<ScoreCamSettings>): ScoreCamSettings {
    const baseline = checkBaselineKind(partial.baseline ?? 'zero', 'scorecam: baseline');
    if (baseline === 'segment-mean') throw new SaliencyError('scorecam: the segment-mean baseline needs superpixels; use zero, mean, black, gray or blur', 'BAD_SETTING');
    return { ...super.settings(partial), topK: intSetting('scorecam', 'topK', partial.topK, 256, 1), baseline };
  }

  protected async channelWeights(x: CamInputs): Promise<Float64Array> {
    const { features, channels, plane, height, width, pooled, image, ctx, target, report } = x;
    const settings = x.settings as ScoreCamSettings;
    const input = image.input;
    const baseline = makeModelBaseline(input, settings.baseline, ctx.model);
    const chosen = topK(pooled, Math.min(channels, settings.topK)).filter((k) => {
      const a = features.subarray(k * plane, (k + 1) * plane);
      return a.some((v) => v !== a[0]);
    });
    const scores = new Float64Array(chosen.length);
    const fresh = await evaluateChunked(x.model, {
      total: chosen.length,
      signal: ctx.signal,
      build: (start, end) => ({
        keep: null,
        inputs: chosen.slice(start, end).map((k) => {
          const up = resizeMap({ width, height, data: features.subarray(k * plane, (k + 1) * plane) }, input.width, input.height);
          return applyPixelMask(input, baseline, minMaxNormalise(up.data));
        }),
      }),
      consume: (start, rows) => {
        for (let i = 0; i < rows.n; i++) scores[start + i] = targetScore(rows, i, target);
        ctx.onProgress?.({ fraction: (start + rows.n) / Math.max(1, chosen.length), note: `${start + rows.n}/${chosen.length} channels scored` });
      },
    });
    // Softmax over the scored channels.
    const alpha = new Float64Array(channels);
    let max = -Infinity;
    for (const s of scores) max = Math.max(max, s);
    let sum = 0;
    for (let i = 0; i < chosen.length; i++) sum += Math.exp(scores[i] - max);
    chosen.forEach((k, i) => { alpha[k] = Math.exp(scores[i] - max) / sum; });
    report.evaluations += chosen.length;
    report.extras = { channelsScored: chosen.length, channelsConstant: Math.min(channels, settings.topK) - chosen.length, baseline: settings.baseline, freshEvaluations: 1 + fresh };
    return alpha;
  }
}
