// Score-CAM (Wang et al. 2020) as pytorch-grad-cam's ScoreCAM (score_cam.py) computes it:
// - every channel's activation map is upsampled to the input bilinearly with align_corners=True (torch's
//   UpsamplingBilinear2d) and min-max normalised, (A - min) / (max - min + 1e-8);
// - it multiplies the normalised input tensor; here input * m + zero-input * (1 - m) with the model's zero
//   input (the 'zero' baseline, the same image in pixel space);
// - ALL channels are scored, in batches (the shared scheduler's); constant channels (e.g. all zero after ReLU)
//   get an all-zero mask, i.e. the baseline image, which the scheduler's cache scores once;
// - the channel weights are the softmax over channels of the target's score on those inputs. The reference's
//   target (ClassifierOutputTarget) is the logit, and the protocol explains the CAM family on the logit. Asked
//   for the probability, the scores are probabilities (pytorch-grad-cam's ClassifierOutputSoftmaxTarget): values
//   in [0,1] whose softmax is nearly uniform, so the map approaches the plain sum of the channels.
// map = ReLU(sum_k w_k A_k) on the feature grid (BaseCam). Until issue 14 only the top 256 channels by mean
// activation were scored and the probability was the default score; `topK` > 0 still restricts the scoring to
// the top-k channels (a speed option, a deviation from the reference; 0 = all, the default).
import { BaseCam, type CamInputs, type CamSettings } from './base-cam.ts';
import { targetScore } from '../../infer/scheduler.ts';
import { topK } from '../../util/math.ts';
import { applyPixelMask, checkBaselineKind, makeModelBaseline, type BaselineKind } from '../perturb/masking.ts';
import { evaluateChunked } from '../perturb/chunked-eval.ts';
import { intSetting } from '../check-settings.ts';
import { SaliencyError } from '../../types.ts';

export type ScoreCamSettings = CamSettings & { topK: number; baseline: BaselineKind };

/** Bilinear upsampling with align_corners=True (corner pixels map onto corner pixels), as torch's UpsamplingBilinear2d. */
export function upsampleAlignCorners(src: Float32Array, w: number, h: number, W: number, H: number): Float32Array {
  const out = new Float32Array(W * H);
  const sx = W > 1 ? (w - 1) / (W - 1) : 0;
  const sy = H > 1 ? (h - 1) / (H - 1) : 0;
  for (let Y = 0; Y < H; Y++) {
    const fy = Y * sy;
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const wy = fy - y0;
    for (let X = 0; X < W; X++) {
      const fx = X * sx;
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const wx = fx - x0;
      const a = src[y0 * w + x0] * (1 - wx) + src[y0 * w + x1] * wx;
      const b = src[y1 * w + x0] * (1 - wx) + src[y1 * w + x1] * wx;
      out[Y * W + X] = a * (1 - wy) + b * wy;
    }
  }
  return out;
}

/** pytorch-grad-cam's mask normalisation: (a - min) / (max - min + 1e-8); a constant map becomes all zero. */
function scoreCamMask(a: Float32Array): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of a) { if (v < lo) lo = v; if (v > hi) hi = v; }
  const d = hi - lo + 1e-8;
  return a.map((v) => (v - lo) / d);
}

export class ScoreCam extends BaseCam {
  readonly name = 'scorecam';
  readonly description = 'Score-CAM (every channel map as a mask, weighted by the softmax over channels of the masked target scores)';

  override settings(partial: Partial<ScoreCamSettings>): ScoreCamSettings {
    const baseline = checkBaselineKind(partial.baseline ?? 'zero', 'scorecam: baseline');
    if (baseline === 'segment-mean') throw new SaliencyError('scorecam: the segment-mean baseline needs superpixels; use zero, mean, black, gray or blur', 'BAD_SETTING');
    return { ...super.settings(partial), topK: intSetting('scorecam', 'topK', partial.topK, 0, 0), baseline };
  }

  protected async channelWeights(x: CamInputs): Promise<Float64Array> {
    const { features, channels, plane, height, width, pooled, image, ctx, target, report } = x;
    const settings = x.settings as ScoreCamSettings;
    const input = image.input;
    const baseline = makeModelBaseline(input, settings.baseline, ctx.model);
    const chosen = settings.topK > 0 && settings.topK < channels
      ? topK(pooled, settings.topK)
      : Array.from({ length: channels }, (_, k) => k);
    const scores = new Float64Array(chosen.length);
    const fresh = await evaluateChunked(x.model, {
      total: chosen.length,
      signal: ctx.signal,
      build: (start, end) => ({
        keep: null,
        inputs: chosen.slice(start, end).map((k) => {
          const up = upsampleAlignCorners(features.subarray(k * plane, (k + 1) * plane), width, height, input.width, input.height);
          return applyPixelMask(input, baseline, scoreCamMask(up));
        }),
      }),
      consume: (start, rows) => {
        for (let i = 0; i < rows.n; i++) scores[start + i] = targetScore(rows, i, target);
        ctx.onProgress?.({ fraction: (start + rows.n) / Math.max(1, chosen.length), note: `${start + rows.n}/${chosen.length} channels scored` });
      },
    });
    // Softmax over the scored channels (torch.nn.Softmax(dim=-1) on the scores).
    const alpha = new Float64Array(channels);
    let max = -Infinity;
    for (const s of scores) max = Math.max(max, s);
    let sum = 0;
    for (let i = 0; i < chosen.length; i++) sum += Math.exp(scores[i] - max);
    chosen.forEach((k, i) => { alpha[k] = Math.exp(scores[i] - max) / sum; });
    report.evaluations += chosen.length;
    let constant = 0;
    for (const k of chosen) {
      const a = features.subarray(k * plane, (k + 1) * plane);
      if (a.every((v) => v === a[0])) constant++;
    }
    report.extras = { channelsScored: chosen.length, channelsConstant: constant, baseline: settings.baseline, score: target.score, freshEvaluations: 1 + fresh };
    return alpha;
  }
}
