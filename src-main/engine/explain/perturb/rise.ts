// RISE (Petsiuk et al. 2018): N random s x s binary grids (each cell on with probability p), upsampled
// bilinearly to (s+1) x cell size and cropped at a random shift (as the authors' generate_masks), so masks
// are smooth and not aligned to one grid. saliency = sum_i score_i * mask_i / (N * p).
// Masks are generated in order from one seeded stream and scored in chunks through the shared scheduler;
// a partial map is emitted after the first chunk of masks, then at doubling counts up to every `progressEvery`
// masks (checkpoints.ts), with its convergence measures: the running per-pixel standard error of the Monte
// Carlo mean (relative SE = RMS SE / SD of the map, convergence.ts), and Pearson, Spearman and top-10% IoU
// against the previous partial map. masks=auto stops at `precision` (relative SE), checked at multiples of
// progressEvery only.
import type { Explainer, Explanation, ExplainContext, PreparedImage } from '../types.ts';
import type { Map2D, Target } from '../../types.ts';
import { Random } from '../../util/random.ts';
import { checkTarget } from '../cam/base-cam.ts';
import { schedulerFor, targetScore } from '../../infer/scheduler.ts';
import { applyPixelMask, checkBaselineKind, makeModelBaseline, type BaselineKind } from './masking.ts';
import { defaultChunk, evaluateChunked } from './chunked-eval.ts';
import { nextCheckpoint } from './checkpoints.ts';
import { SETTING_LIMITS, intSetting, numberSetting } from '../check-settings.ts';
import { SaliencyError } from '../../types.ts';
import { pearson } from '../../metrics/rank.ts';
import { readAnytime, relativeSE, stability, stopRuleText, type AnytimeSettings, type AutoOutcome, type ConvergenceCheck } from './convergence.ts';

/** Default precision of masks=auto (relative SE of the map), chosen on a tuning set (README). */
export const RISE_AUTO_PRECISION = 0.5;
/** masks=auto never stops before this many masks. */
export const RISE_AUTO_MINIMUM = 250;

/** First mask count at which masks=auto may stop: the minimum, but not before the first regular check. */
export function riseAutoMinimum(masks: number, progressEvery: number): number {
  return Math.min(masks, Math.max(RISE_AUTO_MINIMUM, progressEvery));
}

export type RiseSettings = {
  masks: number;
  /** Grid cells per side (s). */
  cells: number;
  /** Probability that a cell is kept. */
  p: number;
  baseline: BaselineKind;
  progressEvery: number;
} & AnytimeSettings & Record<string, unknown>;

/** Bilinear sample positions (half-pixel centres, edges clamped) of an s-cell axis stretched to `size`. */
function axisTable(s: number, size: number) {
  const i0 = new Int32Array(size);
  const i1 = new Int32Array(size);
  const w = new Float32Array(size);
  for (let u = 0; u < size; u++) {
    const f = Math.min(Math.max(((u + 0.5) * s) / size - 0.5, 0), s - 1);
    i0[u] = Math.floor(f);
    i1[u] = Math.min(i0[u] + 1, s - 1);
    w[u] = f - i0[u];
  }
  return { i0, i1, w };
}

/** Draws RISE masks for one image size from a seeded stream. */
export class RiseMaskGenerator {
  private readonly cellW: number;
  private readonly cellH: number;
  private readonly tx: ReturnType<typeof axisTable>;
  private readonly ty: ReturnType<typeof axisTable>;
  private readonly grid: Float32Array;

  constructor(readonly width: number, readonly height: number, readonly cells: number, readonly p: number, private rng: Random) {
    this.cellW = Math.ceil(width / cells);
    this.cellH = Math.ceil(height / cells);
    this.tx = axisTable(cells, (cells + 1) * this.cellW);
    this.ty = axisTable(cells, (cells + 1) * this.cellH);
    this.grid = new Float32Array(cells * cells);
  }

  next(): Float32Array {
    const { width, height, cells: s, grid, tx, ty } = this;
    for (let i = 0; i < s * s; i++) grid[i] = this.rng.next() < this.p ? 1 : 0;
    const dx = this.rng.int(this.cellW);
    const dy = this.rng.int(this.cellH);
    // Separable: interpolate each grid row along x once, then blend two such rows per output row.
    const rows = new Float32Array(s * width);
    for (let r = 0; r < s; r++) {
      for (let x = 0; x < width; x++) {
        const u = x + dx;
        rows[r * width + x] = grid[r * s + tx.i0[u]] * (1 - tx.w[u]) + grid[r * s + tx.i1[u]] * tx.w[u];
      }
    }
    const mask = new Float32Array(width * height);
    for (let y = 0; y < height; y++) {
      const v = y + dy;
      const a = ty.i0[v] * width;
      const b = ty.i1[v] * width;
      const wy = ty.w[v];
      const o = y * width;
      for (let x = 0; x < width; x++) mask[o + x] = rows[a + x] * (1 - wy) + rows[b + x] * wy;
    }
    return mask;
  }
}

export class Rise implements Explainer<RiseSettings> {
  readonly name = 'rise';
  readonly description = 'RISE (randomised input sampling: score-weighted average of random smooth masks)';

  settings(partial: Partial<RiseSettings>): RiseSettings {
    const baseline = checkBaselineKind(partial.baseline ?? 'zero', 'rise: baseline');
    if (baseline === 'segment-mean') throw new SaliencyError('rise: the segment-mean baseline needs superpixels; use zero, mean, black, gray or blur', 'BAD_SETTING');
    const { budget, anytime } = readAnytime('rise', 'masks', partial, RISE_AUTO_PRECISION);
    return {
      ...anytime,
      masks: intSetting('rise', 'masks', budget, 4000, 1, SETTING_LIMITS.evaluations),
      cells: intSetting('rise', 'cells', partial.cells, 7, 1),
      p: numberSetting('rise', 'p', partial.p, 0.5, 0, 1, false),
      baseline,
      progressEvery: intSetting('rise', 'progressEvery', partial.progressEvery, 500, 1),
    };
  }

  async explain(image: PreparedImage, target: Target, settings: RiseSettings, seed: number, ctx: ExplainContext): Promise<Explanation> {
    const t0 = performance.now();
    checkTarget(ctx.model, target);
    const input = image.input;
    const { width, height } = input;
    const { masks: N, cells, p, progressEvery } = settings;
    if (cells > Math.min(width, height)) {
      throw new SaliencyError(`rise: cells is ${cells}, more than the ${Math.min(width, height)} pixels of the image's shorter side`, 'BAD_SETTING');
    }
    const baseline = makeModelBaseline(input, settings.baseline, ctx.model);
    const gen = new RiseMaskGenerator(width, height, cells, p, Random.derive(seed, 'rise-masks'));
    const sum = new Float64Array(width * height);
    const sumSq = new Float64Array(width * height); // of score * mask, for the running standard error
    const convergence: (ConvergenceCheck & { masks: number; correlation: number | null })[] = [];
    let previous: Float32Array | null = null;
    let done = 0;
    const partial = (): Float32Array => {
      const out = new Float32Array(sum.length);
      const k = 1 / (done * p);
      for (let i = 0; i < sum.length; i++) out[i] = sum[i] * k;
      return out;
    };
    /** Per-pixel standard error of the map (the mean of score * mask / p over the masks so far). */
    const standardErrors = (map: Float32Array): Float64Array => {
      const se = new Float64Array(map.length);
      if (done < 2) return se.fill(Infinity);
      for (let q = 0; q < map.length; q++) {
        const ex2 = sumSq[q] / (done * p * p);
        se[q] = Math.sqrt(Math.max(0, (ex2 - map[q] * map[q]) / (done - 1)));
      }
      return se;
    };
    const check = (map: Float32Array) => {
      const rel = relativeSE(standardErrors(map), map);
      convergence.push({ masks: done, correlation: previous ? pearson(previous, map) : null, relativeSE: rel, ...stability(previous, map) });
      previous = map;
      return rel;
    };
    const auto = settings.auto === true;
    const minimum = riseAutoMinimum(N, progressEvery);
    // The first partial map after one model batch (its own small first chunk), so a long run shows a map within
    // about a batch's time; then at doubling counts. Chunking does not change the final map (masks in order).
    const first = schedulerFor(ctx.model).batchSize;
    let due = nextCheckpoint(0, first, progressEvery);
    let checked = 0; // masks at the previous partial map
    const fresh = await evaluateChunked(ctx.model, {
      total: N,
      chunk: defaultChunk(ctx.model),
      first,
      signal: ctx.signal,
      build: (start, end) => {
        const keep = Array.from({ length: end - start }, () => gen.next());
        return { keep, inputs: keep.map((m) => applyPixelMask(input, baseline, m)) };
      },
      consume: (_start, rows, keep) => {
        let stop = false;
        let reported = false;
        for (let i = 0; i < rows.n; i++) {
          const s = targetScore(rows, i, target);
          const m = keep[i];
          for (let q = 0; q < m.length; q++) { const v = s * m[q]; sum[q] += v; sumSq[q] += v * v; }
          done++;
          reported = false;
          if (done === due && done < N) {
            due = nextCheckpoint(done, first, progressEvery);
            const map = partial();
            const rel = check(map);
            const c = convergence.at(-1)!;
            let note = `${done}/${N} masks; relative SE ${rel.toFixed(3)}`;
            if (c.correlation !== null) note += `, r=${c.correlation.toFixed(4)}, Spearman ${c.spearman!.toFixed(3)}, top-10% IoU ${c.topKIoU!.toFixed(2)} vs ${checked}`;
            checked = done;
            reported = true;
            ctx.onProgress?.({ fraction: done / N, partial: { width, height, data: map }, note });
            if (auto && done >= minimum && done % progressEvery === 0 && rel <= settings.precision!) stop = true;
          }
        }
        if (!reported) ctx.onProgress?.({ fraction: done / N });
        return stop;
      },
    });
    const map: Map2D = { width, height, data: partial() };
    const finalSE = check(map.data);
    ctx.onProgress?.({ fraction: 1 });
    const outcome: AutoOutcome | null = auto
      ? { rule: stopRuleText('map', settings.precision!, N, progressEvery, minimum), precision: settings.precision!, cap: N, evaluations: done, finalRelativeSE: finalSE, stoppedEarly: done < N }
      : null;
    return {
      method: this.name, target, map, evaluations: done, settings, seed,
      extras: {
        convergence, finalCorrelation: convergence.at(-1)?.correlation ?? null, finalRelativeSE: finalSE, freshEvaluations: fresh,
        ...(outcome ? { auto: outcome } : {}),
      },
      millis: performance.now() - t0,
    };
  }
}
