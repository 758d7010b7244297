// A layer's activations and the gradient of the target score with respect to them, from the compiled backward
// graph: what the gradient CAMs (Grad-CAM at any layer, Grad-CAM++, LayerCAM, XGrad-CAM) read.
import type { PreparedImage } from '../types.ts';
import type { Classifier } from '../../model/classifier.ts';
import type { Target } from '../../types.ts';
import { SaliencyError } from '../../types.ts';
import type { CamActivations } from '../cam/base-cam.ts';
import { GradientScheduler } from '../../model/autodiff/gradient-scheduler.ts';
import { resolveLayer } from '../../model/autodiff/layers.ts';

export async function layerActivations(model: Classifier, image: PreparedImage, target: Target, layerSpec: string, method: string, signal?: AbortSignal): Promise<CamActivations> {
  const layer = resolveLayer(model, layerSpec, `${method}: layer`);
  const sched = await GradientScheduler.for(model, [layer]);
  const dims = sched.dims(layer);
  if (dims.length !== 3) throw new SaliencyError(`${method}: layer "${layer}" has shape [${dims.join(',')}], not a [channels, height, width] feature block`, 'BAD_SETTING');
  const [r] = await sched.evaluate([{ image: image.input, target }], { signal });
  return { features: { data: r.values[layer], dims: [1, ...dims] }, logits: r.logits, probabilities: r.probabilities, gradients: r.grads[layer], layer };
}

export function layerSetting(method: string, value: unknown): string {
  const v = value ?? 'auto';
  if (typeof v !== 'string' || v.trim() === '') throw new SaliencyError(`${method}: layer must be a tensor name, a block name or "auto" (got ${JSON.stringify(v)})`, 'BAD_SETTING');
  return v.trim();
}
