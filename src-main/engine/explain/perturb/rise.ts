// RISE (Petsiuk et al. 2018): N random s x s binary grids (each cell on with probability p), upsampled
// bilinearly to (s+1) x cell size and cropped at a random shift (as the authors' generate_masks), so masks
// are smooth and not aligned to one grid. saliency = sum_i score_i * mask_i / (N * p).
// Masks are generated in order from one seeded stream and scored in chunks through the shared scheduler;
// every `progressEvery` masks a partial map is emitted with its correlation to the previous partial map
// (a convergence estimate: it approaches 1 as the map settles).
import type { Explainer, Explanation, ExplainContext, PreparedImage } from '../types.ts';
import type { Map2D, Target } from '../../types.ts';
import { Random } from '../../util/random.ts';
import { checkTarget } from '../cam/base-cam.ts';
import { targetScore } from '../../infer/scheduler.ts';
import { applyPixelMask, checkBaselineKind, makeModelBaseline, type BaselineKind } from './masking.ts';
import { evaluateChunked } from './chunked-eval.ts';
import { SETTING_LIMITS, intSetting, numberSetting } from '../check-settings.ts';
import { SaliencyError } from '../../types.ts';
import { pearson } from '../../metrics/rank.ts';

export type RiseSettings = {
  masks: number;
  /** Grid cells per side (s). */
  cells: number;
  /** Probability that a cell is kept. */
  p: number;
  baseline: BaselineKind;
  progressEvery: number;
} & Record<string, unknown>;

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
    return {
      masks: intSetting('rise', 'masks', partial.masks, 4000, 1, SETTING_LIMITS.evaluations),
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
    const convergence: { masks: number; correlation: number }[] = [];
    let previous: Float32Array | null = null;
    let done = 0;
    const partial = (): Float32Array => {
      const out = new Float32Array(sum.length);
      const k = 1 / (done * p);
      for (let i = 0; i < sum.length; i++) out[i] = sum[i] * k;
      return out;
    };
    const fresh = await evaluateChunked(ctx.model, {
      total: N,
      signal: ctx.signal,
      build: (start, end) => {
        const keep = Array.from({ length: end - start }, () => gen.next());
        return { keep, inputs: keep.map((m) => applyPixelMask(input, baseline, m)) };
      },
      consume: (_start, rows, keep) => {
        for (let i = 0; i < rows.n; i++) {
          const s = targetScore(rows, i, target);
          const m = keep[i];
          for (let q = 0; q < m.length; q++) sum[q] += s * m[q];
          done++;
          if (done % progressEvery === 0 && done < N) {
            const map = partial();
            let note = `${done}/${N} masks`;
            if (previous) {
              const r = pearson(previous, map);
              convergence.push({ masks: done, correlation: r });
              note += `, r=${r.toFixed(4)} vs ${done - progressEvery}`;
            }
            previous = map;
            ctx.onProgress?.({ fraction: done / N, partial: { width, height, data: map }, note });
          }
        }
        if (done % progressEvery !== 0) ctx.onProgress?.({ fraction: done / N });
      },
    });
    const map: Map2D = { width, height, data: partial() };
    if (previous) convergence.push({ masks: N, correlation: pearson(previous, map.data) });
    ctx.onProgress?.({ fraction: 1 });
    return {
      method: this.name, target, map, evaluations: N, settings, seed,
      extras: { convergence, finalCorrelation: convergence.at(-1)?.correlation ?? null, freshEvaluations: fresh },
      millis: performance.now() - t0,
    };
  }
}
