// Perturbation curves: a sequence of images, each with more pixels taken from a second image in a given order,
// scored through the shared batching scheduler; and the area under the resulting curve.
import type { Classifier } from '../model/classifier.ts';
import type { PlanarImage, Target } from '../types.ts';
import { SaliencyError } from '../types.ts';
import { schedulerFor, targetScore } from '../infer/scheduler.ts';

/** Area under y(x) by the trapezoid rule; x defaults to an even grid on [0,1] (RISE's normalised AUC). */
export function trapezoidAuc(y: ArrayLike<number>, x?: ArrayLike<number>): number {
  const n = y.length;
  if (n === 0) throw new SaliencyError('AUC of an empty curve', 'BAD_INPUT');
  if (n === 1) return y[0];
  let s = 0;
  for (let i = 1; i < n; i++) {
    const dx = x ? x[i] - x[i - 1] : 1 / (n - 1);
    s += dx * (y[i] + y[i - 1]) / 2;
  }
  return s;
}

/** Cumulative number of pixels changed after step k = 0..steps, spread evenly (steps+1 entries). */
export function evenCounts(total: number, steps: number): number[] {
  return Array.from({ length: steps + 1 }, (_, k) => Math.round((k * total) / steps));
}

/** Target scores of images, in order, via the model's shared scheduler. */
export async function scoreImages(model: Classifier, images: PlanarImage[], target: Target, signal?: AbortSignal): Promise<number[]> {
  const rows = await schedulerFor(model).evaluate(images, { signal });
  return Array.from({ length: rows.n }, (_, i) => targetScore(rows, i, target));
}

export interface PixelCurveSpec {
  model: Classifier;
  target: Target;
  /** Image at step 0. */
  start: PlanarImage;
  /** Where changed pixels take their values from. */
  source: PlanarImage;
  /** Pixel indices in the order they are changed. */
  order: Int32Array;
  /** Cumulative pixel counts, non-decreasing, one per curve point. */
  counts: number[];
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

/**
 * Scores of every point of the curve. Images are built incrementally (each from the previous) in chunks; each
 * chunk is handed to the scheduler before the next is built, so building overlaps inference and memory stays
 * at about two chunks.
 */
export async function pixelCurve(spec: PixelCurveSpec): Promise<number[]> {
  const { model, target, start, source, order, counts, signal, onProgress } = spec;
  const plane = start.width * start.height;
  const chunk = Math.max(8, 2 * schedulerFor(model).batchSize);
  const pending: Promise<number[]>[] = [];
  let current = start.data.slice();
  let applied = 0;
  let scored = 0;
  for (let from = 0; from < counts.length; from += chunk) {
    const images: PlanarImage[] = [];
    for (let k = from; k < Math.min(counts.length, from + chunk); k++) {
      const upto = Math.min(counts[k], order.length);
      if (upto < applied) throw new SaliencyError('pixel counts must not decrease', 'BAD_INPUT');
      for (; applied < upto; applied++) {
        const p = order[applied];
        current[p] = source.data[p];
        current[plane + p] = source.data[plane + p];
        current[2 * plane + p] = source.data[2 * plane + p];
      }
      images.push({ width: start.width, height: start.height, data: current });
      current = current.slice();
    }
    const part = scoreImages(model, images, target, signal);
    part.then((s) => { scored += s.length; onProgress?.(scored / counts.length); }, () => undefined);
    pending.push(part);
    // Yield so the scheduler starts this chunk while the next one is built.
    await new Promise<void>((r) => setImmediate(r));
  }
  return (await Promise.all(pending)).flat();
}

export type StepSettings = { steps: number; pixelsPerStep: number };

/** steps (default 50) or pixelsPerStep (RISE's `step`; when > 0 it wins): how many curve points. */
export function stepSettings(partial: { steps?: unknown; pixelsPerStep?: unknown }, intSetting: (v: unknown, f: number, n: string, min?: number) => number): StepSettings {
  return { steps: intSetting(partial.steps, 50, 'steps'), pixelsPerStep: intSetting(partial.pixelsPerStep, 0, 'pixelsPerStep', 0) };
}

export function pixelCounts(total: number, s: StepSettings): number[] {
  if (s.pixelsPerStep > 0) {
    const steps = Math.ceil(total / s.pixelsPerStep);
    return Array.from({ length: steps + 1 }, (_, k) => Math.min(total, k * s.pixelsPerStep));
  }
  return evenCounts(total, Math.min(s.steps, total));
}
