// Adversarial fragility of an explanation (Ghorbani et al. 2019, attack (a)): a label-preserving PGD attack in
// L-inf (epsilon on the 0-255 scale, `steps` sign-gradient steps of 2.5 eps / steps from a seeded random start in
// the ball, Madry et al.) that lowers the prediction margin z_c - max_{j != c} z_j, keeping the last iterate whose
// top-1 class is unchanged; then the explainer re-runs on the attacked image (same settings and seed) and the map is
// compared with the original: Spearman rank correlation (the value; higher = more robust) and the top-k
// intersection (share of the original top-k% pixels still in the top-k%). Gradients come from the compiled
// backward graph, so the attack needs a float model. Attack (b), the targeted attack on the CAM's top-k mass, is
// adversarial-topk.ts; both share the L-inf ball and the sign step below.
import { SaliencyError } from '../types.ts';
import type { Map2D, PlanarImage } from '../types.ts';
import type { MetricInput, MetricValue } from './types.ts';
import { defineMetric, intSetting, numSetting } from './define.ts';
import { spearman, topKIoU } from './rank.ts';
import { Random } from '../util/random.ts';
import { argmax } from '../util/math.ts';
import { GradientScheduler, INPUT } from '../model/autodiff/gradient-scheduler.ts';
import type { Classifier } from '../model/classifier.ts';

export type AdversarialFragilitySettings = { epsilon: number; steps: number; topK: number };

/** What both attacks (margin and top-k) share: tags and settings (epsilon of 255, steps, top-k fraction). */
export const ATTACK_METRIC = {
  tags: { higherIsBetter: true, category: 'robustness', needs: { model: true, annotations: false, explainerReruns: true, referenceMap: false } },
  settings: (p: Partial<AdversarialFragilitySettings>): AdversarialFragilitySettings => ({
    epsilon: numSetting(p.epsilon, 2, 'epsilon', 0, 255), steps: intSetting(p.steps, 10, 'steps', 1, 1000), topK: numSetting(p.topK, 0.1, 'topK', 0, 1),
  }),
} as const;

export const adversarialFragility = defineMetric<AdversarialFragilitySettings>({
  name: 'adversarial-fragility',
  description: 'Adversarial fragility (Ghorbani et al.): Spearman correlation between the map and the map after a label-preserving L-inf PGD attack on the prediction margin (epsilon of 255). Higher is more robust.',
  ...ATTACK_METRIC,
  async run(input, map, s, seed) {
    const model = input.model!;
    const attack = await attackMargin(model, input.image.input, s, seed, input.signal);
    return similarityAfterAttack(input, map, attack.image, s.topK, seed, `adversarial-${seed}`, {
      marginBefore: attack.marginBefore, marginAfter: attack.marginAfter, stepsKept: attack.steps, epsilon: s.epsilon,
    });
  },
});

/**
 * The explainer re-run on the attacked image (same settings and seed) against the original map: Spearman (the
 * value) and the top-k intersection (share of the original top-k pixels still in the top k; from the IoU,
 * |A n B| / k = 2 IoU / (1 + IoU) for sets of equal size).
 */
export async function similarityAfterAttack(input: MetricInput, map: Map2D, attacked: PlanarImage, topK: number, seed: number, tag: string, extras: Record<string, unknown>): Promise<MetricValue> {
  const { explainer, settings, seed: explainerSeed } = input.explainer!;
  const e = await explainer.explain({ ...input.image, id: `${input.image.id}~${tag}`, input: attacked }, input.target, settings, explainerSeed, { model: input.model!, signal: input.signal });
  const iou = topKIoU(map, e.map, topK, seed);
  return { value: spearman(map, e.map), extras: { topKIntersection: (2 * iou) / (1 + iou), ...extras } };
}

/** The label-preserving PGD attack on the margin: the last iterate that keeps the top-1 class. */
export async function attackMargin(model: Classifier, image: PlanarImage, s: { epsilon: number; steps: number }, seed: number, signal?: AbortSignal): Promise<{ image: PlanarImage; marginBefore: number; marginAfter: number; steps: number; label: number }> {
  const sched = await GradientScheduler.for(model, [INPUT]);
  const K = model.info.numClasses;
  const x0 = image;
  const logits0 = (await model.predict([x0])).logits;
  const label = argmax(logits0);
  let second = label === 0 ? 1 : 0;
  for (let j = 0; j < K; j++) if (j !== label && logits0[j] > logits0[second]) second = j;
  const marginBefore = logits0[label] - logits0[second];
  const rng = Random.derive(seed, 'adversarial-fragility');
  const { lo, hi } = linfBall(x0, s.epsilon);
  let x: PlanarImage = { ...x0, data: x0.data.map((v, i) => Math.min(hi[i], Math.max(lo[i], v + s.epsilon * (2 * rng.next() - 1)))) };
  let kept = x0;
  let steps = 0;
  let marginAfter = marginBefore;
  const alpha = (2.5 * s.epsilon) / s.steps;
  for (let t = 0; t <= s.steps; t++) {
    if (signal?.aborted) throw new SaliencyError('cancelled', 'CANCELLED');
    const logits = (await model.predict([x])).logits;
    const top = argmax(logits);
    let runnerUp = top === label ? -1 : top;
    if (runnerUp < 0) for (let j = 0; j < K; j++) if (j !== label && (runnerUp < 0 || logits[j] > logits[runnerUp])) runnerUp = j;
    const margin = logits[label] - logits[runnerUp];
    if (top !== label) break; // label-preserving: keep the previous iterate
    kept = x;
    marginAfter = margin;
    steps = t;
    if (t === s.steps) break;
    const seedVec = new Float32Array(K);
    seedVec[label] = 1;
    seedVec[runnerUp] = -1;
    const [r] = await sched.evaluate([{ image: x, target: { classIndex: label, score: 'logit' }, logitSeed: seedVec }], { signal });
    x = signStep(model, x, r.grads.input, -alpha, lo, hi);
  }
  return { image: kept, marginBefore, marginAfter, steps, label };
}

/** The L-inf ball of radius epsilon (0-255 scale) around an image, intersected with the valid pixel range. */
export function linfBall(x0: PlanarImage, epsilon: number): { lo: Float32Array; hi: Float32Array } {
  return { lo: Float32Array.from(x0.data, (v) => Math.max(0, v - epsilon)), hi: Float32Array.from(x0.data, (v) => Math.min(255, v + epsilon)) };
}

/**
 * One projected sign step in pixel space, x + step * sign(g) clipped to [lo, hi], from a gradient `g` laid out like
 * the model input. The pixel-space gradient has the sign of the model-input gradient (preprocessing scales each
 * channel by a positive factor); grey models move every colour channel with the one luma channel's gradient.
 */
export function signStep(model: Classifier, x: PlanarImage, g: Float32Array, step: number, lo: Float32Array, hi: Float32Array): PlanarImage {
  const { channels, layout } = model.info.input;
  const rgbOf = model.info.preset.order === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  const plane = x.width * x.height;
  const next = new Float32Array(x.data.length);
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < plane; p++) {
      const gv = channels === 1 ? g[p] : layout === 'NCHW' ? g[rgbOf[c] * plane + p] : g[p * 3 + rgbOf[c]];
      const i = c * plane + p;
      next[i] = Math.min(hi[i], Math.max(lo[i], x.data[i] + step * Math.sign(gv)));
    }
  }
  return { ...x, data: next };
}
