// Whole-model gradient check: the compiled gradient (ONNX Runtime, float32) of the target score against central
// finite differences along random directions, evaluated by the float64 reference evaluator, for the model input
// and for intermediate tensors (the rest of the network evaluated from the perturbed tensor).
// Steps are tiny (1e-8 of the tensor's RMS per coordinate by default): in float64 they resolve the difference
// while crossing almost no ReLU or max-pool kink, which float32 forward passes cannot do on real CNNs.
import { readFileSync } from 'node:fs';
import type { Classifier } from '../classifier.ts';
import type { PlanarImage, Target } from '../../types.ts';
import { decodeModel } from '../onnx-graph.ts';
import { toModelTensor } from '../presets.ts';
import { Random } from '../../util/random.ts';
import { GradientScheduler, INPUT } from './gradient-scheduler.ts';
import { relativeError } from './finite-diff.ts';
import { evaluateF64 } from './reference-f64.ts';

export interface TensorCheck {
  tensor: string;
  /** max |analytic - numeric| / max |numeric| over the directions. */
  relError: number;
  directions: number;
  /** Per-coordinate RMS step. */
  step: number;
  analytic: number[];
  numeric: number[];
}

export interface GradcheckResult {
  checks: TensorCheck[];
  /** |score(float64 reference) - score(ONNX Runtime)| / |score| (NaN when the input is not checked). */
  forwardRelDiff: number;
}

export interface GradcheckOptions { tensors: string[]; target: Target; directions?: number; seed?: number; relStep?: number; jitter?: number }

function scoreOf(logits: ArrayLike<number>, t: Target): number {
  if (t.score === 'logit') return logits[t.classIndex];
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  let z = 0;
  for (let i = 0; i < logits.length; i++) z += Math.exp(logits[i] - max);
  return Math.exp(logits[t.classIndex] - max) / z;
}

/**
 * Checks at the image plus a small seeded jitter (`jitter` pixel units, default 0.05): constant regions (an MNIST
 * background, flat sky) make exact ties in max-pool windows, where the gradient is one valid choice among several
 * and finite differences measure none of them.
 */
export async function gradcheck(model: Classifier, image0: PlanarImage, opts: GradcheckOptions): Promise<GradcheckResult> {
  const directions = opts.directions ?? 3;
  const jitterRng = new Random((opts.seed ?? 1) * 7919);
  const image = { ...image0, data: image0.data.map((v) => v + (opts.jitter ?? 0.05) * (2 * jitterRng.next() - 1)) };
  const sched = await GradientScheduler.for(model, opts.tensors);
  const [res] = await sched.evaluate([{ image, target: opts.target }]);
  const { info } = model;
  const graph = decodeModel(readFileSync(info.path!), info.name);
  const f = (tensor: string, data: Float64Array) => scoreOf(evaluateF64(graph, { [tensor]: { data, dims: [1, ...sched.dims(tensor)] } }, info.logitsTensor).data, opts.target);
  const inputBase = Float64Array.from(toModelTensor([image], info.preset, info.input.layout, info.input.channels));
  // The whole forward pass in float64 only when the input is checked anyway (it is the expensive part).
  const forwardRelDiff = opts.tensors.includes(INPUT)
    ? Math.abs(f(info.input.name, inputBase) - scoreOf(res.logits, opts.target)) / Math.max(1e-12, Math.abs(scoreOf(res.logits, opts.target)))
    : NaN;
  const checks: TensorCheck[] = [];
  for (const tensor of opts.tensors) {
    const rng = new Random((opts.seed ?? 1) + checks.length);
    const name = tensor === INPUT ? info.input.name : tensor;
    const base = tensor === INPUT ? inputBase : Float64Array.from(res.values[tensor]);
    const grad = res.grads[tensor];
    let rms = 0;
    for (const v of base) rms += v * v;
    rms = Math.sqrt(rms / base.length) || 1;
    const step = (opts.relStep ?? 1e-8) * rms;
    const analytic: number[] = [];
    const numeric: number[] = [];
    for (let d = 0; d < directions; d++) {
      const v = Float64Array.from(base, () => rng.normal());
      const plus = base.map((x, i) => x + step * v[i]);
      const minus = base.map((x, i) => x - step * v[i]);
      let dot = 0;
      for (let i = 0; i < base.length; i++) dot += grad[i] * (plus[i] - minus[i]);
      analytic.push(dot);
      numeric.push(f(name, plus) - f(name, minus));
    }
    checks.push({ tensor, relError: relativeError(analytic, numeric), directions, step, analytic, numeric });
  }
  return { checks, forwardRelDiff };
}
