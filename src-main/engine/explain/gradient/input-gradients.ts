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

/** What `consume` may return: nothing, the partial map to show, or that map with a note and whether to stop. */
export type ConsumeResult = Map2D | void | { partial: Map2D; note?: string; stop: boolean };

/** The images to differentiate: a list, or `total` images made in order chunk by chunk (noise drawn lazily). */
export type GradientInputs = PlanarImage[] | { total: number; take: (start: number, end: number) => PlanarImage[] };

/**
 * Input gradients of the target score for `inputs`, handed to `consume` chunk by chunk (so callers accumulate
 * without holding every gradient); progress (with the partial map `consume` may return) and cancellation
 * between chunks; `consume` may stop early (anytime budgets). Returns how many images were differentiated.
 */
export async function inputGradients(
  model: Classifier, inputs: GradientInputs, target: Target, ctx: ExplainContext,
  consume: (start: number, results: GradientResult[]) => ConsumeResult, note = 'gradients',
): Promise<number> {
  const sched = await GradientScheduler.for(model, [INPUT]);
  const chunk = Math.max(1, sched.batchSize);
  const total = Array.isArray(inputs) ? inputs.length : inputs.total;
  const take = Array.isArray(inputs) ? (a: number, b: number) => inputs.slice(a, b) : inputs.take;
  for (let start = 0; start < total; start += chunk) {
    const done = Math.min(total, start + chunk);
    const results = await sched.evaluate(take(start, done).map((image) => ({ image, target })), { signal: ctx.signal });
    const r = consume(start, results);
    const withStop = r && 'stop' in r ? r : null;
    const partial = withStop ? withStop.partial : (r as Map2D | void) ?? undefined;
    ctx.onProgress?.({ fraction: done / total, partial, note: `${done}/${total} ${note}${withStop?.note ? `; ${withStop.note}` : ''}` });
    if (withStop?.stop) return done;
  }
  return total;
}
