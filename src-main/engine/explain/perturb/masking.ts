// Perturbing an image: a baseline ("what hidden pixels become") and masks that mix image and baseline.
// Shared by every perturbation method so that "hidden" means the same thing everywhere.
import type { PlanarImage } from '../../types.ts';
import { SaliencyError } from '../../types.ts';
import type { Segmentation } from '../segment/segmentation.ts';
import type { Classifier } from '../../model/classifier.ts';
import { presetZeroColour } from '../../model/presets.ts';

/**
 * - 'segment-mean': each segment filled with its own mean colour (lime_image's default, hide_color=None)
 * - 'mean': the image's mean colour everywhere
 * - 'black': zeros; 'gray': 127.5
 * - 'zero': the colour the model's preprocessing maps to 0 (the ImageNet mean colour for ImageNet presets):
 *   what masking the normalised tensor with zeros gives, as RISE's and Score-CAM's reference code do
 * - 'blur': a Gaussian-like blur of the image (shap's blur masker), sigma = blurSigma (pixels)
 */
export type BaselineKind = 'segment-mean' | 'mean' | 'black' | 'gray' | 'zero' | 'blur';
export const BASELINE_KINDS: BaselineKind[] = ['segment-mean', 'mean', 'black', 'gray', 'zero', 'blur'];

export function checkBaselineKind(kind: unknown, setting = 'baseline'): BaselineKind {
  if (!BASELINE_KINDS.includes(kind as BaselineKind)) {
    throw new SaliencyError(`${setting} "${String(kind)}" is not one of ${BASELINE_KINDS.join(', ')}`, 'BAD_SETTING');
  }
  return kind as BaselineKind;
}

export interface BaselineOptions {
  /** Required for 'segment-mean'. */
  segments?: Segmentation;
  /** For 'blur'; default 10% of the longer side. */
  blurSigma?: number;
  /** For 'zero': the model's zero colour (presetZeroColour), RGB 0..255. */
  zeroColour?: [number, number, number];
}

/** makeBaseline with the model's zero colour at hand (for 'zero'). */
export function makeModelBaseline(image: PlanarImage, kind: BaselineKind, model: Classifier, opts: BaselineOptions = {}): PlanarImage {
  return makeBaseline(image, kind, { ...opts, zeroColour: presetZeroColour(model.info.preset) });
}

export function makeBaseline(image: PlanarImage, kind: BaselineKind, opts: BaselineOptions = {}): PlanarImage {
  const { width, height, data } = image;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  switch (kind) {
    case 'black':
      break;
    case 'gray':
      out.fill(127.5);
      break;
    case 'zero': {
      if (!opts.zeroColour) throw new SaliencyError('the zero baseline needs the model\'s zero colour');
      for (let c = 0; c < 3; c++) out.fill(opts.zeroColour[c], c * plane, (c + 1) * plane);
      break;
    }
    case 'mean':
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let p = 0; p < plane; p++) s += data[c * plane + p];
        out.fill(s / plane, c * plane, (c + 1) * plane);
      }
      break;
    case 'segment-mean': {
      const seg = opts.segments;
      if (!seg) throw new SaliencyError('the segment-mean baseline needs a segmentation');
      const sums = new Float64Array(seg.count * 3);
      const counts = new Float64Array(seg.count);
      for (let p = 0; p < plane; p++) {
        const l = seg.labels[p];
        counts[l]++;
        for (let c = 0; c < 3; c++) sums[l * 3 + c] += data[c * plane + p];
      }
      for (let p = 0; p < plane; p++) {
        const l = seg.labels[p];
        for (let c = 0; c < 3; c++) out[c * plane + p] = sums[l * 3 + c] / counts[l];
      }
      break;
    }
    case 'blur': {
      const sigma = opts.blurSigma ?? 0.1 * Math.max(width, height);
      if (!(sigma > 0)) throw new SaliencyError(`blur sigma must be positive (got ${sigma})`, 'BAD_SETTING');
      for (let c = 0; c < 3; c++) gaussianBlurPlane(data.subarray(c * plane, (c + 1) * plane), width, height, sigma, out.subarray(c * plane, (c + 1) * plane));
      break;
    }
    default:
      checkBaselineKind(kind);
  }
  return { width, height, data: out };
}

/** A new image: pixels of segments with on[label] = 1 from the image, the rest from the baseline. */
export function applySegmentMask(image: PlanarImage, baseline: PlanarImage, seg: Segmentation, on: ArrayLike<number>): PlanarImage {
  const plane = image.width * image.height;
  const out = baseline.data.slice();
  // Copy whole row runs of the visible segments (memcpy speed: this runs once per model evaluation).
  const { starts, ends, offsets } = segmentRuns(seg);
  for (let l = 0; l < seg.count; l++) {
    if (!on[l]) continue;
    for (let r = offsets[l]; r < offsets[l + 1]; r++) {
      const a = starts[r];
      const b = ends[r];
      for (let c = 0; c < 3; c++) out.set(image.data.subarray(c * plane + a, c * plane + b), c * plane + a);
    }
  }
  return { width: image.width, height: image.height, data: out };
}

interface Runs { starts: Int32Array; ends: Int32Array; offsets: Int32Array }
const runsCache = new WeakMap<Segmentation, Runs>();

/** Maximal horizontal runs [start,end) of equal label, grouped by label (offsets: label l owns runs offsets[l]..offsets[l+1]). */
function segmentRuns(seg: Segmentation): Runs {
  let runs = runsCache.get(seg);
  if (runs) return runs;
  const { width, height, labels } = seg;
  const perLabel: number[][] = Array.from({ length: seg.count }, () => []);
  for (let y = 0; y < height; y++) {
    let x = 0;
    while (x < width) {
      const p = y * width + x;
      const l = labels[p];
      let e = x + 1;
      while (e < width && labels[y * width + e] === l) e++;
      perLabel[l].push(p, y * width + e);
      x = e;
    }
  }
  const total = perLabel.reduce((a, r) => a + r.length / 2, 0);
  const starts = new Int32Array(total);
  const ends = new Int32Array(total);
  const offsets = new Int32Array(seg.count + 1);
  let k = 0;
  perLabel.forEach((r, l) => {
    offsets[l] = k;
    for (let i = 0; i < r.length; i += 2) { starts[k] = r[i]; ends[k] = r[i + 1]; k++; }
  });
  offsets[seg.count] = k;
  runs = { starts, ends, offsets };
  runsCache.set(seg, runs);
  return runs;
}

/** A new image: image * m + baseline * (1 - m) for a per-pixel mask m (H*W, usually in [0,1]). */
export function applyPixelMask(image: PlanarImage, baseline: PlanarImage, mask: ArrayLike<number>): PlanarImage {
  const plane = image.width * image.height;
  if (mask.length !== plane) throw new SaliencyError(`mask has ${mask.length} values for ${plane} pixels`);
  const out = new Float32Array(3 * plane);
  const a = image.data;
  const b = baseline.data;
  for (let c = 0; c < 3; c++) {
    const o = c * plane;
    for (let p = 0; p < plane; p++) {
      const m = mask[p];
      out[o + p] = b[o + p] + (a[o + p] - b[o + p]) * m;
    }
  }
  return { width: image.width, height: image.height, data: out };
}

/** Three box blurs approximate a Gaussian of the given sigma (edges clamped); O(pixels) for any sigma. */
export function gaussianBlurPlane(src: Float32Array, width: number, height: number, sigma: number, out: Float32Array): void {
  // Box radius so that three passes have variance sigma^2: 3 * ((2r+1)^2 - 1) / 12 = sigma^2.
  const r = Math.max(0, Math.round((Math.sqrt(4 * sigma * sigma + 1) - 1) / 2));
  const a = Float32Array.from(src);
  const b = new Float32Array(src.length);
  for (let pass = 0; pass < 3; pass++) {
    boxRows(a, b, width, height, r);
    boxCols(b, a, width, height, r);
  }
  out.set(a);
}

function boxRows(src: Float32Array, dst: Float32Array, w: number, h: number, r: number): void {
  const n = 2 * r + 1;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let s = 0;
    for (let k = -r; k <= r; k++) s += src[row + clamp(k, w)];
    for (let x = 0; x < w; x++) {
      dst[row + x] = s / n;
      s += src[row + clamp(x + r + 1, w)] - src[row + clamp(x - r, w)];
    }
  }
}

function boxCols(src: Float32Array, dst: Float32Array, w: number, h: number, r: number): void {
  const n = 2 * r + 1;
  for (let x = 0; x < w; x++) {
    let s = 0;
    for (let k = -r; k <= r; k++) s += src[clamp(k, h) * w + x];
    for (let y = 0; y < h; y++) {
      dst[y * w + x] = s / n;
      s += src[clamp(y + r + 1, h) * w + x] - src[clamp(y - r, h) * w + x];
    }
  }
}

const clamp = (i: number, n: number) => (i < 0 ? 0 : i >= n ? n - 1 : i);
