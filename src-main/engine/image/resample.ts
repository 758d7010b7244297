// Antialiased bilinear resampling of 8-bit RGB with the exact arithmetic of Pillow's Image.resize(BILINEAR)
// (separable triangle filter widened by the scale, 22-bit fixed point, horizontal pass first). Models are
// trained and evaluated on Pillow-resized images, so matching it keeps predictions identical to the reference.
import { SaliencyError } from '../types.ts';

const PRECISION_BITS = 32 - 8 - 2;

interface Coeffs { bounds: Int32Array; weights: Int32Array; ksize: number }

/** Filter taps of output pixels from..from+count-1 (of outSize): only those are computed. */
function coefficients(inSize: number, outSize: number, from = 0, count = outSize): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 1 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(count * 2);
  const weights = new Int32Array(count * ksize);
  const k = new Float64Array(ksize);
  for (let i = 0; i < count; i++) {
    const xx = from + i;
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) * ss);
      const w = t < 1 ? 1 - t : 0;
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x] / ww : k[x];
      weights[i * ksize + x] = Math.trunc(w < 0 ? w * (1 << PRECISION_BITS) - 0.5 : w * (1 << PRECISION_BITS) + 0.5);
    }
    bounds[i * 2] = xmin;
    bounds[i * 2 + 1] = xmax;
  }
  return { bounds, weights, ksize };
}

const clip8 = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : v);

/** Pixels the horizontal pass may hold at once (the rows the crop needs x the crop's width). */
export const MAX_INTERMEDIATE_PIXELS = 64_000_000;

/** Resizes interleaved RGB (3 bytes per pixel). */
export function resizeBilinear(src: Uint8Array, width: number, height: number, outW: number, outH: number): Uint8Array {
  return resizeBilinearRegion(src, width, height, outW, outH, { x: 0, y: 0, width: outW, height: outH });
}

/**
 * The region (x, y, width, height) of the image resized to outW x outH, computed without the rest of the resized
 * image: only the crop's output pixels and the input rows they need are resampled. Bit-identical to resizing the
 * whole image and cropping (the taps of each output pixel do not depend on the others), so a 20000x1 image whose
 * resized size would be 5,120,000x256 costs what a normal image costs.
 */
export function resizeBilinearRegion(
  src: Uint8Array, width: number, height: number, outW: number, outH: number,
  region: { x: number; y: number; width: number; height: number },
): Uint8Array {
  const { x: rx, y: ry, width: rw, height: rh } = region;
  if (rx < 0 || ry < 0 || rw < 1 || rh < 1 || rx + rw > outW || ry + rh > outH) {
    throw new RangeError(`region ${rw}x${rh}+${rx}+${ry} is outside the ${outW}x${outH} image`);
  }
  const vc = outH !== height ? coefficients(height, outH, ry, rh) : null;
  // The input rows the vertical pass reads.
  let r0 = ry;
  let r1 = ry + rh;
  if (vc) {
    r0 = Infinity; r1 = 0;
    for (let i = 0; i < rh; i++) { r0 = Math.min(r0, vc.bounds[2 * i]); r1 = Math.max(r1, vc.bounds[2 * i] + vc.bounds[2 * i + 1]); }
  }
  const rows = r1 - r0;
  if (rw * rows > MAX_INTERMEDIATE_PIXELS) {
    throw new SaliencyError(`resampling would hold ${rw}x${rows} intermediate pixels, over the limit of ${MAX_INTERMEDIATE_PIXELS}`, 'IMAGE_TOO_LARGE');
  }
  // Horizontal pass: rows r0..r1-1, output columns rx..rx+rw-1.
  const mid = new Uint8Array(rw * rows * 3);
  if (outW !== width) {
    const { bounds, weights, ksize } = coefficients(width, outW, rx, rw);
    for (let y = 0; y < rows; y++) {
      const row = (y + r0) * width * 3;
      for (let i = 0; i < rw; i++) {
        const xmin = bounds[i * 2];
        const xmax = bounds[i * 2 + 1];
        let r = 1 << (PRECISION_BITS - 1), g = r, b = r;
        for (let x = 0; x < xmax; x++) {
          const w = weights[i * ksize + x];
          const p = row + (x + xmin) * 3;
          r += src[p] * w; g += src[p + 1] * w; b += src[p + 2] * w;
        }
        const o = (y * rw + i) * 3;
        mid[o] = clip8(Math.floor(r / (1 << PRECISION_BITS)));
        mid[o + 1] = clip8(Math.floor(g / (1 << PRECISION_BITS)));
        mid[o + 2] = clip8(Math.floor(b / (1 << PRECISION_BITS)));
      }
    }
  } else {
    for (let y = 0; y < rows; y++) mid.set(src.subarray(((y + r0) * width + rx) * 3, ((y + r0) * width + rx + rw) * 3), y * rw * 3);
  }
  if (!vc) return mid;
  // Vertical pass: output rows ry..ry+rh-1 from the rows held.
  const { bounds, weights, ksize } = vc;
  const out = new Uint8Array(rw * rh * 3);
  for (let i = 0; i < rh; i++) {
    const ymin = bounds[i * 2] - r0;
    const ymax = bounds[i * 2 + 1];
    for (let x = 0; x < rw; x++) {
      let r = 1 << (PRECISION_BITS - 1), g = r, b = r;
      for (let y = 0; y < ymax; y++) {
        const w = weights[i * ksize + y];
        const p = ((y + ymin) * rw + x) * 3;
        r += mid[p] * w; g += mid[p + 1] * w; b += mid[p + 2] * w;
      }
      const o = (i * rw + x) * 3;
      out[o] = clip8(Math.floor(r / (1 << PRECISION_BITS)));
      out[o + 1] = clip8(Math.floor(g / (1 << PRECISION_BITS)));
      out[o + 2] = clip8(Math.floor(b / (1 << PRECISION_BITS)));
    }
  }
  return out;
}
