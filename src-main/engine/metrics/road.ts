// ROAD, RemOve And Debias (Rong et al. 2022): removed pixels are not set to a constant (whose sharp edges leak
// the removal pattern to the model) but imputed from their neighbours by "noisy linear imputation": each removed
// pixel equals the weighted mean of its 8 neighbours (weights 1/6 direct, 1/12 diagonal), solved as one sparse
// linear system per channel, plus Gaussian noise. For each fraction of pixels removed (10%..90%), MoRF removes the
// most relevant, LeRF the least. The value is the mean target score over the fractions: lower is better for
// MoRF, higher for LeRF.
import type { PlanarImage } from '../types.ts';
import { SaliencyError } from '../types.ts';
import { defineMetric, numSetting, TAGS, type ControlSettings } from './define.ts';
import { scoreImages } from './curve.ts';
import { relevanceOrder } from './rank.ts';
import { Random } from '../util/random.ts';
import type { Metric } from './types.ts';

const DIRECT = 1 / 6;
const DIAGONAL = 1 / 12;
const OFFSETS: [number, number, number][] = [
  [-1, 0, DIRECT], [1, 0, DIRECT], [0, -1, DIRECT], [0, 1, DIRECT],
  [-1, -1, DIAGONAL], [1, -1, DIAGONAL], [-1, 1, DIAGONAL], [1, 1, DIAGONAL],
];

/** tolerance: relative residual of the linear system (default 1e-3: far below the added noise). */
export interface ImputeOptions { noise: number; random: Random; tolerance?: number; maxIterations?: number }

/**
 * Noisy linear imputation of the pixels where `removed` is 1: the linear fill below, plus Gaussian noise of
 * standard deviation `noise` on the imputed pixels (clamped to 0..255).
 */
export function noisyLinearImpute(image: PlanarImage, removed: Uint8Array, opts: ImputeOptions): PlanarImage {
  const { width: w, height: h } = image;
  if (removed.length !== w * h) throw new SaliencyError('removal mask does not match the image', 'BAD_INPUT');
  const out = linearFill(image.data, w, h, removed, opts.tolerance ?? 1e-3, opts.maxIterations ?? 2000);
  const plane = w * h;
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < plane; p++) {
      if (!removed[p]) continue;
      const v = out[c * plane + p] + (opts.noise > 0 ? opts.noise * opts.random.normal() : 0);
      out[c * plane + p] = Math.min(255, Math.max(0, v));
    }
  }
  return { width: w, height: h, data: out };
}

/**
 * Each removed pixel = the weighted mean of its neighbours. The system (sum_n w_pn) x_p - sum_{n removed} w_pn x_n
 * = sum_{n kept} w_pn x_n is symmetric positive definite (a graph Laplacian with the kept pixels as boundary), so it
 * is solved by conjugate gradients with a Jacobi preconditioner. Large holes start from the solution on a grid
 * half the size (cascadic multigrid), which removes the slow low-frequency error CG alone would need thousands of
 * iterations for. Removed regions with no kept pixel at all keep the mean of the kept pixels, or mid-grey.
 */
function linearFill(data: Float32Array, w: number, h: number, removed: Uint8Array, tol: number, maxIt: number): Float32Array {
  const plane = w * h;
  const out = data.slice();
  const unknown: number[] = [];
  const pos = new Int32Array(plane).fill(-1);
  for (let p = 0; p < plane; p++) if (removed[p]) { pos[p] = unknown.length; unknown.push(p); }
  const m = unknown.length;
  if (m === 0) return out;
  // Starting values: from the half-size problem for large holes, else the mean of the kept pixels.
  const start = new Float64Array(3 * m);
  let coarse: Float32Array | undefined;
  const cw = Math.ceil(w / 2), ch = Math.ceil(h / 2);
  if (m > 1024 && m < plane && w >= 8 && h >= 8) {
    const cdata = new Float32Array(3 * cw * ch);
    const cremoved = new Uint8Array(cw * ch);
    for (let cy = 0; cy < ch; cy++) for (let cx = 0; cx < cw; cx++) {
      let n = 0;
      const sums = [0, 0, 0];
      for (let y = 2 * cy; y < Math.min(h, 2 * cy + 2); y++) for (let x = 2 * cx; x < Math.min(w, 2 * cx + 2); x++) {
        const p = y * w + x;
        if (removed[p]) continue;
        n++;
        for (let c = 0; c < 3; c++) sums[c] += data[c * plane + p];
      }
      const q = cy * cw + cx;
      if (n === 0) cremoved[q] = 1;
      else for (let c = 0; c < 3; c++) cdata[c * cw * ch + q] = sums[c] / n;
    }
    coarse = linearFill(cdata, cw, ch, cremoved, tol, maxIt);
  }
  for (let c = 0; c < 3; c++) {
    let keptSum = 0;
    for (let p = 0; p < plane; p++) if (!removed[p]) keptSum += data[c * plane + p];
    const mean = m < plane ? keptSum / (plane - m) : 127.5;
    for (let i = 0; i < m; i++) {
      const p = unknown[i];
      if (coarse) {
        const x = p % w, y = (p - x) / w;
        start[c * m + i] = coarse[c * cw * ch + (y >> 1) * cw + (x >> 1)];
      } else start[c * m + i] = mean;
    }
  }
  // Neighbour lists of the unknowns.
  const nbU = new Int32Array(m * 8).fill(-1);
  const nbP = new Int32Array(m * 8).fill(-1);
  const nbW = new Float64Array(m * 8);
  const diag = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const p = unknown[i];
    const x = p % w, y = (p - x) / w;
    let k = 0;
    for (const [dx, dy, wt] of OFFSETS) {
      const nx = x + dx, ny = y + dy;
      if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
      const q = ny * w + nx;
      nbP[i * 8 + k] = q; nbU[i * 8 + k] = pos[q]; nbW[i * 8 + k] = wt; diag[i] += wt;
      k++;
    }
  }
  const xs = new Float64Array(m), b = new Float64Array(m), r = new Float64Array(m), z = new Float64Array(m);
  const d = new Float64Array(m), Ad = new Float64Array(m);
  const applyA = (v: Float64Array, res: Float64Array) => {
    for (let i = 0; i < m; i++) {
      let s = diag[i] * v[i];
      for (let k = 0; k < 8; k++) { const u = nbU[i * 8 + k]; if (u >= 0) s -= nbW[i * 8 + k] * v[u]; }
      res[i] = s;
    }
  };
  for (let c = 0; c < 3; c++) {
    const src = data.subarray(c * plane, (c + 1) * plane);
    let bnorm = 0;
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let k = 0; k < 8; k++) { const q = nbP[i * 8 + k]; if (q >= 0 && nbU[i * 8 + k] < 0) s += nbW[i * 8 + k] * src[q]; }
      b[i] = s; bnorm += s * s; xs[i] = start[c * m + i];
    }
    bnorm = Math.sqrt(bnorm);
    if (bnorm > 0) {
      applyA(xs, Ad);
      let rz = 0;
      let rr = 0;
      for (let i = 0; i < m; i++) { r[i] = b[i] - Ad[i]; z[i] = r[i] / diag[i]; d[i] = z[i]; rz += r[i] * z[i]; rr += r[i] * r[i]; }
      for (let it = 0; it < maxIt && Math.sqrt(rr) > tol * bnorm; it++) {
        applyA(d, Ad);
        let dAd = 0;
        for (let i = 0; i < m; i++) dAd += d[i] * Ad[i];
        if (!(dAd > 0)) break;
        const alpha = rz / dAd;
        rr = 0;
        for (let i = 0; i < m; i++) { xs[i] += alpha * d[i]; r[i] -= alpha * Ad[i]; rr += r[i] * r[i]; }
        let rzNew = 0;
        for (let i = 0; i < m; i++) { z[i] = r[i] / diag[i]; rzNew += r[i] * z[i]; }
        const beta = rzNew / rz;
        rz = rzNew;
        for (let i = 0; i < m; i++) d[i] = z[i] + beta * d[i];
      }
    }
    for (let i = 0; i < m; i++) out[c * plane + unknown[i]] = xs[i];
  }
  return out;
}

export type RoadSettings = { fractions: number[]; noise: number } & ControlSettings;

function parseFractions(v: unknown): number[] {
  if (v === undefined) return [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
  const list = typeof v === 'string' ? v.split(',').map(Number) : Array.isArray(v) ? v.map(Number) : [NaN];
  if (list.length === 0 || list.some((f) => !(f > 0 && f < 1))) throw new SaliencyError(`setting fractions=${String(v)} must be a list of fractions in (0,1)`, 'BAD_SETTING');
  return [...list].sort((a, b) => a - b);
}

function roadMetric(morf: boolean): Metric<RoadSettings> {
  const name = morf ? 'road-morf' : 'road-lerf';
  return defineMetric<RoadSettings>({
    name,
    description: `ROAD ${morf ? 'MoRF' : 'LeRF'} (Rong et al.): mean target score after removing 10%..90% of the pixels, ${morf ? 'most' : 'least'} relevant first, imputed from neighbours with noise. ${morf ? 'Lower' : 'Higher'} is better.`,
    tags: TAGS.faithfulness(!morf),
    settings: (p) => ({
      fractions: parseFractions(p.fractions),
      // 1% of the pixel range (the reference code uses 0.01 on its input scale).
      noise: numSetting(p.noise, 2.55, 'noise', 0, 255),
      }),
    async run(input, map, s, seed) {
      const image = input.image.input;
      const order = relevanceOrder(map.data, Random.derive(seed, 'ties'), morf);
      const plane = order.length;
      const images = s.fractions.map((f, j) => {
        const removed = new Uint8Array(plane);
        const k = Math.round(f * plane);
        for (let i = 0; i < k; i++) removed[order[i]] = 1;
        input.onProgress?.((j + 0.5) / (s.fractions.length + 1));
        return noisyLinearImpute(image, removed, { noise: s.noise, random: Random.derive(seed, `road-noise-${j}`) });
      });
      const [original, ...y] = await scoreImages(input.model!, [image, ...images], input.target, input.signal);
      input.onProgress?.(1);
      return {
        value: y.reduce((a, b) => a + b, 0) / y.length,
        curve: { x: s.fractions, y, xLabel: `fraction of pixels removed and imputed (${morf ? 'MoRF' : 'LeRF'})`, yLabel: `target ${input.target.score}` },
        extras: { originalScore: original, evaluations: y.length + 1 },
      };
    },
  });
}

export const roadMorf = roadMetric(true);
export const roadLerf = roadMetric(false);
