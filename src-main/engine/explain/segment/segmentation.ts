// A segmentation of the model-input grid into labelled regions (superpixels, grid cells), shared by every
// method that switches regions on and off (LIME, KernelSHAP, Partition SHAP, occlusion).
import type { Map2D } from '../../types.ts';
import { SaliencyError } from '../../types.ts';

export interface Segmentation {
  width: number;
  height: number;
  /** Row-major label per pixel, 0..count-1; every label occurs at least once. */
  labels: Int32Array;
  count: number;
}

/** Checks a requested number of segments against the image size. */
export function checkSegmentCount(n: number, width: number, height: number, setting = 'segments'): void {
  if (!Number.isInteger(n) || n < 1) throw new SaliencyError(`${setting} must be a whole number of at least 1 (got ${n})`, 'BAD_SETTING');
  if (n > width * height) {
    throw new SaliencyError(`${setting} is ${n}, more than the ${width * height} pixels of the ${width}x${height} image`, 'BAD_SETTING');
  }
}

/** A regular grid of about `segments` near-square cells (rows x cols chosen from the aspect ratio). */
export function gridSegmentation(width: number, height: number, segments: number): Segmentation {
  checkSegmentCount(segments, width, height);
  let cols = Math.max(1, Math.min(width, Math.round(Math.sqrt((segments * width) / height))));
  let rows = Math.max(1, Math.min(height, Math.round(segments / cols)));
  while (rows * cols > width * height) rows > 1 ? rows-- : cols--;
  const labels = new Int32Array(width * height);
  for (let y = 0; y < height; y++) {
    const r = Math.min(rows - 1, Math.floor((y * rows) / height));
    for (let x = 0; x < width; x++) labels[y * width + x] = r * cols + Math.min(cols - 1, Math.floor((x * cols) / width));
  }
  return { width, height, labels, count: rows * cols };
}

/** Renumbers labels to 0..count-1 in raster order of first appearance (drops unused labels). */
export function relabel(width: number, height: number, raw: Int32Array): Segmentation {
  const map = new Map<number, number>();
  const labels = new Int32Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    let l = map.get(raw[i]);
    if (l === undefined) { l = map.size; map.set(raw[i], l); }
    labels[i] = l;
  }
  return { width, height, labels, count: map.size };
}

/** Paints one value per segment onto the pixel grid (e.g. LIME weights -> map). */
export function segmentValuesToMap(seg: Segmentation, values: ArrayLike<number>): Map2D {
  if (values.length !== seg.count) throw new SaliencyError(`${values.length} values for ${seg.count} segments`);
  const data = new Float32Array(seg.labels.length);
  for (let i = 0; i < data.length; i++) data[i] = values[seg.labels[i]];
  return { width: seg.width, height: seg.height, data };
}

/** Pixel count of each segment. */
export function segmentSizes(seg: Segmentation): Int32Array {
  const sizes = new Int32Array(seg.count);
  for (const l of seg.labels) sizes[l]++;
  return sizes;
}
