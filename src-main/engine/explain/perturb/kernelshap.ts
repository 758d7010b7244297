// KernelSHAP (Lundberg & Lee 2017) over superpixels: Shapley values are the solution of a weighted linear
// regression on coalitions z with the Shapley kernel, under the efficiency constraint
// sum(phi) = f(x) - f(baseline), enforced exactly. Coalitions and weights come from shap's kernel-proportional
// sampler (shapley-sampler.ts: complete sizes enumerated while the budget allows, the rest drawn by the
// kernel's size distribution with paired complements), not LIME's uniform rows: with 100 segments uniform rows
// miss the small and large coalitions that carry most of the kernel's mass, and the estimate stopped improving
// with more samples. The masked images still go through the scheduler, whose cache shares every image LIME and
// KernelSHAP both ask for (the all-on and all-off rows always; most rows when there are few segments; with
// sharedPool=true on both, every row of the shorter prefix: shared-pool.ts).
import type { Explainer, Explanation, ExplainContext, PreparedImage } from '../types.ts';
import type { Map2D, Target } from '../../types.ts';
import { switchSetting } from '../check-settings.ts';
import { readSegmentSamplingSettings, segmentSetup, type SegmentSamplingSettings } from './segment-sampling.ts';
import { kernelShapCoalitions, prefixWeights, solveKernelShap } from './shapley-sampler.ts';
import { segmentValuesToMap } from '../segment/segmentation.ts';
import { ANYTIME_KEYS, ANYTIME_SWITCHES, kernelShapStandardErrors, readAnytime, type AnytimeSettings } from './convergence.ts';
import { progressiveSegmentFit } from './anytime-segments.ts';
import { kernelCoalitionsOf, poolCap, sharedCoalitionPool, subPool } from './shared-pool.ts';
import { SaliencyError } from '../../types.ts';

export type KernelShapSettings = SegmentSamplingSettings & AnytimeSettings & {
  /** Opt-in: sizes drawn by leverage scores instead of kernel mass (shapley-sampler.ts). */
  leverage?: true;
  /** Opt-in: rows from the pool shared with LIME, importance-weighted (shared-pool.ts). */
  sharedPool?: true;
};

/** Default precision of samples=auto (relative SE of the values); see LIME_AUTO_PRECISION. */
export const KERNELSHAP_AUTO_PRECISION = 0.4;
/** The same with leverage=true: the largest precision whose stop kept, on the tuning set, seed-to-seed Spearman
 *  >= 0.95 of the reference KernelSHAP's at its default budget (README). */
export const KERNELSHAP_LEVERAGE_AUTO_PRECISION = 0.4;
/** The same with sharedPool=true: the remaining agreement share (split-half); see LIME_POOL_AUTO_PRECISION. */
export const KERNELSHAP_POOL_AUTO_PRECISION = 0.25;

export class KernelShap implements Explainer<KernelShapSettings> {
  readonly name = 'kernelshap';
  readonly switches = [...ANYTIME_SWITCHES, 'leverage', 'sharedPool'];
  readonly description = 'KernelSHAP: Shapley values of superpixels by kernel-weighted regression with exact efficiency';

  settings(partial: Partial<KernelShapSettings>): KernelShapSettings {
    const precision = partial.sharedPool === true ? KERNELSHAP_POOL_AUTO_PRECISION : partial.leverage === true ? KERNELSHAP_LEVERAGE_AUTO_PRECISION : KERNELSHAP_AUTO_PRECISION;
    const { budget, anytime, rest } = readAnytime(this.name, 'samples', partial, precision);
    const { leverage, sharedPool, ...sampling } = rest;
    const switches = { ...switchSetting(this.name, 'leverage', leverage), ...switchSetting(this.name, 'sharedPool', sharedPool) };
    if (switches.leverage && switches.sharedPool) {
      throw new SaliencyError('kernelshap: leverage and sharedPool are alternative samplers; set one', 'BAD_SETTING');
    }
    return { ...readSegmentSamplingSettings(this.name, { ...sampling, samples: poolCap(budget, sharedPool, anytime) }, ANYTIME_KEYS), ...anytime, ...switches };
  }

  async explain(image: PreparedImage, target: Target, settings: KernelShapSettings, seed: number, ctx: ExplainContext): Promise<Explanation> {
    const t0 = performance.now();
    const input = image.input;
    const { seg, baseline } = segmentSetup(input, target, settings, ctx.model);
    const M = seg.count;
    const pool = settings.sharedPool === true ? sharedCoalitionPool(M, settings.samples, seed) : null;
    const coalitions = pool ? kernelCoalitionsOf(pool) : kernelShapCoalitions(M, settings.samples, seed, settings.leverage === true);
    const Z = coalitions.rows;
    // the split-half criterion needs independent halves: the pool's pairs are, shap's enumerated sizes are not
    const fitRows = pool ? (rows: number[], y: Float64Array) => solveKernelShap(kernelCoalitionsOf(subPool(pool, rows)), rows.map((i) => y[i])) : undefined;
    const run = await progressiveSegmentFit({
      ctx, image: input, baseline, seg, coalitions: Z, target, settings, minFitRows: 3, fitRows,
      fit: (n, y) => solveKernelShap(coalitions, y, n),
      standardErrors: (n, y, phi) => kernelShapStandardErrors(Z, y, prefixWeights(coalitions, n), phi, n, coalitions.cluster),
    });
    const { scores, fresh, convergence, coef: phi } = run;
    const map = segmentValuesToMap(seg, phi);
    let sum = 0;
    for (const v of phi) sum += v;
    const fx = scores[0];
    const fb = scores[1];
    const native: Map2D = { width: M, height: 1, data: Float32Array.from(phi) };
    return {
      method: this.name, target, map, native, evaluations: run.used, settings, seed,
      extras: {
        segments: M, values: Array.from(phi), standardErrors: run.standardErrors ? Array.from(run.standardErrors) : null,
        ...(run.auto ? { auto: run.auto } : {}),
        coalitionSizesEnumerated: coalitions.fullSizes, enumeratedRows: coalitions.fixedRows - 2,
        prediction: fx, baselinePrediction: fb, sum, efficiencyGap: Math.abs(sum - (fx - fb)), convergence, freshEvaluations: fresh,
      },
      millis: performance.now() - t0,
    };
  }
}
