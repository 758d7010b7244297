// Regions for region-perturbation metrics: square patches of a grid, or the segments of a label map
// (e.g. superpixels from LIME's segmentation).
import type { Map2D } from '../types.ts';
import { SaliencyError } from '../types.ts';
import { relevanceOrder } from './rank.ts';
import type { Random } from '../util/random.ts';

export interface Regions {
  /** Pixel indices of each region. */
  pixels: Int32Array[];
  description: string;
}

export function gridRegions(width: number, height: number, patch: number): Regions {
  if (!Number.isInteger(patch) || patch < 1) throw new SaliencyError(`patch size ${patch} must be a positive integer`, 'BAD_SETTING');
  const pixels: Int32Array[] = [];
  for (let y0 = 0; y0 < height; y0 += patch) {
    for (let x0 = 0; x0 < width; x0 += patch) {
      const list: number[] = [];
      for (let y = y0; y < Math.min(height, y0 + patch); y++) for (let x = x0; x < Math.min(width, x0 + patch); x++) list.push(y * width + x);
      pixels.push(Int32Array.from(list));
    }
  }
  return { pixels, description: `${patch}x${patch} patches` };
}

/** One region per distinct label (labels are any integers, one per pixel). */
export function segmentRegions(labels: ArrayLike<number>, width: number, height: number): Regions {
  if (labels.length !== width * height) throw new SaliencyError(`segment labels have ${labels.length} entries, the image has ${width * height} pixels`, 'BAD_INPUT');
  const byLabel = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    let list = byLabel.get(l);
    if (!list) byLabel.set(l, list = []);
    list.push(i);
  }
  return { pixels: [...byLabel.values()].map((l) => Int32Array.from(l)), description: `${byLabel.size} segments` };
}

/**
 * Regions ordered by their total relevance (sum over their pixels: the evidence a region holds), most relevant
 * first or last; ties in seeded order. Returns the pixel order and the cumulative pixel count after each region.
 */
export function regionOrder(map: Map2D, regions: Regions, random: Random, mostRelevantFirst: boolean): { order: Int32Array; cumulative: number[] } {
  const sums = regions.pixels.map((px) => {
    let s = 0;
    for (const p of px) s += Number.isNaN(map.data[p]) ? 0 : map.data[p];
    return s;
  });
  const ranked = relevanceOrder(sums, random, mostRelevantFirst);
  const order = new Int32Array(map.data.length);
  const cumulative = [0];
  let at = 0;
  for (const r of ranked) {
    order.set(regions.pixels[r], at);
    at += regions.pixels[r].length;
    cumulative.push(at);
  }
  return { order: order.subarray(0, at), cumulative };
}
