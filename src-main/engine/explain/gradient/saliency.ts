// Saliency (Simonyan et al. 2014; Captum's Saliency with abs=True): the absolute gradient of the target score
// with respect to the input, reduced over channels by the maximum (as the paper does).
import type { Explainer, Explanation, ExplainContext, PreparedImage } from '../types.ts';
import type { Target } from '../../types.ts';
import { checkTarget } from '../cam/base-cam.ts';
import { inputGradients, reduceChannels, reduceSetting, type ChannelReduce } from './input-gradients.ts';

export type SaliencySettings = { channels: ChannelReduce } & Record<string, unknown>;

export class Saliency implements Explainer<SaliencySettings> {
  readonly name = 'saliency';
  readonly description = 'Saliency (vanilla gradient: |d score / d input|, max over channels; one backward pass)';

  settings(partial: Partial<SaliencySettings>): SaliencySettings {
    return { channels: reduceSetting(this.name, partial.channels, 'max-abs') };
  }

  async explain(image: PreparedImage, target: Target, settings: SaliencySettings, seed: number, ctx: ExplainContext): Promise<Explanation> {
    const t0 = performance.now();
    checkTarget(ctx.model, target);
    let grad: Float32Array | undefined;
    let logit = 0;
    await inputGradients(ctx.model, [image.input], target, ctx, (_, [r]) => { grad = r.grads.input; logit = r.logits[target.classIndex]; });
    const map = reduceChannels(ctx.model, grad!, settings.channels);
    return { method: this.name, target, map, evaluations: 1, settings, seed, extras: { logit, backward: true }, millis: performance.now() - t0 };
  }
}
