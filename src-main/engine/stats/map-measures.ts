// Measures of a saliency map's spatial detail, the same for every method (the "resolution" of the report's
// pros and cons).
import type { Map2D } from '../types.ts';

/**
 * RMS spatial frequency in cycles per image side: sqrt(sum_k |k|^2 P(k) / sum_k P(k)) of the mean-removed
 * map's power spectrum P, obtained through Parseval from the finite differences (a sinusoid of f cycles per
 * image gives ~f; a constant map 0). Scale-free: min-max normalising or scaling the map leaves it unchanged.
 * Finite differences underestimate frequencies near the pixel Nyquist limit (by sin(x)/x), which is fine for
 * comparing maps of one input size. Coarse maps (an upsampled 7x7 CAM) score low, per-pixel detail high.
 */
export function rmsFrequency(map: Map2D): number {
  const { width: w, height: h, data } = map;
  let mean = 0;
  let n = 0;
  for (const v of data) if (Number.isFinite(v)) { mean += v; n++; }
  if (n === 0) return 0;
  mean /= n;
  let variance = 0;
  for (const v of data) if (Number.isFinite(v)) variance += (v - mean) ** 2;
  variance /= n;
  if (!(variance > 0)) return 0;
  let gx = 0, nx = 0, gy = 0, ny = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = data[y * w + x];
      if (!Number.isFinite(v)) continue;
      if (x + 1 < w && Number.isFinite(data[y * w + x + 1])) { gx += (data[y * w + x + 1] - v) ** 2; nx++; }
      if (y + 1 < h && Number.isFinite(data[(y + 1) * w + x])) { gy += (data[(y + 1) * w + x] - v) ** 2; ny++; }
    }
  }
  const ex = nx ? gx / nx : 0;
  const ey = ny ? gy / ny : 0;
  return Math.sqrt((w * w * ex + h * h * ey) / variance) / (2 * Math.PI);
}
