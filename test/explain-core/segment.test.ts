// SLIC superpixels and the regular grid: counts, connectivity, edges followed, determinism, bad settings.
import { beforeAll, describe, expect, it } from 'vitest';
import { HAS_DATA, sample } from '../helpers/data.ts';
import { readImageFile, planTransform, toModelInput } from '../../src-main/engine/image/load-image.ts';
import { slic } from '../../src-main/engine/explain/segment/slic.ts';
import { felzenszwalb, felzenszwalbSegments } from '../../src-main/engine/explain/segment/felzenszwalb.ts';
import { gridSegmentation, segmentSizes, type Segmentation } from '../../src-main/engine/explain/segment/segmentation.ts';
import { rgbToLab } from '../../src-main/engine/explain/segment/lab.ts';
import type { PlanarImage } from '../../src-main/engine/types.ts';
import { SaliencyError } from '../../src-main/engine/types.ts';

/** Number of 4-connected components of each label (1 everywhere = connected segments). */
function componentsPerLabel(s: Segmentation): number[] {
  const seen = new Uint8Array(s.labels.length);
  const count = new Array(s.count).fill(0);
  for (let start = 0; start < seen.length; start++) {
    if (seen[start]) continue;
    const l = s.labels[start];
    count[l]++;
    const stack = [start];
    seen[start] = 1;
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % s.width;
      for (const q of [x > 0 ? p - 1 : -1, x < s.width - 1 ? p + 1 : -1, p - s.width, p + s.width]) {
        if (q >= 0 && q < seen.length && !seen[q] && s.labels[q] === l) { seen[q] = 1; stack.push(q); }
      }
    }
  }
  return count;
}

/** Mean perimeter/sqrt(area): lower = more compact (a square is 4). */
function roughness(s: Segmentation): number {
  const edges = new Float64Array(s.count);
  for (let y = 0; y < s.height; y++) for (let x = 0; x < s.width; x++) {
    const p = y * s.width + x;
    if (x + 1 < s.width && s.labels[p] !== s.labels[p + 1]) { edges[s.labels[p]]++; edges[s.labels[p + 1]]++; }
    if (y + 1 < s.height && s.labels[p] !== s.labels[p + s.width]) { edges[s.labels[p]]++; edges[s.labels[p + s.width]]++; }
  }
  const sizes = segmentSizes(s);
  let r = 0;
  for (let i = 0; i < s.count; i++) r += edges[i] / Math.sqrt(sizes[i]);
  return r / s.count;
}

function twoColour(width: number, height: number): PlanarImage {
  // Red left of a diagonal-ish wavy edge, blue right of it.
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const left = x < width / 2 + 10 * Math.sin(y / 9);
    const p = y * width + x;
    data[p] = left ? 220 : 20;
    data[plane + p] = 40;
    data[2 * plane + p] = left ? 30 : 210;
  }
  return { width, height, data };
}

describe('rgbToLab', () => {
  it('matches reference Lab values (white, black, pure red)', () => {
    const img: PlanarImage = { width: 3, height: 1, data: Float32Array.from([255, 0, 255, 255, 0, 0, 255, 0, 0]) };
    const lab = rgbToLab(img);
    expect(lab[0]).toBeCloseTo(100, 2); // white L
    expect(Math.abs(lab[3])).toBeLessThan(0.01); // white a
    expect(lab[1]).toBeCloseTo(0, 5); // black L
    expect(lab[2]).toBeCloseTo(53.24, 1); // red L (skimage: 53.24, 80.09, 67.20)
    expect(lab[5]).toBeCloseTo(80.09, 1);
    expect(lab[8]).toBeCloseTo(67.2, 1);
  });
});

describe('regular grid', () => {
  it('makes the requested number of equal cells and refuses bad counts', () => {
    const g = gridSegmentation(224, 224, 49);
    expect(g.count).toBe(49);
    const sizes = Array.from(segmentSizes(g));
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(2 * 224 / 7 + 1);
    expect(componentsPerLabel(g).every((c) => c === 1)).toBe(true);
    expect(() => gridSegmentation(224, 224, 0)).toThrow(SaliencyError);
    expect(() => gridSegmentation(4, 4, 17)).toThrow(/more than the 16 pixels/);
    expect(gridSegmentation(4, 4, 16).count).toBe(16);
  });
});

describe('SLIC', () => {
  it('follows a colour edge: almost no superpixel straddles it', () => {
    const img = twoColour(120, 90);
    const s = slic(img, { segments: 30, compactness: 10 });
    const plane = img.width * img.height;
    const red = new Float64Array(s.count);
    const sizes = segmentSizes(s);
    for (let p = 0; p < plane; p++) if (img.data[p] > 100) red[s.labels[p]]++;
    let mixed = 0;
    for (let i = 0; i < s.count; i++) mixed += Math.min(red[i], sizes[i] - red[i]);
    expect(mixed / plane).toBeLessThan(0.01);
    expect(componentsPerLabel(s).every((c) => c === 1)).toBe(true);
  });

  it('refuses 0 segments, more segments than pixels, and a non-positive compactness', () => {
    const img = twoColour(8, 8);
    expect(() => slic(img, { segments: 0 })).toThrow(/segments must be a whole number of at least 1/);
    expect(() => slic(img, { segments: 65 })).toThrow(/segments is 65, more than the 64 pixels/);
    expect(() => slic(img, { segments: 4, compactness: 0 })).toThrow(/compactness must be positive/);
  });

  describe.skipIf(!HAS_DATA)('on a real photo', () => {
    let photo: PlanarImage;
    beforeAll(async () => {
      const im = await readImageFile(sample('n01440764_tench.JPEG'));
      photo = toModelInput(im, planTransform(im.width, im.height, 224, 224, 'crop'));
    });

    it('gives about n_segments connected superpixels with contiguous labels, deterministically', () => {
      for (const n of [25, 100]) {
        const s = slic(photo, { segments: n });
        expect(s.count).toBeGreaterThanOrEqual(0.6 * n);
        expect(s.count).toBeLessThanOrEqual(1.3 * n);
        expect(Math.max(...s.labels)).toBe(s.count - 1);
        expect(Array.from(segmentSizes(s)).every((v) => v > 0)).toBe(true);
        expect(componentsPerLabel(s).every((c) => c === 1)).toBe(true);
        expect(Array.from(slic(photo, { segments: n }).labels)).toEqual(Array.from(s.labels));
      }
    });

    it('higher compactness gives more regular (less ragged) superpixels', () => {
      const loose = roughness(slic(photo, { segments: 60, compactness: 1 }));
      const tight = roughness(slic(photo, { segments: 60, compactness: 40 }));
      expect(tight).toBeLessThan(loose);
    });

    it('can skip connectivity enforcement (then fragments may remain)', () => {
      const raw = slic(photo, { segments: 100, compactness: 1, enforceConnectivity: false });
      expect(componentsPerLabel(raw).some((c) => c > 1)).toBe(true);
    });
  });
});

describe('Felzenszwalb', () => {
  it('follows a colour edge, and its scale controls the segment count', () => {
    const img = twoColour(120, 90);
    const s = felzenszwalbSegments(img, 12);
    expect(s.count).toBeGreaterThanOrEqual(2);
    const plane = img.width * img.height;
    const red = new Float64Array(s.count);
    const sizes = segmentSizes(s);
    for (let p = 0; p < plane; p++) if (img.data[p] > 100) red[s.labels[p]]++;
    let mixed = 0;
    for (let i = 0; i < s.count; i++) mixed += Math.min(red[i], sizes[i] - red[i]);
    expect(mixed / plane).toBeLessThan(0.02);
    // A flat two-colour image at a small scale: exactly the two colour regions.
    expect(felzenszwalb(img, { scale: 1, minSize: 1 }).count).toBe(2);
    expect(() => felzenszwalb(img, { scale: 0 })).toThrow(/scale must be positive/);
    expect(() => felzenszwalbSegments(img, 0)).toThrow(/segments must be a whole number/);
  });

  it.skipIf(!HAS_DATA)('gives about the requested number of segments on a photo', async () => {
    const im = await readImageFile(sample('n01440764_tench.JPEG'));
    const photo = toModelInput(im, planTransform(im.width, im.height, 224, 224, 'crop'));
    for (const n of [20, 60]) {
      const s = felzenszwalbSegments(photo, n);
      expect(Math.abs(s.count - n)).toBeLessThanOrEqual(0.3 * n);
      expect(Math.max(...s.labels)).toBe(s.count - 1);
    }
  });
});
