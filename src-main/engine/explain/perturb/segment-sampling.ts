// What LIME and KernelSHAP have in common: the superpixel settings, the segmentation and baseline of an
// image, and scoring a list of coalitions through the shared scheduler in pipelined chunks (so the
// model's batches stay full while partial fits are made and reported).
import type { PlanarImage, Target } from '../../types.ts';
import { SaliencyError } from '../../types.ts';
import type { Classifier } from '../../model/classifier.ts';
import { schedulerFor, targetScore } from '../../infer/scheduler.ts';
import { applySegmentMask, checkBaselineKind, makeBaseline, type BaselineKind } from './masking.ts';
import { checkSegmentCount, gridSegmentation, type Segmentation } from '../segment/segmentation.ts';
import { slic } from '../segment/slic.ts';
import { felzenszwalbSegments } from '../segment/felzenszwalb.ts';

export type SegmentationKind = 'slic' | 'grid' | 'felzenszwalb';
export const SEGMENTATION_KINDS: SegmentationKind[] = ['slic', 'grid', 'felzenszwalb'];

export type SegmentSamplingSettings = {
  /** Number of perturbed samples (model evaluations), including the all-on and all-off rows. */
  samples: number;
  segmentation: SegmentationKind;
  /** Requested number of segments (SLIC's n_segments; grid cells; Felzenszwalb's scale is searched to match). */
  segments: number;
  /** SLIC compactness. */
  compactness: number;
  /** What hidden segments become. */
  baseline: BaselineKind;
  /** Blur baseline sigma in pixels; 0 = 10% of the longer side. */
  blurSigma: number;
  /** Emit a partial map every this many samples. */
  progressEvery: number;
};

export const SEGMENT_SAMPLING_DEFAULTS: SegmentSamplingSettings = {
  samples: 1000, segmentation: 'slic', segments: 50, compactness: 10, baseline: 'segment-mean', blurSigma: 0, progressEvery: 100,
};

export function readSegmentSamplingSettings(p: Partial<SegmentSamplingSettings>): SegmentSamplingSettings {
  const s = { ...SEGMENT_SAMPLING_DEFAULTS, ...definedOnly(p) };
  if (!Number.isInteger(s.samples) || s.samples < 3) {
    throw new SaliencyError(`samples must be a whole number of at least 3 (got ${s.samples}): the method needs the image, the baseline and at least one perturbation`, 'BAD_SETTING');
  }
  if (!SEGMENTATION_KINDS.includes(s.segmentation)) {
    throw new SaliencyError(`segmentation "${String(s.segmentation)}" is not one of ${SEGMENTATION_KINDS.join(', ')}`, 'BAD_SETTING');
  }
  if (!Number.isInteger(s.segments) || s.segments < 1) throw new SaliencyError(`segments must be a whole number of at least 1 (got ${s.segments})`, 'BAD_SETTING');
  if (!(s.compactness > 0)) throw new SaliencyError(`compactness must be positive (got ${s.compactness})`, 'BAD_SETTING');
  checkBaselineKind(s.baseline);
  if (!(s.blurSigma >= 0)) throw new SaliencyError(`blurSigma must be 0 (automatic) or positive (got ${s.blurSigma})`, 'BAD_SETTING');
  if (!Number.isInteger(s.progressEvery) || s.progressEvery < 1) throw new SaliencyError(`progressEvery must be a whole number of at least 1 (got ${s.progressEvery})`, 'BAD_SETTING');
  return s;
}

export function definedOnly<T extends object>(p: T): Partial<T> {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function segmentImage(image: PlanarImage, s: SegmentSamplingSettings): Segmentation {
  checkSegmentCount(s.segments, image.width, image.height);
  switch (s.segmentation) {
    case 'grid': return gridSegmentation(image.width, image.height, s.segments);
    case 'felzenszwalb': return felzenszwalbSegments(image, s.segments);
    default: return slic(image, { segments: s.segments, compactness: s.compactness });
  }
}

export function baselineFor(image: PlanarImage, seg: Segmentation, s: SegmentSamplingSettings): PlanarImage {
  return makeBaseline(image, s.baseline, { segments: seg, blurSigma: s.blurSigma > 0 ? s.blurSigma : undefined });
}

export interface ScoreCoalitionsOptions {
  model: Classifier;
  image: PlanarImage;
  baseline: PlanarImage;
  seg: Segmentation;
  coalitions: Uint8Array[];
  target: Target;
  chunk: number;
  signal?: AbortSignal;
  /** Called in order after each chunk, with how many rows are scored so far. */
  onChunk?: (scored: number, scores: Float64Array) => void;
}

/** Target scores of every coalition. `fresh` = model evaluations this call caused (the rest came from the cache). */
export async function scoreCoalitions(o: ScoreCoalitionsOptions): Promise<{ scores: Float64Array; fresh: number }> {
  const scheduler = schedulerFor(o.model);
  const n = o.coalitions.length;
  const scores = new Float64Array(n);
  let fresh = 0;
  const submit = (start: number) => {
    const end = Math.min(n, start + o.chunk);
    const images = [];
    for (let i = start; i < end; i++) images.push(applySegmentMask(o.image, o.baseline, o.seg, o.coalitions[i]));
    const p = scheduler.evaluate(images, { signal: o.signal }).then((rows) => ({ rows, end }));
    p.catch(() => undefined); // awaited below; avoids an unhandled rejection while the previous chunk is awaited
    return p;
  };
  // Two chunks in flight: while one is scored the next is already queued, so batches stay full.
  let inflight = submit(0);
  for (let start = 0; start < n; start += o.chunk) {
    const next = start + o.chunk < n ? submit(start + o.chunk) : null;
    const { rows, end } = await inflight;
    fresh += rows.fresh ?? 0;
    for (let i = start; i < end; i++) scores[i] = targetScore(rows, i - start, o.target);
    o.onChunk?.(end, scores);
    if (next) inflight = next;
  }
  return { scores, fresh };
}
