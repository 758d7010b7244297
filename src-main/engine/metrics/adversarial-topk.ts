// Adversarial fragility under the targeted top-k attack (Ghorbani et al. 2019, "Interpretation of neural networks
// is fragile", attack (b) of issue 17): a label-preserving L-inf attack that moves the CAM's mass away from its
// original top-k% region. Objective (Ghorbani's top-k attack): D(x) = sum over the original top-k cells T of M(x) /
// sum of M(x), with M = ReLU(sum_k w_k A_k) the Grad-CAM of the target at the layer (the explainer's `layer`
// setting, else the block before the global average pooling); `steps` sign-gradient steps on -dD/dx from the
// unperturbed image (Ghorbani's iterative attack, no random start), projected to the ball, each 2.5 epsilon / steps
// as the margin attack's (same budget and schedule, so the two attacks compare paired); of the iterates that keep the top-1 class, the one with the least top-k mass is kept (Ghorbani keeps the
// most dissimilar label-preserving iterate).
// Gradient: "first-order through the feature block": dD/dx = (dD/dA) (dA/dx), with the channel weights w_k held
// fixed. On a ReLU network w depends on x only through the ReLU/MaxPool masks after the layer, which are piecewise
// constant, so the dropped term is zero almost everywhere (exactly zero for GAP -> linear heads). Ghorbani replace
// ReLU by softplus where its derivative is uninformative; here that is the CAM's own ReLU: cells at or below zero
// get no gradient through it, so when all the mass already lies in the top-k region (a peaked CAM) the ReLU'd
// objective's gradient is exactly zero. The step direction therefore uses the softplus surrogate
// M~ = softplus(beta z) / beta with beta = 10 / max|z| of the original image (fixed a priori, not tuned), while
// the kept iterate is chosen by the true ReLU'd mass. dA/dx is a vector-Jacobian product through the compiled
// backward graph with the layer as its output. Then the explainer re-runs on the attacked image and its map is compared with the
// original as in adversarial-fragility (Spearman; top-k intersection).
import { SaliencyError } from '../types.ts';
import type { PlanarImage, Target } from '../types.ts';
import { defineMetric } from './define.ts';
import { ATTACK_METRIC, linfBall, signStep, similarityAfterAttack, type AdversarialFragilitySettings } from './adversarial-fragility.ts';
import { argmax } from '../util/math.ts';
import { GradientScheduler, INPUT, gradientGraph } from '../model/autodiff/gradient-scheduler.ts';
import { resolveLayer } from '../model/autodiff/layers.ts';
import { modelInput } from '../explain/gradient/input-gradients.ts';
import type { Classifier } from '../model/classifier.ts';

export const adversarialTopK = defineMetric<AdversarialFragilitySettings>({
  name: 'adversarial-topk',
  description: 'Adversarial fragility under the targeted top-k attack (Ghorbani et al.): Spearman correlation between the map and the map after a label-preserving L-inf attack that moves the Grad-CAM mass out of its original top-k region (epsilon of 255). Higher is more robust.',
  ...ATTACK_METRIC,
  async run(input, map, s, seed) {
    const layer = typeof input.explainer?.settings.layer === 'string' ? input.explainer.settings.layer : 'auto';
    const attack = await attackTopK(input.model!, input.image.input, input.target, layer, s, input.signal);
    return similarityAfterAttack(input, map, attack.image, s.topK, seed, `adversarial-topk-${seed}`, {
      massBefore: attack.massBefore, massAfter: attack.massAfter, stepsKept: attack.steps, epsilon: s.epsilon, layer: attack.layer,
    });
  },
});

/** Grad-CAM on the layer's grid (ReLU'd) and the pre-ReLU sums, from activations [C, plane] and weights. */
function camOf(values: Float32Array, weights: Float64Array, plane: number): Float64Array {
  const z = new Float64Array(plane);
  for (let k = 0; k < weights.length; k++) for (let p = 0; p < plane; p++) z[p] += weights[k] * values[k * plane + p];
  return z;
}

/** The CAM's mass inside `region` and in total, with ReLU (beta = Infinity) or the softplus surrogate. */
function massIn(z: Float64Array, region: Uint8Array, beta = Infinity): { inside: number; total: number } {
  let inside = 0, total = 0;
  for (let p = 0; p < z.length; p++) {
    const m = beta === Infinity ? Math.max(0, z[p]) : softplus(beta * z[p]) / beta;
    total += m;
    if (region[p]) inside += m;
  }
  return { inside, total };
}

const softplus = (v: number) => (v > 30 ? v : Math.log1p(Math.exp(v)));
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** The targeted top-k attack; returns the kept iterate and the CAM's top-k mass share before and after. */
export async function attackTopK(
  model: Classifier, image: PlanarImage, target: Target, layerSpec: string, s: { epsilon: number; steps: number; topK: number }, signal?: AbortSignal,
): Promise<{ image: PlanarImage; massBefore: number; massAfter: number; steps: number; layer: string }> {
  const layer = resolveLayer(model, layerSpec, 'adversarial-topk: layer');
  const sched = await GradientScheduler.for(model, [layer]);
  const dims = sched.dims(layer);
  if (dims.length !== 3) throw new SaliencyError(`adversarial-topk: layer "${layer}" has shape [${dims.join(',')}], not a [channels, height, width] feature block`, 'BAD_SETTING');
  const [C, h, w] = dims;
  const plane = h * w;
  const { lo, hi } = linfBall(image, s.epsilon);
  const step = (2.5 * s.epsilon) / s.steps;
  let x = image;
  let region: Uint8Array | undefined;
  let beta = Infinity;
  let label = -1;
  let kept = image;
  let massBefore = NaN;
  let massAfter = NaN;
  let steps = 0;
  for (let t = 0; t <= s.steps; t++) {
    if (signal?.aborted) throw new SaliencyError('cancelled', 'CANCELLED');
    const [r] = await sched.evaluate([{ image: x, target }], { signal });
    const A = r.values[layer];
    const g = r.grads[layer];
    const weights = new Float64Array(C);
    for (let k = 0; k < C; k++) {
      let sum = 0;
      for (let p = 0; p < plane; p++) sum += g[k * plane + p];
      weights[k] = sum / plane;
    }
    const z = camOf(A, weights, plane);
    if (!region) {
      label = argmax(r.logits);
      const count = Math.max(1, Math.round(s.topK * plane));
      const order = Array.from(z.keys()).sort((a, b) => z[b] - z[a] || a - b);
      region = new Uint8Array(plane);
      for (const p of order.slice(0, count)) region[p] = 1;
      const peak = z.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      beta = peak > 0 ? 10 / peak : Infinity;
    }
    const { inside, total } = massIn(z, region);
    const mass = total > 0 ? inside / total : 0;
    if (t === 0) massBefore = mass;
    if (argmax(r.logits) === label && (t === 0 || mass < massAfter)) { kept = x; massAfter = mass; steps = t; }
    if (t === s.steps || beta === Infinity) break;
    // With the surrogate mass m_p = softplus(beta z_p) / beta: dD/dA_k(p) = w_k sigmoid(beta z_p) (1[p in T] S - S_T) / S^2.
    const soft = massIn(z, region, beta);
    const cot = new Float32Array(C * plane);
    for (let p = 0; p < plane; p++) {
      const dp = (sigmoid(beta * z[p]) * ((region[p] ? soft.total : 0) - soft.inside)) / (soft.total * soft.total);
      for (let k = 0; k < C; k++) cot[k * plane + p] = weights[k] * dp;
    }
    // Asked for each step: the cache may release a graph between steps (an LRU of compiled graphs).
    const run = await (await gradientGraph(model, [INPUT], layer)).run(modelInput(model, x), 1, cot, new Float32Array(C * plane));
    x = signStep(model, x, run.grads[model.info.input.name], -step, lo, hi);
  }
  return { image: kept, massBefore, massAfter, steps, layer };
}
