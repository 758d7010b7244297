// The progressive loop LIME and KernelSHAP share: score the coalitions chunk by chunk, refit after each
// chunk (chunks end at checkpoints.ts's schedule: 50 rows, then doubling up to every progressEvery rows),
// report the partial map with its convergence measures (sandwich standard errors -> relative SE, Spearman and
// top-k IoU against the previous fit), and with an auto budget stop once the relative SE reaches the
// precision, checked at multiples of progressEvery only (the coalitions drawn for the cap are used as a
// prefix: LIME's rows and KernelSHAP's sampled rows are prefix-stable, see coalitions.ts and
// shapley-sampler.ts prefixWeights). When the method can refit on any subset of rows (fitRows: LIME's rows and
// the shared pool are anchors + independent pairs) each check also reports the split-half predicted seed-to-seed
// Spearman (convergence.ts), and with the shared pool the auto budget stops on it (the share of the cap's
// predicted agreement the remaining rows would add) instead of on the relative SE.
import type { ExplainContext } from '../types.ts';
import type { PlanarImage, Target } from '../../types.ts';
import type { Segmentation } from '../segment/segmentation.ts';
import { segmentValuesToMap } from '../segment/segmentation.ts';
import { SEGMENT_FIRST_PARTIAL, nextCheckpoint } from './checkpoints.ts';
import { scoreCoalitions, type SegmentSamplingSettings } from './segment-sampling.ts';
import { progressNote, relativeChange } from './lime.ts';
import { relativeSE, remainingAgreementShare, spearmanBrown, spearmanOf, splitHalfRuleText, splitHalves, stability, stopRuleText, type AnytimeSettings, type AutoOutcome, type ConvergenceCheck } from './convergence.ts';

export interface ProgressiveFitOptions {
  ctx: ExplainContext;
  image: PlanarImage;
  baseline: PlanarImage;
  seg: Segmentation;
  coalitions: Uint8Array[];
  target: Target;
  settings: SegmentSamplingSettings & AnytimeSettings & { sharedPool?: true };
  /** Fit on the first n rows. */
  fit: (n: number, y: Float64Array) => Float64Array;
  /** Standard errors of that fit (null when too few rows). */
  standardErrors: (n: number, y: Float64Array, coef: Float64Array) => Float64Array | null;
  /** No partial fit below this many rows (e.g. the two anchors). */
  minFitRows?: number;
  /** The same fit on the given rows only (their values y[rows[i]]): enables the split-half measure. */
  fitRows?: (rows: number[], y: Float64Array) => Float64Array;
}

/** `change`: relative L2 change of the weights since the previous fit; `splitHalf`: the seed-to-seed Spearman
 *  predicted at these rows from two half-samples (null without fitRows or below SPLIT_HALF_MINIMUM rows). */
export type SegmentCheck = ConvergenceCheck & { samples: number; change: number | null; splitHalf?: number | null };

/** No split-half measure below this many rows (25 pairs a half). */
export const SPLIT_HALF_MINIMUM = 100;

export interface ProgressiveFit {
  scores: Float64Array;
  fresh: number;
  /** Rows scored (the evaluations used). */
  used: number;
  coef: Float64Array;
  standardErrors: Float64Array | null;
  convergence: SegmentCheck[];
  auto: AutoOutcome | null;
}

/** Minimum rows before an auto budget may stop: twice the segments (the fit has ~M degrees of freedom), at least
 *  100; with the shared pool twice that, since each method's importance weights leave it about half the rows'
 *  worth and its standard errors at fewer rows stopped runs early by chance (tuning images, README). */
export function autoMinimum(segments: number, sharedPool = false): number {
  return (sharedPool ? 2 : 1) * Math.max(100, 2 * segments);
}

export async function progressiveSegmentFit(o: ProgressiveFitOptions): Promise<ProgressiveFit> {
  const { ctx, seg, settings } = o;
  const total = o.coalitions.length;
  const pooled = settings.sharedPool === true;
  const minimum = autoMinimum(seg.count, pooled);
  const convergence: SegmentCheck[] = [];
  let prev: Float64Array | null = null;
  const splitHalf = (n: number, y: Float64Array): number | null => {
    if (!o.fitRows || n < SPLIT_HALF_MINIMUM) return null;
    const [a, b] = splitHalves(n);
    return spearmanBrown(spearmanOf(o.fitRows(a, y), o.fitRows(b, y)));
  };
  const check = (n: number, y: Float64Array) => {
    const coef = o.fit(n, y);
    const se = o.standardErrors(n, y, coef);
    const rel = se ? relativeSE(se, coef) : null;
    const half = splitHalf(n, y);
    convergence.push({ samples: n, change: relativeChange(prev, coef), relativeSE: rel, ...stability(prev, coef), ...(o.fitRows ? { splitHalf: half } : {}) });
    prev = coef;
    // the auto rule's criterion: the relative SE, or with the shared pool the agreement the rest would add
    return { coef, se, rel, half, criterion: pooled ? remainingAgreementShare(half, n, total) : rel };
  };
  const { scores, fresh, scored } = await scoreCoalitions({
    model: ctx.model, image: o.image, baseline: o.baseline, seg, coalitions: o.coalitions, target: o.target, chunk: settings.progressEvery, signal: ctx.signal,
    nextEnd: (start) => nextCheckpoint(start, SEGMENT_FIRST_PARTIAL, settings.progressEvery),
    onChunk: (n, y) => {
      if (n === total || n < (o.minFitRows ?? 3)) return;
      const { coef, criterion } = check(n, y);
      ctx.onProgress?.({ fraction: n / total, partial: segmentValuesToMap(seg, coef), note: convergenceNote(n, total, convergence.at(-1)!) });
      return settings.auto === true && n >= minimum && n % settings.progressEvery === 0 && criterion !== null && criterion <= settings.precision!;
    },
  });
  const { coef, se, rel, half, criterion } = check(scored, scores);
  ctx.onProgress?.({ fraction: 1, partial: segmentValuesToMap(seg, coef), note: convergenceNote(scored, total, convergence.at(-1)!) });
  const outcome = { precision: settings.precision!, cap: total, evaluations: scored, stoppedEarly: scored < total };
  const auto: AutoOutcome | null = settings.auto !== true ? null
    : pooled
      ? { rule: splitHalfRuleText(settings.precision!, total, settings.progressEvery, minimum), ...outcome, finalRemainingShare: criterion, finalPredictedSpearman: half }
      : { rule: stopRuleText('segment weights', settings.precision!, total, settings.progressEvery, minimum), ...outcome, finalRelativeSE: rel };
  return { scores: scored < total ? scores.slice(0, scored) : scores, fresh, used: scored, coef, standardErrors: se, convergence, auto };
}

export function convergenceNote(n: number, total: number, c: SegmentCheck): string {
  let s = progressNote(n, total, c.change);
  if (c.relativeSE !== null) s += `; relative SE ${c.relativeSE.toFixed(3)}`;
  if (c.spearman !== null) s += `; Spearman ${c.spearman.toFixed(3)}, top-10% IoU ${c.topKIoU!.toFixed(2)} vs the previous fit`;
  if (c.splitHalf != null) s += `; predicted seed-to-seed Spearman ${c.splitHalf.toFixed(3)} (split half)`;
  return s;
}
