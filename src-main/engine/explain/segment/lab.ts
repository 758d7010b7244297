// sRGB (0..255, D65) -> CIE L*a*b*, as skimage.color.rgb2lab: superpixels cluster in a space where
// Euclidean distance roughly matches perceived colour difference.
import type { PlanarImage } from '../../types.ts';

const XN = 0.95047;
const ZN = 1.08883;

const linear = (v: number) => {
  const c = v / 255;
  return c > 0.04045 ? ((c + 0.055) / 1.055) ** 2.4 : c / 12.92;
};
const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);

/** Planar Lab [3,H,W]: L in 0..100, a and b roughly -128..127. */
export function rgbToLab(image: PlanarImage): Float32Array {
  const plane = image.width * image.height;
  const d = image.data;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    const r = linear(d[p]);
    const g = linear(d[plane + p]);
    const b = linear(d[2 * plane + p]);
    const x = f((0.412453 * r + 0.357580 * g + 0.180423 * b) / XN);
    const y = f(0.212671 * r + 0.715160 * g + 0.072169 * b);
    const z = f((0.019334 * r + 0.119193 * g + 0.950227 * b) / ZN);
    out[p] = 116 * y - 16;
    out[plane + p] = 500 * (x - y);
    out[2 * plane + p] = 200 * (y - z);
  }
  return out;
}
