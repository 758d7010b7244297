// The CAM pipeline shared by Grad-CAM and its closed-form relatives (as pytorch-grad-cam's BaseCAM):
// one forward pass with the feature block -> per-channel weights -> weighted sum -> ReLU -> upsample.
// Each method only says how it computes the channel weights.
import type { Explainer, Explanation, ExplainContext, PreparedImage } from '../types.ts';
import type { Map2D, Target, TensorData } from '../../types.ts';
import { SaliencyError } from '../../types.ts';
import type { Classifier } from '../../model/classifier.ts';
import { resizeMap } from '../../image/upsample.ts';

export interface CamInputs {
  model: Classifier;
  /** Feature block of this image, [C, h*w] flattened (NCHW, batch index 0). */
  features: Float32Array;
  channels: number;
  plane: number;
  /** Feature grid size (plane = height * width). */
  height: number;
  width: number;
  /** Pooled features (GAP), length C. */
  pooled: Float64Array;
  logits: Float32Array;
  probabilities: Float32Array;
  target: Target;
  /** For methods that also score perturbed inputs (Score-CAM): the image, settings and context. */
  image: PreparedImage;
  settings: CamSettings;
  ctx: ExplainContext;
  /** Such methods add their extra model evaluations and method-specific extras here. */
  report: { evaluations: number; extras: Record<string, unknown> };
  /** Gradient CAMs: d score / d features, [C, h*w] like `features`. */
  gradients?: Float32Array;
}

/** What the pipeline reads for one image: a feature block (NCHW, batch 1), the scores, maybe the block's gradient. */
export interface CamActivations {
  features: TensorData;
  logits: Float32Array;
  probabilities: Float32Array;
  gradients?: Float32Array;
  /** The tensor the block was read from, when not the head's block. */
  layer?: string;
}

export type CamSettings = { relu: boolean } & Record<string, unknown>;

export abstract class BaseCam implements Explainer<CamSettings> {
  abstract readonly name: string;
  abstract readonly description: string;

  /** The per-channel weights for the target class (length C), or per-position weights (length C*h*w, LayerCAM). */
  protected abstract channelWeights(x: CamInputs): Float64Array | Promise<Float64Array>;

  /** The head's feature block from one forward pass; gradient CAMs read another layer and its gradient. */
  protected async activations(image: PreparedImage, _target: Target, _settings: CamSettings, ctx: ExplainContext): Promise<CamActivations> {
    const out = await ctx.model.predict([image.input], { features: true });
    return { features: out.features as TensorData, logits: out.logits, probabilities: out.probabilities };
  }

  settings(partial: Partial<CamSettings>): CamSettings {
    return { relu: partial.relu ?? true };
  }

  async explain(image: PreparedImage, target: Target, settings: CamSettings, seed: number, ctx: ExplainContext): Promise<Explanation> {
    const t0 = performance.now();
    const model = ctx.model;
    checkTarget(model, target);
    const out = await this.activations(image, target, settings, ctx);
    const f = out.features;
    const [, C, h, w] = f.dims;
    const plane = h * w;
    const pooled = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let p = 0; p < plane; p++) s += f.data[c * plane + p];
      pooled[c] = s / plane;
    }
    const report = { evaluations: 1, extras: {} as Record<string, unknown> };
    const alphas = await this.channelWeights({
      model, features: f.data, channels: C, plane, height: h, width: w, pooled, logits: out.logits, probabilities: out.probabilities, target,
      image, settings, ctx, report, gradients: out.gradients,
    });
    const cam = new Float32Array(plane);
    const perPosition = alphas.length === C * plane;
    for (let c = 0; c < C; c++) {
      if (!perPosition && alphas[c] === 0) continue;
      for (let p = 0; p < plane; p++) cam[p] += (perPosition ? alphas[c * plane + p] : alphas[c]) * f.data[c * plane + p];
    }
    if (settings.relu) for (let p = 0; p < plane; p++) cam[p] = Math.max(0, cam[p]);
    const native: Map2D = { width: w, height: h, data: cam };
    const map = resizeMap(native, image.input.width, image.input.height);
    ctx.onProgress?.({ fraction: 1 });
    return {
      method: this.name, target, map, native, evaluations: report.evaluations, settings, seed,
      extras: {
        grid: [h, w], channels: C, logit: out.logits[target.classIndex], probability: out.probabilities[target.classIndex],
        ...(out.layer ? { layer: out.layer } : {}), ...report.extras,
      },
      millis: performance.now() - t0,
    };
  }
}

export function checkTarget(model: Classifier, target: Target): void {
  const k = model.info.numClasses;
  if (!Number.isInteger(target.classIndex) || target.classIndex < 0 || target.classIndex >= k) {
    throw new SaliencyError(`target class ${target.classIndex} is out of range: the model has classes 0..${k - 1}`, 'BAD_SETTING');
  }
  if (target.score !== 'logit' && target.score !== 'probability') {
    throw new SaliencyError(`target score "${String(target.score)}" must be "logit" or "probability"`, 'BAD_SETTING');
  }
}

/** Row c of the head's weight matrix. */
export function headRow(model: Classifier, c: number): Float32Array {
  const head = model.head!.head;
  return head.weights.subarray(c * head.channels, (c + 1) * head.channels);
}
