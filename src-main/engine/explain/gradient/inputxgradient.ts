// Input x Gradient (Shrikumar et al. 2016; Captum's InputXGradient): input * d score / d input, on the model
// input tensor, summed over channels (signed).
import type { Explainer, Explanation, ExplainContext, PreparedImage } from '../types.ts';
import type { Target } from '../../types.ts';
import { checkTarget } from '../cam/base-cam.ts';
import { inputGradients, modelInput, reduceChannels, reduceSetting, type ChannelReduce } from './input-gradients.ts';

export type InputXGradientSettings = { channels: ChannelReduce } & Record<string, unknown>;

export class InputXGradient implements Explainer<InputXGradientSettings> {
  readonly name = 'inputxgradient';
  readonly description = 'Input x Gradient (input times its gradient, summed over channels; one backward pass)';

  settings(partial: Partial<InputXGradientSettings>): InputXGradientSettings {
    return { channels: reduceSetting(this.name, partial.channels, 'sum') };
  }

  async explain(image: PreparedImage, target: Target, settings: InputXGradientSettings, seed: number, ctx: ExplainContext): Promise<Explanation> {
    const t0 = performance.now();
    checkTarget(ctx.model, target);
    const x = modelInput(ctx.model, image.input);
    let attr: Float32Array | undefined;
    await inputGradients(ctx.model, [image.input], target, ctx, (_, [r]) => { attr = r.grads.input.map((g, i) => g * x[i]); });
    const map = reduceChannels(ctx.model, attr!, settings.channels);
    return { method: this.name, target, map, evaluations: 1, settings, seed, extras: { backward: true }, millis: performance.now() - t0 };
  }
}
