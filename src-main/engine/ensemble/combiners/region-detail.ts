// "Region x detail": a coarse method (Grad-CAM and other CAMs: right region, blurry) gates the fine detail of
// the other methods (LIME, SHAP, RISE, gradients: sharp, but noisy or scattered). The gate is the coarse map's
// positive part min-max scaled to [0,1]:
//   soft: out = gate^gamma * fine               (fine detail fades out with the coarse region)
//   hard: out = [gate >= threshold] * fine       (fine detail kept only inside the coarse region)
// where fine is the weighted mean of the non-coarse members. Signed fine evidence keeps its sign.
import { SaliencyError } from '../../types.ts';
import type { Combiner, MemberStack } from '../types.ts';
import { minMaxNormalise } from '../../util/math.ts';
import { numberOption, perPixel, weightedSum } from './pixelwise.ts';

/** The coarse member: the named one, else the only member whose method name contains "cam". */
export function coarseIndex(methods: string[], coarse: unknown): number {
  if (typeof coarse === 'string') {
    const i = methods.indexOf(coarse);
    if (i < 0) throw new SaliencyError(`region-detail: coarse method "${coarse}" is not a member (members: ${methods.join(', ')})`, 'BAD_SETTING');
    return i;
  }
  const cams = methods.map((m, i) => (/cam/i.test(m) ? i : -1)).filter((i) => i >= 0);
  if (cams.length !== 1) {
    throw new SaliencyError(`region-detail: set option coarse to the method that gives the region (members: ${methods.join(', ')})`, 'BAD_SETTING');
  }
  return cams[0];
}

export const regionDetail: Combiner = {
  name: 'region-detail',
  description: 'a coarse method (e.g. Grad-CAM) gates the fine detail of the others (LIME, SHAP, RISE)',
  usesWeights: true,
  options(o) {
    const gate = o.gate ?? 'soft';
    if (gate !== 'soft' && gate !== 'hard') throw new SaliencyError(`ensemble region-detail: option gate must be soft or hard, got ${JSON.stringify(gate)}`, 'BAD_SETTING');
    return {
      ...(o.coarse !== undefined ? { coarse: o.coarse } : {}),
      gate,
      threshold: numberOption('region-detail', o, 'threshold', 0.5, (v) => v >= 0 && v <= 1, 'in [0,1]'),
      gamma: numberOption('region-detail', o, 'gamma', 1, (v) => v > 0, 'a number > 0'),
    };
  },
  combine(stack: MemberStack, o) {
    if (stack.maps.length < 2) {
      throw new SaliencyError(`region-detail needs a coarse method and at least one fine method; got only ${stack.methods.join(', ')}`, 'BAD_SETTING');
    }
    const c = coarseIndex(stack.methods, o.coarse);
    const positive = stack.maps[c].map((v) => (v > 0 ? v : Number.isNaN(v) ? v : 0));
    const gate = minMaxNormalise(positive);
    const keep = stack.maps.map((_, i) => i !== c);
    const fine = perPixel(
      { ...stack, maps: stack.maps.filter((_, i) => keep[i]), methods: stack.methods.filter((_, i) => keep[i]), weights: stack.weights.filter((_, i) => keep[i]) },
      weightedSum,
    );
    const out = new Float32Array(fine.length);
    for (let p = 0; p < out.length; p++) {
      // Where the coarse method saw nothing (NaN) the fine detail is kept ungated.
      const g = Number.isNaN(positive[p]) ? 1 : o.gate === 'hard' ? (gate[p] >= (o.threshold as number) ? 1 : 0) : gate[p] ** (o.gamma as number);
      out[p] = g * fine[p];
    }
    return out;
  },
};
