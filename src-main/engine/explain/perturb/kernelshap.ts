// KernelSHAP (Lundberg & Lee 2017) over superpixels: Shapley values are the solution of a weighted linear
// regression on coalitions z with the Shapley kernel, under the efficiency constraint
// sum(phi) = f(x) - f(baseline), enforced exactly. Coalitions and weights come from shap's kernel-proportional
// sampler (shapley-sampler.ts: complete sizes enumerated while the budget allows, the rest drawn by the
// kernel's size distribution with paired complements), not LIME's uniform rows: with 100 segments uniform rows
// miss the small and large coalitions that carry most of the kernel's mass, and the estimate stopped improving
// with more samples. The masked images still go through the scheduler, whose cache shares every image LIME and
// KernelSHAP both ask for (the all-on and all-off rows always; most rows when there are few segments).
import type { Explainer, Explanation, ExplainContext, PreparedImage } from '../types.ts';
import type { Map2D, Target } from '../../types.ts';
import { readSegmentSamplingSettings, scoreCoalitions, segmentSetup, type SegmentSamplingSettings } from './segment-sampling.ts';
import { kernelShapCoalitions, solveKernelShap } from './shapley-sampler.ts';
import { segmentValuesToMap } from '../segment/segmentation.ts';
import { progressNote, relativeChange } from './lime.ts';

export type KernelShapSettings = SegmentSamplingSettings;

export class KernelShap implements Explainer<KernelShapSettings> {
  readonly name = 'kernelshap';
  readonly description = 'KernelSHAP: Shapley values of superpixels by kernel-weighted regression with exact efficiency';

  settings(partial: Partial<KernelShapSettings>): KernelShapSettings {
    return readSegmentSamplingSettings(this.name, partial);
  }

  async explain(image: PreparedImage, target: Target, settings: KernelShapSettings, seed: number, ctx: ExplainContext): Promise<Explanation> {
    const t0 = performance.now();
    const input = image.input;
    const { seg, baseline } = segmentSetup(input, target, settings, ctx.model);
    const M = seg.count;
    const coalitions = kernelShapCoalitions(M, settings.samples, seed);
    const Z = coalitions.rows;
    const fitPhi = (n: number, y: Float64Array) => solveKernelShap(coalitions, y, n);

    const convergence: { samples: number; change: number | null }[] = [];
    let prev: Float64Array | null = null;
    const { scores, fresh } = await scoreCoalitions({
      model: ctx.model, image: input, baseline, seg, coalitions: Z, target, chunk: settings.progressEvery, signal: ctx.signal,
      onChunk: (n, y) => {
        if (n === Z.length || n <= 2) return;
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
        coalitionSizesEnumerated: coalitions.fullSizes, enumeratedRows: coalitions.fixedRows - 2,
        prediction: fx, baselinePrediction: fb, sum, efficiencyGap: Math.abs(sum - (fx - fb)), convergence, freshEvaluations: fresh,
      },
      millis: performance.now() - t0,
    };
  }
}
