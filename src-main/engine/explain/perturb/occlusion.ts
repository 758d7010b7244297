// Occlusion (Zeiler & Fergus 2014; Captum's Occlusion): slide a window over the image, fill it with the
// baseline, and record the drop in the target score f(x) - f(occluded). Each pixel gets the mean drop of the
// windows that cover it. The last window in each direction is aligned to the image edge so every pixel is
// covered (stride <= window is required for the same reason). Windows are pasted from the baseline by row copies.
import type { Explainer, Explanation, ExplainContext, PreparedImage } from '../types.ts';
import type { Target } from '../../types.ts';
import { SaliencyError } from '../../types.ts';
import { checkTarget } from '../cam/base-cam.ts';
import { schedulerFor, targetScore } from '../../infer/scheduler.ts';
import { checkBaselineKind, makeModelBaseline, type BaselineKind } from './masking.ts';
import { evaluateChunked } from './chunked-eval.ts';
import { intSetting } from '../check-settings.ts';

export type OcclusionSettings = { window: number; stride: number; baseline: BaselineKind } & Record<string, unknown>;

/** Window start positions along an axis: every `stride`, plus one flush with the far edge. */
export function windowStarts(size: number, window: number, stride: number): number[] {
  const starts: number[] = [];
  for (let s = 0; s + window < size; s += stride) starts.push(s);
  starts.push(size - window);
  return starts;
}

export class Occlusion implements Explainer<OcclusionSettings> {
  readonly name = 'occlusion';
  readonly description = 'Occlusion (drop in score when a sliding window is hidden)';

  settings(partial: Partial<OcclusionSettings>): OcclusionSettings {
    const window = intSetting('occlusion', 'window', partial.window, 32, 1);
    const stride = intSetting('occlusion', 'stride', partial.stride, Math.max(1, Math.floor(window / 2)), 1);
    if (stride > window) throw new SaliencyError(`occlusion: stride (${stride}) must not exceed window (${window}), or some pixels are never occluded`, 'BAD_SETTING');
    const baseline = checkBaselineKind(partial.baseline ?? 'mean', 'occlusion: baseline');
    if (baseline === 'segment-mean') throw new SaliencyError('occlusion: the segment-mean baseline needs superpixels; use zero, mean, black, gray or blur', 'BAD_SETTING');
    return { window, stride, baseline };
  }

  async explain(image: PreparedImage, target: Target, settings: OcclusionSettings, seed: number, ctx: ExplainContext): Promise<Explanation> {
    const t0 = performance.now();
    checkTarget(ctx.model, target);
    const input = image.input;
    const { width, height } = input;
    const { window, stride } = settings;
    if (window > Math.min(width, height)) {
      throw new SaliencyError(`occlusion: window (${window}) is larger than the ${width}x${height} image`, 'BAD_SETTING');
    }
    const baseline = makeModelBaseline(input, settings.baseline, ctx.model);
    const xs = windowStarts(width, window, stride);
    const ys = windowStarts(height, window, stride);
    const windows = ys.flatMap((y) => xs.map((x) => ({ x, y })));
    const full = await schedulerFor(ctx.model).evaluate([input], { signal: ctx.signal });
    const f0 = targetScore(full, 0, target);
    const sum = new Float64Array(width * height);
    const count = new Float64Array(width * height);
    const plane = width * height;
    const fresh = (full.fresh ?? 0) + await evaluateChunked(ctx.model, {
      total: windows.length,
      signal: ctx.signal,
      build: (start, end) => ({
        keep: null,
        inputs: windows.slice(start, end).map(({ x, y }) => {
          const data = input.data.slice();
          for (let c = 0; c < 3; c++) {
            for (let r = y; r < y + window; r++) {
              const o = c * plane + r * width;
              data.set(baseline.data.subarray(o + x, o + x + window), o + x);
            }
          }
          return { width, height, data };
        }),
      }),
      consume: (start, rows) => {
        for (let i = 0; i < rows.n; i++) {
          const { x, y } = windows[start + i];
          const drop = f0 - targetScore(rows, i, target);
          for (let r = y; r < y + window; r++) {
            for (let q = r * width + x; q < r * width + x + window; q++) { sum[q] += drop; count[q]++; }
          }
        }
        ctx.onProgress?.({ fraction: (start + rows.n) / windows.length });
      },
    });
    const data = new Float32Array(width * height);
    for (let q = 0; q < data.length; q++) data[q] = sum[q] / count[q];
    return {
      method: this.name, target, map: { width, height, data }, evaluations: windows.length + 1, settings, seed,
      extras: { windows: windows.length, grid: [ys.length, xs.length], score: f0, freshEvaluations: fresh },
      millis: performance.now() - t0,
    };
  }
}
