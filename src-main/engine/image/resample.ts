// Antialiased bilinear resampling of 8-bit RGB with the exact arithmetic of Pillow's Image.resize(BILINEAR)
// (separable triangle filter widened by the scale, 22-bit fixed point, horizontal pass first). Models are
// trained and evaluated on Pillow-resized images, so matching it keeps predictions identical to the reference.
const PRECISION_BITS = 32 - 8 - 2;

interface Coeffs { bounds: Int32Array; weights: Int32Array; ksize: number }

function coefficients(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 1 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
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
      weights[xx * ksize + x] = Math.trunc(w < 0 ? w * (1 << PRECISION_BITS) - 0.5 : w * (1 << PRECISION_BITS) + 0.5);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, weights, ksize };
}

const clip8 = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : v);

/** Resizes interleaved RGB (3 bytes per pixel). */
export function resizeBilinear(src: Uint8Array, width: number, height: number, outW: number, outH: number): Uint8Array {
  let cur = src;
  let cw = width;
  if (outW !== width) {
    const { bounds, weights, ksize } = coefficients(width, outW);
    const out = new Uint8Array(outW * height * 3);
    for (let y = 0; y < height; y++) {
      const row = y * width * 3;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = bounds[xx * 2];
        const xmax = bounds[xx * 2 + 1];
        let r = 1 << (PRECISION_BITS - 1), g = r, b = r;
        for (let x = 0; x < xmax; x++) {
          const w = weights[xx * ksize + x];
          const p = row + (x + xmin) * 3;
          r += cur[p] * w; g += cur[p + 1] * w; b += cur[p + 2] * w;
        }
        const o = (y * outW + xx) * 3;
        out[o] = clip8(Math.floor(r / (1 << PRECISION_BITS)));
        out[o + 1] = clip8(Math.floor(g / (1 << PRECISION_BITS)));
        out[o + 2] = clip8(Math.floor(b / (1 << PRECISION_BITS)));
      }
    }
    cur = out;
    cw = outW;
  }
  if (outH !== height) {
    const { bounds, weights, ksize } = coefficients(height, outH);
    const out = new Uint8Array(cw * outH * 3);
    for (let yy = 0; yy < outH; yy++) {
      const ymin = bounds[yy * 2];
      const ymax = bounds[yy * 2 + 1];
      for (let x = 0; x < cw; x++) {
        let r = 1 << (PRECISION_BITS - 1), g = r, b = r;
        for (let y = 0; y < ymax; y++) {
          const w = weights[yy * ksize + y];
          const p = ((y + ymin) * cw + x) * 3;
          r += cur[p] * w; g += cur[p + 1] * w; b += cur[p + 2] * w;
        }
        const o = (yy * cw + x) * 3;
        out[o] = clip8(Math.floor(r / (1 << PRECISION_BITS)));
        out[o + 1] = clip8(Math.floor(g / (1 << PRECISION_BITS)));
        out[o + 2] = clip8(Math.floor(b / (1 << PRECISION_BITS)));
      }
    }
    cur = out;
  }
  return cur === src ? src.slice() : cur;
}

/** Copies a rectangle out of interleaved RGB. */
export function cropRgb(src: Uint8Array, width: number, x0: number, y0: number, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) out.set(src.subarray(((y + y0) * width + x0) * 3, ((y + y0) * width + x0 + w) * 3), y * w * 3);
  return out;
}
