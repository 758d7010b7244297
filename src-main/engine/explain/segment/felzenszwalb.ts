// Felzenszwalb-Huttenlocher graph segmentation (IJCV 2004, as skimage.segmentation.felzenszwalb): 8-connected
// pixel graph weighted by RGB distance after a Gaussian blur; edges taken in increasing weight merge two
// components when the weight is at most both components' internal difference + scale/size. Small components
// are then merged into a neighbour. Since users ask for a number of segments, `felzenszwalbSegments`
// searches the scale that gives about that many.
import type { PlanarImage } from '../../types.ts';
import { SaliencyError } from '../../types.ts';
import { gaussianBlurPlane } from '../perturb/masking.ts';
import { checkSegmentCount, relabel, type Segmentation } from './segmentation.ts';

export interface FelzenszwalbOptions {
  /** Higher = larger segments (the paper's k, in 0..255 colour units). */
  scale: number;
  sigma?: number;
  minSize?: number;
}

/** The pixel graph with edges sorted by weight (independent of scale, so reused across a scale search). */
interface Graph { a: Int32Array; b: Int32Array; w: Float32Array; n: number; width: number; height: number }

function buildGraph(image: PlanarImage, sigma: number): Graph {
  const { width: W, height: H } = image;
  const N = W * H;
  const smooth = new Float32Array(3 * N);
  for (let c = 0; c < 3; c++) {
    const src = image.data.subarray(c * N, (c + 1) * N);
    if (sigma > 0) gaussianBlurPlane(src, W, H, sigma, smooth.subarray(c * N, (c + 1) * N));
    else smooth.set(src, c * N);
  }
  if (4 * N >= 2 ** 22) throw new SaliencyError(`image of ${W}x${H} is too large for felzenszwalb segmentation`, 'BAD_SETTING');
  const ea: number[] = [];
  const eb: number[] = [];
  const ew: number[] = [];
  const add = (p: number, q: number) => {
    const d0 = smooth[p] - smooth[q];
    const d1 = smooth[N + p] - smooth[N + q];
    const d2 = smooth[2 * N + p] - smooth[2 * N + q];
    ea.push(p); eb.push(q); ew.push(Math.sqrt(d0 * d0 + d1 * d1 + d2 * d2));
  };
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const p = y * W + x;
    if (x + 1 < W) add(p, p + 1);
    if (y + 1 < H) add(p, p + W);
    if (x + 1 < W && y + 1 < H) add(p, p + W + 1);
    if (x + 1 < W && y > 0) add(p, p - W + 1);
  }
  // Numeric typed-array sort of packed keys (weight quantised to 1e-3, then edge index): fast and stable.
  const keys = new Float64Array(ew.length);
  for (let i = 0; i < ew.length; i++) keys[i] = Math.round(ew[i] * 1000) * 2 ** 22 + i;
  keys.sort();
  const order = Array.from(keys, (k) => k % 2 ** 22);
  return {
    a: Int32Array.from(order, (i) => ea[i]), b: Int32Array.from(order, (i) => eb[i]), w: Float32Array.from(order, (i) => ew[i]),
    n: N, width: W, height: H,
  };
}

function segmentGraph(g: Graph, scale: number, minSize: number): Segmentation {
  const parent = new Int32Array(g.n);
  const size = new Int32Array(g.n).fill(1);
  const thresh = new Float64Array(g.n).fill(scale);
  for (let i = 0; i < g.n; i++) parent[i] = i;
  const find = (x: number) => {
    while (parent[x] !== x) { parent[x] = parent[parent[x]]; x = parent[x]; }
    return x;
  };
  const union = (ra: number, rb: number, w: number) => {
    if (size[ra] < size[rb]) [ra, rb] = [rb, ra];
    parent[rb] = ra;
    size[ra] += size[rb];
    thresh[ra] = w + scale / size[ra];
  };
  for (let e = 0; e < g.w.length; e++) {
    const ra = find(g.a[e]);
    const rb = find(g.b[e]);
    if (ra !== rb && g.w[e] <= thresh[ra] && g.w[e] <= thresh[rb]) union(ra, rb, g.w[e]);
  }
  for (let e = 0; e < g.w.length; e++) {
    const ra = find(g.a[e]);
    const rb = find(g.b[e]);
    if (ra !== rb && (size[ra] < minSize || size[rb] < minSize)) union(ra, rb, g.w[e]);
  }
  const raw = new Int32Array(g.n);
  for (let i = 0; i < g.n; i++) raw[i] = find(i);
  return relabel(g.width, g.height, raw);
}

export function felzenszwalb(image: PlanarImage, opts: FelzenszwalbOptions): Segmentation {
  if (!(opts.scale > 0)) throw new SaliencyError(`scale must be positive (got ${opts.scale})`, 'BAD_SETTING');
  return segmentGraph(buildGraph(image, opts.sigma ?? 0.8), opts.scale, opts.minSize ?? 20);
}

/** Felzenszwalb with the scale searched (bisection in log scale) to give about `segments` segments. */
export function felzenszwalbSegments(image: PlanarImage, segments: number, sigma = 0.8): Segmentation {
  checkSegmentCount(segments, image.width, image.height);
  const g = buildGraph(image, sigma);
  const minSize = Math.max(1, Math.floor((0.25 * g.n) / segments));
  // Counts fall as the scale grows; stop once within 10% of the request.
  let lo = Math.log(1);
  let hi = Math.log(1e5);
  let best: Segmentation | null = null;
  for (let it = 0; it < 12; it++) {
    const mid = (lo + hi) / 2;
    const s = segmentGraph(g, Math.exp(mid), minSize);
    if (!best || Math.abs(s.count - segments) < Math.abs(best.count - segments)) best = s;
    if (Math.abs(s.count - segments) <= Math.max(1, 0.1 * segments)) break;
    if (s.count > segments) lo = mid; else hi = mid;
  }
  return best!;
}
