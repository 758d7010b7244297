// SmoothGrad (Smilkov et al. 2017) as Captum's NoiseTunnel over Saliency (absolute gradients): the mean over
// `samples` noisy copies x + N(0, sigma^2) of |d score / d input| ('smoothgrad'), of its square ('smoothgrad_sq'),
// or its variance ('vargrad', Adebayo et al. 2018). sigma = noise * 255 in pixel units, i.e. noise as a fraction of
// the input range, as the paper recommends (10-20%; default 0.15); Captum's stdevs is in the units of the
// normalised tensor instead (default 1.0). Default 50 samples as the paper (Captum's nt_samples default is 5).
// The noisy inputs are not clipped (as Captum). Progressive: a partial map after each batch.
import type { Explainer, Explanation, ExplainContext, PreparedImage } from '../types.ts';
import type { Target } from '../../types.ts';
import { SaliencyError } from '../../types.ts';
import { checkTarget } from '../cam/base-cam.ts';
import { intSetting, numberSetting } from '../check-settings.ts';
import { Random } from '../../util/random.ts';
import { inputGradients, reduceChannels, reduceSetting, type ChannelReduce } from './input-gradients.ts';

export const SMOOTHGRAD_TYPES = ['smoothgrad', 'smoothgrad_sq', 'vargrad'] as const;
export type SmoothGradType = typeof SMOOTHGRAD_TYPES[number];
export type SmoothGradSettings = { samples: number; noise: number; type: SmoothGradType; channels: ChannelReduce } & Record<string, unknown>;

export class SmoothGrad implements Explainer<SmoothGradSettings> {
  readonly name = 'smoothgrad';
  readonly description = 'SmoothGrad (absolute gradients averaged over noisy copies; also squared and VarGrad)';

  settings(partial: Partial<SmoothGradSettings>): SmoothGradSettings {
    const type = partial.type ?? 'smoothgrad';
    if (!SMOOTHGRAD_TYPES.includes(type as SmoothGradType)) throw new SaliencyError(`smoothgrad: type must be one of ${SMOOTHGRAD_TYPES.join(', ')} (got ${JSON.stringify(type)})`, 'BAD_SETTING');
    return {
      samples: intSetting(this.name, 'samples', partial.samples, 50, 1, 10000),
      noise: numberSetting(this.name, 'noise', partial.noise, 0.15, 0, 10),
      type: type as SmoothGradType,
      channels: reduceSetting(this.name, partial.channels, 'max-abs'),
    };
  }

  async explain(image: PreparedImage, target: Target, settings: SmoothGradSettings, seed: number, ctx: ExplainContext): Promise<Explanation> {
    const t0 = performance.now();
    checkTarget(ctx.model, target);
    const rng = new Random(seed);
    const sigma = settings.noise * 255;
    const x = image.input;
    const noisy = Array.from({ length: settings.samples }, () => ({ ...x, data: Float32Array.from(x.data, (v) => v + sigma * rng.normal()) }));
    let sum: Float64Array | undefined;
    let sumSq: Float64Array | undefined;
    let n = 0;
    const value = (i: number) => {
      const mean = sum![i] / n;
      if (settings.type === 'smoothgrad') return mean;
      const meanSq = sumSq![i] / n;
      return settings.type === 'smoothgrad_sq' ? meanSq : meanSq - mean * mean;
    };
    await inputGradients(ctx.model, noisy, target, ctx, (_, results) => {
      for (const r of results) {
        const g = r.grads.input;
        sum ??= new Float64Array(g.length);
        sumSq ??= new Float64Array(g.length);
        for (let i = 0; i < g.length; i++) { const a = Math.abs(g[i]); sum[i] += a; sumSq[i] += a * a; }
        n++;
      }
      return reduceChannels(ctx.model, Float64Array.from(sum!, (_, i) => value(i)), settings.channels);
    }, 'noisy samples');
    const attr = Float64Array.from(sum!, (_, i) => value(i));
    return {
      method: this.name, target, map: reduceChannels(ctx.model, attr, settings.channels), evaluations: settings.samples, settings, seed,
      extras: { sigma, backward: true }, millis: performance.now() - t0,
    };
  }
}
