// What the input-gradient methods share: gradients of the target score with respect to the model input for
// many images (through the gradient scheduler, in chunks for progress and cancellation), and the reduction of a
// per-channel attribution on the model input to one map (Captum attributes per input element; maps sum or max
// over channels, as its visualisation and the papers do).
// Attributions are with respect to the model input tensor (after normalisation), as Captum does when given the
// normalised tensor. Integrated-gradient attributions are the same in pixel space (normalisation is affine per channel).
import type { Classifier } from '../../model/classifier.ts';
import type { Map2D, PlanarImage, Target } from '../../types.ts';
import { SaliencyError } from '../../types.ts';
import type { ExplainContext } from '../types.ts';
import { toModelTensor } from '../../model/presets.ts';
import { GradientScheduler, INPUT, type GradientResult } from '../../model/autodiff/gradient-scheduler.ts';

export type ChannelReduce = 'sum' | 'abs-sum' | 'max-abs';
export const CHANNEL_REDUCES: ChannelReduce[] = ['sum', 'abs-sum', 'max-abs'];

export function reduceSetting(method: string, value: unknown, fallback: ChannelReduce): ChannelReduce {
  const v = value ?? fallback;
  if (!CHANNEL_REDUCES.includes(v as ChannelReduce)) throw new SaliencyError(`${method}: channels must be one of ${CHANNEL_REDUCES.join(', ')} (got ${JSON.stringify(v)})`, 'BAD_SETTING');
  return v as ChannelReduce;
}

/** The model input tensor of one image (float32, the model's layout). */
export function modelInput(model: Classifier, image: PlanarImage): Float32Array {
  const { preset, input } = model.info;
  return toModelTensor([image], preset, input.layout, input.channels);
}

/** One map on the model-input grid from an attribution laid out like the model input. */
export function reduceChannels(model: Classifier, attr: ArrayLike<number>, mode: ChannelReduce): Map2D {
  const { width, height, channels, layout } = model.info.input;
  const plane = width * height;
  const out = new Float32Array(plane);
  for (let p = 0; p < plane; p++) {
    let acc = 0;
    for (let c = 0; c < channels; c++) {
      const v = attr[layout === 'NCHW' ? c * plane + p : p * channels + c];
      if (mode === 'sum') acc += v;
      else if (mode === 'abs-sum') acc += Math.abs(v);
      else acc = Math.max(acc, Math.abs(v));
    }
    out[p] = acc;
  }
  return { width, height, data: out };
}

/**
 * Input gradients of the target score for `images`, handed to `consume` chunk by chunk (so callers accumulate
 * without holding every gradient); progress (with the partial map `consume` may return) and cancellation
 * between chunks.
 */
export async function inputGradients(
  model: Classifier, images: PlanarImage[], target: Target, ctx: ExplainContext,
  consume: (start: number, results: GradientResult[]) => Map2D | void, note = 'gradients',
): Promise<void> {
  const sched = await GradientScheduler.for(model, [INPUT]);
  const chunk = Math.max(1, sched.batchSize);
  for (let start = 0; start < images.length; start += chunk) {
    const results = await sched.evaluate(images.slice(start, start + chunk).map((image) => ({ image, target })), { signal: ctx.signal });
    const partial = consume(start, results) ?? undefined;
    const done = Math.min(images.length, start + chunk);
    ctx.onProgress?.({ fraction: done / images.length, partial, note: `${done}/${images.length} ${note}` });
  }
}
