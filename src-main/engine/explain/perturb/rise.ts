// RISE (Petsiuk et al. 2018): N random s x s binary grids (each cell on with probability p), upsampled
// bilinearly to (s+1) x cell size and cropped at a random shift (as the authors' generate_masks), so masks
// are smooth and not aligned to one grid. saliency = sum_i score_i * mask_i / (N * p).
// Masks are generated in order from one seeded stream and scored in chunks through the shared scheduler;
// a partial map is emitted after the first chunk of masks, then at doubling counts up to every `progressEvery`
// masks (checkpoints.ts), with its convergence measures: the running per-pixel standard error of the Monte
// Carlo mean (relative SE = RMS SE / SD of the map, convergence.ts), and Pearson, Spearman and top-10% IoU
// against the previous partial map. masks=auto stops at `precision` (relative SE), checked at multiples of
// progressEvery only.
// controlVariate=true (opt-in; a deviation from the authors' estimator, same estimand): saliency =
// sum_i (score_i - mean score) * mask_i / (N * p) + mean score. Each pixel's mask coverage sum_i mask_i / N
// fluctuates around p, and the reference estimator carries mean score x that fluctuation — smooth, cell-sized
// noise that reorders whole regions; coverage / p - 1 has expectation 0, so subtracting mean score x it keeps
// the expectation (up to O(1/N) from estimating the mean) and removes that noise. (XAITK's "debiased" RISE
// subtracts p from the masks instead, which shifts the map by a constant and leaves this noise in place.)
// cellRegression=true (opt-in, the same kind of deviation) goes further: it subtracts the score's linear
// regression on the mask's grid cells, whose contribution to the map is known exactly (rise-cell-regression.ts).
import type { Explainer, Explanation, ExplainContext, PreparedImage } from '../types.ts';
import type { Map2D, Target } from '../../types.ts';
import { Random } from '../../util/random.ts';
import { checkTarget } from '../cam/base-cam.ts';
import { schedulerFor, targetScore } from '../../infer/scheduler.ts';
import { applyPixelMask, checkBaselineKind, makeModelBaseline, type BaselineKind } from './masking.ts';
import { defaultChunk, evaluateChunked } from './chunked-eval.ts';
import { nextCheckpoint } from './checkpoints.ts';
import { SETTING_LIMITS, intSetting, numberSetting, switchSetting } from '../check-settings.ts';
import { SaliencyError } from '../../types.ts';
import { pearson } from '../../metrics/rank.ts';
import { CELL_REGRESSION_MAX_CELLS, RiseCellRegression } from './rise-cell-regression.ts';
import { ANYTIME_SWITCHES, readAnytime, relativeSE, stability, stopRuleText, type AnytimeSettings, type AutoOutcome, type ConvergenceCheck } from './convergence.ts';

/** Default precision of masks=auto (relative SE of the map), chosen on a tuning set (README). */
export const RISE_AUTO_PRECISION = 0.5;
/** The same with controlVariate=true: the largest precision whose stop kept, on the tuning set, seed-to-seed
 *  agreement >= 0.95 of the reference estimator's at the default 4000 masks (README). */
export const RISE_CV_AUTO_PRECISION = 0.6;
/** The same with cellRegression=true, chosen by the same rule on the same tuning set (README). */
export const RISE_CELLS_AUTO_PRECISION = 1.0;
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
  /** Present (true) only when on, so reference runs keep their stored settings. */
  controlVariate?: true;
  /** The same for the cell-regression control variate. */
  cellRegression?: true;
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

/** One mask before upsampling: its s x s grid of kept (1) and dropped (0) cells and its crop shift. */
export interface RiseMaskDraw { grid: Uint8Array; dx: number; dy: number }

/** Draws RISE masks for one image size from a seeded stream. */
export class RiseMaskGenerator {
  private readonly cellW: number;
  private readonly cellH: number;
  private readonly tx: ReturnType<typeof axisTable>;
  private readonly ty: ReturnType<typeof axisTable>;

  constructor(readonly width: number, readonly height: number, readonly cells: number, readonly p: number, private rng: Random) {
    this.cellW = Math.ceil(width / cells);
    this.cellH = Math.ceil(height / cells);
    this.tx = axisTable(cells, (cells + 1) * this.cellW);
    this.ty = axisTable(cells, (cells + 1) * this.cellH);
  }

  next(): Float32Array {
    return this.render(this.draw());
  }

  /** The next mask's grid and shift (the stream's order: s x s cells, then x and y shifts). */
  draw(): RiseMaskDraw {
    const grid = new Uint8Array(this.cells * this.cells);
    for (let i = 0; i < grid.length; i++) grid[i] = this.rng.next() < this.p ? 1 : 0;
    return { grid, dx: this.rng.int(this.cellW), dy: this.rng.int(this.cellH) };
  }

  /** A drawn grid upsampled bilinearly and cropped at its shift. */
  render({ grid, dx, dy }: RiseMaskDraw): Float32Array {
    const { width, height, cells: s, tx, ty } = this;
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

  /** Each cell's interpolation weight at each pixel averaged over the uniform shifts, per axis (the weight of
   *  cell (r, c) at (x, y) is x[c * width + x] * y[r * height + y]: the shifts are independent per axis). */
  expectedCellWeights(): { x: Float64Array; y: Float64Array } {
    const axis = (t: ReturnType<typeof axisTable>, size: number, shifts: number) => {
      const w = new Float64Array(this.cells * size);
      for (let d = 0; d < shifts; d++) {
        for (let x = 0; x < size; x++) {
          const u = x + d;
          w[t.i0[u] * size + x] += (1 - t.w[u]) / shifts;
          w[t.i1[u] * size + x] += t.w[u] / shifts;
        }
      }
      return w;
    };
    return { x: axis(this.tx, this.width, this.cellW), y: axis(this.ty, this.height, this.cellH) };
  }
}

/** Running per-pixel sums of RISE's estimate and its standard error (see the header for the control variate). */
class RiseSums {
  private readonly fm: Float64Array; // sum score * mask
  private readonly f2m2: Float64Array; // sum (score * mask)^2
  /** With the control variate only: sum mask, sum score * mask^2, sum mask^2. */
  private readonly cv: { m: Float64Array; fm2: Float64Array; m2: Float64Array } | null;
  private scores = 0;

  constructor(pixels: number, controlVariate: boolean) {
    this.fm = new Float64Array(pixels);
    this.f2m2 = new Float64Array(pixels);
    this.cv = controlVariate ? { m: new Float64Array(pixels), fm2: new Float64Array(pixels), m2: new Float64Array(pixels) } : null;
  }

  add(score: number, mask: Float32Array): void {
    const { fm, f2m2, cv } = this;
    this.scores += score;
    for (let q = 0; q < mask.length; q++) { const v = score * mask[q]; fm[q] += v; f2m2[q] += v * v; }
    if (cv) for (let q = 0; q < mask.length; q++) { const w = mask[q]; cv.m[q] += w; cv.fm2[q] += score * w * w; cv.m2[q] += w * w; }
  }

  /** The map after n masks: the mean of t_i = score_i * mask_i / p, or with the control variate of
   *  t_i = (score_i - c) * mask_i / p, plus c, with c the mean score so far. */
  map(n: number, p: number): Float32Array {
    const out = new Float32Array(this.fm.length);
    const k = 1 / (n * p);
    if (!this.cv) {
      for (let q = 0; q < out.length; q++) out[q] = this.fm[q] * k;
      return out;
    }
    const { m } = this.cv;
    const c = this.scores / n;
    for (let q = 0; q < out.length; q++) out[q] = (this.fm[q] - c * m[q]) * k + c;
    return out;
  }

  /** Per-pixel standard error of that mean over n masks (c treated as fixed). */
  standardErrors(n: number, p: number): Float64Array {
    const se = new Float64Array(this.fm.length);
    if (n < 2) return se.fill(Infinity);
    const { cv } = this;
    const c = cv ? this.scores / n : 0;
    for (let q = 0; q < se.length; q++) {
      let sumT = this.fm[q];
      let sumT2 = this.f2m2[q];
      if (cv) { sumT -= c * cv.m[q]; sumT2 += -2 * c * cv.fm2[q] + c * c * cv.m2[q]; }
      const mean = sumT / (n * p);
      se[q] = Math.sqrt(Math.max(0, (sumT2 / (n * p * p) - mean * mean) / (n - 1)));
    }
    return se;
  }
}

export class Rise implements Explainer<RiseSettings> {
  readonly name = 'rise';
  readonly description = 'RISE (randomised input sampling: score-weighted average of random smooth masks)';
  readonly switches = [...ANYTIME_SWITCHES, 'controlVariate', 'cellRegression'];

  settings(partial: Partial<RiseSettings>): RiseSettings {
    const baseline = checkBaselineKind(partial.baseline ?? 'zero', 'rise: baseline');
    if (baseline === 'segment-mean') throw new SaliencyError('rise: the segment-mean baseline needs superpixels; use zero, mean, black, gray or blur', 'BAD_SETTING');
    const variates = { ...switchSetting('rise', 'controlVariate', partial.controlVariate), ...switchSetting('rise', 'cellRegression', partial.cellRegression) };
    if (variates.controlVariate && variates.cellRegression) {
      throw new SaliencyError('rise: controlVariate and cellRegression are alternatives (the cell regression includes the mean); set one', 'BAD_SETTING');
    }
    const precision = variates.cellRegression ? RISE_CELLS_AUTO_PRECISION : variates.controlVariate ? RISE_CV_AUTO_PRECISION : RISE_AUTO_PRECISION;
    const { budget, anytime } = readAnytime('rise', 'masks', partial, precision);
    const cells = intSetting('rise', 'cells', partial.cells, 7, 1);
    if (variates.cellRegression && cells > CELL_REGRESSION_MAX_CELLS) {
      throw new SaliencyError(`rise: cellRegression fits one coefficient per grid cell, so cells must be at most ${CELL_REGRESSION_MAX_CELLS} (got ${cells})`, 'BAD_SETTING');
    }
    return {
      ...anytime,
      ...variates,
      masks: intSetting('rise', 'masks', budget, 4000, 1, SETTING_LIMITS.evaluations),
      cells,
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
    const sums = settings.cellRegression === true ? new RiseCellRegression(gen) : new RiseSums(width * height, settings.controlVariate === true);
    const convergence: (ConvergenceCheck & { masks: number; correlation: number | null })[] = [];
    let previous: Float32Array | null = null;
    let done = 0;
    const partial = (): Float32Array => sums.map(done, p);
    const check = (map: Float32Array) => {
      const rel = relativeSE(sums.standardErrors(done, p), map);
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
        const keep = Array.from({ length: end - start }, () => { const draw = gen.draw(); return { draw, mask: gen.render(draw) }; });
        return { keep, inputs: keep.map((k) => applyPixelMask(input, baseline, k.mask)) };
      },
      consume: (_start, rows, keep) => {
        let stop = false;
        let reported = false;
        for (let i = 0; i < rows.n; i++) {
          sums.add(targetScore(rows, i, target), keep[i].mask, keep[i].draw);
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
