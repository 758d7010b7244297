// Benchmark helpers: deterministic synthetic images (smooth colour fields with noise, no files needed), a
// mean with its 95% t-interval over repeats, and the sample images the evaluation scripts pick.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PlanarImage } from '../src-main/engine/types.ts';

/** The sample images' manifest rows (file name, true class index, ...) under `data`. */
export function manifestRows(data: string): string[][] {
  return readFileSync(path.join(data, 'imagenet-samples/manifest.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
}

/** `count` sample image file names evenly spread over the manifest (so over the classes); `offset` shifts the
 *  picks, so that tuning runs use images disjoint from the evaluation's. */
export function spreadSampleImages(data: string, count: number, offset = 0): string[] {
  const manifest = manifestRows(data).map((r) => r[0]);
  return Array.from({ length: count }, (_, i) => manifest[(Math.floor((i * manifest.length) / count) + offset) % manifest.length]);
}

export function mulberryImage(width: number, height: number, seed: number): PlanarImage {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  const f = [rnd() * 0.1, rnd() * 0.1, rnd() * 0.1];
  for (let c = 0; c < 3; c++) for (let p = 0; p < plane; p++) {
    const x = p % width;
    const y = Math.floor(p / width);
    data[c * plane + p] = Math.max(0, Math.min(255, 128 + 80 * Math.sin(f[c] * x + c) * Math.cos(f[(c + 1) % 3] * y) + 30 * (rnd() - 0.5)));
  }
  return { width, height, data };
}

// two-sided 95% Student t quantiles by degrees of freedom (n - 1)
const T95 = [NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];
export function meanCI(xs: number[]): string {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return `${mean.toFixed(2)} (n = 1)`;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const h = (T95[n - 1] ?? 1.96) * sd / Math.sqrt(n);
  return `${mean.toFixed(2)} [${(mean - h).toFixed(2)}, ${(mean + h).toFixed(2)}]`;
}
