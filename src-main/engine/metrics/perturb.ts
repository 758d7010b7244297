// What removed pixels are replaced with (baselines), the blurred start image of insertion, and random maps.
// Built on the explainers' shared masking helpers so "black" or "blur" mean the same thing everywhere.
import type { Map2D, PlanarImage } from '../types.ts';
import { SaliencyError } from '../types.ts';
import { makeBaseline, makeModelBaseline } from '../explain/perturb/masking.ts';
import type { Classifier } from '../model/classifier.ts';
import { resizeMap } from '../image/upsample.ts';
import { presetZeroColour } from '../model/presets.ts';
import type { Random } from '../util/random.ts';

/**
 * - 'black': 0
 * - 'mean': the ImageNet mean colour (123.675, 116.28, 103.53): zero after torchvision normalisation, i.e. the
 *   zero substrate of the RISE reference code
 * - 'image-mean': this image's own mean colour
 * - 'blur': the image convolved with RISE's insertion kernel gkern(11, blurSigma) (default 5), see riseBlur
 * - 'zero': the colour the model's preprocessing maps to 0 (the explainers' 'zero'; = 'mean' for torchvision
 *   models, black for the unit preset, e.g. the MNIST demo)
 * - 'uniform': uniform noise in 0..255, seeded (Samek et al.'s AOPC perturbation)
 * - a number: that grey value
 */
export type Baseline = 'black' | 'mean' | 'image-mean' | 'zero' | 'blur' | 'uniform' | number;
export const BASELINES = ['black', 'mean', 'image-mean', 'zero', 'blur', 'uniform'] as const;

const IMAGENET_MEAN = [123.675, 116.28, 103.53];

export function parseBaseline(v: unknown, setting = 'baseline'): Baseline {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 255) return v;
  if (typeof v === 'string' && (BASELINES as readonly string[]).includes(v)) return v as Baseline;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return parseBaseline(Number(v), setting);
  throw new SaliencyError(`${setting} "${String(v)}" must be one of ${BASELINES.join(', ')} or a grey value 0..255`, 'BAD_SETTING');
}

/** The image every perturbed pixel is copied from ('zero' needs the model). */
export function baselineImage(image: PlanarImage, baseline: Baseline, random: Random, blurSigma = 5, model?: Classifier): PlanarImage {
  if (baseline === 'black') return makeBaseline(image, 'black');
  if (baseline === 'zero') {
    if (!model) throw new SaliencyError('the zero baseline needs the model', 'BAD_INPUT');
    return makeModelBaseline(image, 'zero', model);
  }
  if (baseline === 'image-mean') return makeBaseline(image, 'mean');
  if (baseline === 'blur') {
    if (!(blurSigma > 0)) return { ...image, data: image.data.slice() };
    return riseBlur(image, blurSigma, model ? presetZeroColour(model.info.preset) : IMAGENET_MEAN);
  }
  const plane = image.width * image.height;
  const data = new Float32Array(3 * plane);
  if (baseline === 'uniform') for (let i = 0; i < data.length; i++) data[i] = random.next() * 255;
  else for (let c = 0; c < 3; c++) data.fill(baseline === 'mean' ? IMAGENET_MEAN[c] : baseline, c * plane, (c + 1) * plane);
  return { width: image.width, height: image.height, data };
}

/**
 * RISE's gkern(klen, nsig) (eclique/RISE evaluation.py): scipy's gaussian_filter(sigma = nsig, truncate 4,
 * mode 'reflect') applied to a klen x klen delta, i.e. the outer product of this 1-D kernel. On 11 taps the
 * sigma-5 Gaussian is folded back at the edges, so the kernel is much flatter than its sigma says: its effective
 * sigma (standard deviation of the normalised taps) is ~3.1 px, not 5.
 */
export function riseKernel1d(nsig: number, klen = 11): Float64Array {
  const radius = Math.floor(4 * nsig + 0.5); // scipy: int(truncate * sigma + 0.5)
  const w = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let x = -radius; x <= radius; x++) sum += (w[x + radius] = Math.exp(-(x * x) / (2 * nsig * nsig)));
  const centre = Math.floor(klen / 2);
  const fold = (j: number) => { // scipy 'reflect': d c b a | a b c d | d c b a
    const m = ((j % (2 * klen)) + 2 * klen) % (2 * klen);
    return m < klen ? m : 2 * klen - 1 - m;
  };
  const k = new Float64Array(klen);
  for (let i = 0; i < klen; i++) for (let x = -radius; x <= radius; x++) if (fold(i + x) === centre) k[i] += w[x + radius] / sum;
  return k;
}

/**
 * Insertion's start image as RISE makes it: conv2d(x, gkern(11, nsig), padding = 5) per channel on the
 * normalised tensor. Its zero padding is the model's zero input (`zeroColour`, e.g. the ImageNet mean) here,
 * which gives the same result on our unnormalised pixels because the kernel sums to 1 and normalisation is
 * per-channel affine. (Until issue 14 this was a three-box approximation of a sigma-5 Gaussian with edges
 * clamped: effective sigma ~5.5 px, a much stronger blur than RISE's ~3.1 px.)
 */
export function riseBlur(image: PlanarImage, nsig: number, zeroColour: ArrayLike<number>, klen = 11): PlanarImage {
  const k = riseKernel1d(nsig, klen);
  const r = Math.floor(klen / 2);
  const { width: W, height: H } = image;
  const plane = W * H;
  const out = new Float32Array(3 * plane);
  const tmp = new Float64Array(plane);
  for (let c = 0; c < 3; c++) {
    const src = image.data.subarray(c * plane, (c + 1) * plane);
    const pad = zeroColour[c];
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let s = 0;
        for (let i = 0; i < klen; i++) { const xx = x + i - r; s += k[i] * (xx < 0 || xx >= W ? pad : src[y * W + xx]); }
        tmp[y * W + x] = s;
      }
    }
    // Separable: the horizontal pass of a padded row is still `pad` outside the image (the taps sum to 1).
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let s = 0;
        for (let i = 0; i < klen; i++) { const yy = y + i - r; s += k[i] * (yy < 0 || yy >= H ? pad : tmp[yy * W + x]); }
        out[c * plane + y * W + x] = s;
      }
    }
  }
  return { width: W, height: H, data: out };
}

/**
 * The chance-level control: uniform random relevance on a coarse grid of `grain` cells along the longer side,
 * upsampled bilinearly (grain 0: i.i.d. per pixel). A smooth random map has the spatial grain of an explanation;
 * a per-pixel one removes scattered single pixels, which is itself a strong out-of-distribution perturbation
 * (on SqueezeNet it beats Grad-CAM's deletion AUC on most images), so it measures artefacts more than chance.
 */
export function randomMap(width: number, height: number, random: Random, grain = 0): Map2D {
  if (grain > 0) {
    const gw = Math.max(1, Math.min(width, Math.round(width >= height ? grain : (grain * width) / height)));
    const gh = Math.max(1, Math.min(height, Math.round(height >= width ? grain : (grain * height) / width)));
    return resizeMap(randomMap(gw, gh, random, 0), width, height);
  }
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = random.next();
  return { width, height, data };
}

/** Checks that a map lies on the image's grid (metrics compare pixel by pixel). */
export function checkMapOnImage(map: Map2D, image: PlanarImage, what: string): void {
  if (map.width !== image.width || map.height !== image.height || map.data.length !== map.width * map.height) {
    throw new SaliencyError(`${what}: the map is ${map.width}x${map.height} but the model input is ${image.width}x${image.height}; pass the map on the model-input grid`, 'BAD_INPUT');
  }
}
