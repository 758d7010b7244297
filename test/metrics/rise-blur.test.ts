// Insertion's blurred start image is RISE's: conv2d(x, gkern(11, 5), padding=5) on the normalised tensor.
import { describe, expect, it } from 'vitest';
import { baselineImage, riseBlur, riseKernel1d } from '../../src-main/engine/metrics/perturb.ts';
import { Random } from '../../src-main/engine/util/random.ts';

// scipy.ndimage.gaussian_filter(delta 11x11 at the centre, 5)[5] / its row sum (scipy 1.x, printed once).
const SCIPY_ROW = [0.08795815, 0.08889612, 0.0904742, 0.09219112, 0.09348939, 0.09398206, 0.09348939, 0.09219112, 0.0904742, 0.08889612, 0.08795815];
const SCIPY_CENTRE = 0.008832628216191647; // gkern(11, 5)[0, 0][5, 5]
const SCIPY_CORNER = 0.007736635408576913; // gkern(11, 5)[0, 0][0, 0]

describe('RISE insertion blur', () => {
  it('gkern(11, 5) as scipy builds it: folded sigma-5 Gaussian, sums to 1, effective sigma ~3.13 px', () => {
    const k = riseKernel1d(5);
    k.forEach((v, i) => expect(v).toBeCloseTo(SCIPY_ROW[i], 8));
    expect(k[5] * k[5]).toBeCloseTo(SCIPY_CENTRE, 14);
    expect(k[0] * k[0]).toBeCloseTo(SCIPY_CORNER, 14);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    let v = 0;
    k.forEach((w, i) => { v += w * (i - 5) ** 2; });
    expect(Math.sqrt(v)).toBeCloseTo(3.13, 2);
  });

  it('equals conv2d with zero padding on the normalised image', () => {
    const W = 17, H = 13, plane = W * H;
    const rng = new Random(3);
    const raw = Float32Array.from({ length: 3 * plane }, () => rng.next() * 255);
    const mean = [123.675, 116.28, 103.53], std = [58.395, 57.12, 57.375];
    const k = riseKernel1d(5);
    const got = riseBlur({ width: W, height: H, data: raw }, 5, mean);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
        let s = 0; // 2-D correlation with the outer-product kernel, zeros outside (torch conv2d, padding=5)
        for (let i = 0; i < 11; i++) for (let j = 0; j < 11; j++) {
          const yy = y + i - 5, xx = x + j - 5;
          if (yy >= 0 && yy < H && xx >= 0 && xx < W) s += k[i] * k[j] * (raw[c * plane + yy * W + xx] - mean[c]) / std[c];
        }
        expect(got.data[c * plane + y * W + x]).toBeCloseTo(s * std[c] + mean[c], 3);
      }
    }
  });

  it('is the metrics\' blur baseline (no model: padded with the ImageNet mean); blurSigma 0 = no blur', () => {
    const img = { width: 20, height: 20, data: Float32Array.from({ length: 1200 }, (_, i) => (i * 37) % 256) };
    const b = baselineImage(img, 'blur', new Random(1), 5);
    expect(Array.from(b.data)).toEqual(Array.from(riseBlur(img, 5, [123.675, 116.28, 103.53]).data));
    expect(Array.from(baselineImage(img, 'blur', new Random(1), 0).data)).toEqual(Array.from(img.data));
  });
});
