// KernelSHAP (Lundberg & Lee 2017) over superpixels: Shapley values are the solution of a weighted linear
// regression on coalitions z with the Shapley kernel pi(s) = (M-1) / (C(M,s) s (M-s)), s = |z|, under the
// efficiency constraint sum(phi) = f(x) - f(baseline), enforced exactly (KKT system).
// Coalitions come from the sampler shared with LIME (uniform, antithetic pairs). Because those rows are
// drawn uniformly rather than from the kernel, each row is weighted by pi(|z|) (importance weighting), which
// estimates the same objective as shap's kernel-proportional sampling; sharing them makes the second of
// LIME/KernelSHAP free. The all-on and all-off rows are the constraint's anchors, not regression rows.
import type { Explainer, Explanation, ExplainContext, PreparedImage } from '../types.ts';
import type { Map2D, Target } from '../../types.ts';
import { constrainedWeightedLeastSquares } from './regression.ts';
import {
  coalitionSetup, readSegmentSamplingSettings, scoreCoalitions, type SegmentSamplingSettings,
} from './segment-sampling.ts';
import { segmentValuesToMap } from '../segment/segmentation.ts';
import { progressNote, relativeChange } from './lime.ts';

export type KernelShapSettings = SegmentSamplingSettings;

/** log C(n, k) via lgamma-free summation (exact enough for weights; n is at most a few thousand). */
function logChoose(n: number, k: number): number {
  k = Math.min(k, n - k);
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/** Shapley kernel weight of one coalition of size s out of M (0 for the empty and full coalitions). */
export function shapleyKernelWeights(M: number): Float64Array {
  const w = new Float64Array(M + 1);
  for (let s = 1; s < M; s++) w[s] = Math.exp(Math.log(M - 1) - logChoose(M, s) - Math.log(s) - Math.log(M - s));
  // Scale so the largest is 1 (the fit is invariant to a common factor; avoids tiny numbers for large M).
  let max = 0;
  for (const v of w) max = Math.max(max, v);
  if (max > 0) for (let s = 0; s <= M; s++) w[s] /= max;
  return w;
}

export class KernelShap implements Explainer<KernelShapSettings> {
  readonly name = 'kernelshap';
  readonly description = 'KernelSHAP: Shapley values of superpixels by kernel-weighted regression with exact efficiency';

  settings(partial: Partial<KernelShapSettings>): KernelShapSettings {
    return readSegmentSamplingSettings(this.name, partial);
  }

  async explain(image: PreparedImage, target: Target, settings: KernelShapSettings, seed: number, ctx: ExplainContext): Promise<Explanation> {
    const t0 = performance.now();
    const input = image.input;
    const { seg, baseline, Z } = coalitionSetup(input, target, settings, seed, ctx.model);
    const M = seg.count;
    const kernel = shapleyKernelWeights(M);
    const weights = Z.map((z) => {
      let s = 0;
      for (const v of z) s += v;
      return kernel[s];
    });
    const fitPhi = (n: number, y: Float64Array) => constrainedWeightedLeastSquares(Z, y, weights, y[1], y[0] - y[1], n);

    const convergence: { samples: number; change: number | null }[] = [];
    let prev: Float64Array | null = null;
    const { scores, fresh } = await scoreCoalitions({
      model: ctx.model, image: input, baseline, seg, coalitions: Z, target, chunk: settings.progressEvery, signal: ctx.signal,
      onChunk: (n, y) => {
        if (n === Z.length || !weights.slice(0, n).some((w) => w > 0)) return;
        const phi = fitPhi(n, y);
        const change = relativeChange(prev, phi);
        prev = phi;
        convergence.push({ samples: n, change });
        ctx.onProgress?.({ fraction: n / Z.length, partial: segmentValuesToMap(seg, phi), note: progressNote(n, Z.length, change) });
      },
    });
    const phi = fitPhi(Z.length, scores);
    const change = relativeChange(prev, phi);
    convergence.push({ samples: Z.length, change });
    const map = segmentValuesToMap(seg, phi);
    ctx.onProgress?.({ fraction: 1, partial: map, note: progressNote(Z.length, Z.length, change) });
    let sum = 0;
    for (const v of phi) sum += v;
    const fx = scores[0];
    const fb = scores[1];
    const native: Map2D = { width: M, height: 1, data: Float32Array.from(phi) };
    return {
      method: this.name, target, map, native, evaluations: Z.length, settings, seed,
      extras: {
        segments: M, values: Array.from(phi),
        prediction: fx, baselinePrediction: fb, sum, efficiencyGap: Math.abs(sum - (fx - fb)), convergence, freshEvaluations: fresh,
      },
      millis: performance.now() - t0,
    };
  }
}
