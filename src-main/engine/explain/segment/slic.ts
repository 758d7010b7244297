// SLIC superpixels (Achanta et al. 2012, as skimage.segmentation.slic): k-means in (L,a,b,y,x) with each
// centre searching only a 2S x 2S window, S = sqrt(pixels / n_segments). Centres start on a regular grid.
// Distance = |lab - lab_c|^2 + (compactness / S)^2 * |xy - xy_c|^2, so higher compactness = squarer cells.
// Afterwards, connectivity is enforced: fragments smaller than minSizeFactor * N/k join an adjacent segment.
import type { PlanarImage } from '../../types.ts';
import { SaliencyError } from '../../types.ts';
import { rgbToLab } from './lab.ts';
import { checkSegmentCount, relabel, type Segmentation } from './segmentation.ts';

export interface SlicOptions {
  /** Approximate number of superpixels (n_segments). */
  segments: number;
  /** Colour vs space trade-off (skimage default 10 for Lab). */
  compactness?: number;
  iterations?: number;
  enforceConnectivity?: boolean;
  minSizeFactor?: number;
}

export function slic(image: PlanarImage, opts: SlicOptions): Segmentation {
  const { width: W, height: H } = image;
  const k = opts.segments;
  checkSegmentCount(k, W, H);
  const m = opts.compactness ?? 10;
  if (!(m > 0)) throw new SaliencyError(`compactness must be positive (got ${m})`, 'BAD_SETTING');
  const iterations = opts.iterations ?? 10;
  const N = W * H;
  const lab = rgbToLab(image);

  // Grid-seeded centres: cols x rows close to k, cells near-square.
  const cols = Math.max(1, Math.min(W, Math.round(Math.sqrt((k * W) / H))));
  const rows = Math.max(1, Math.min(H, Math.round(k / cols)));
  const nc = rows * cols;
  const S = Math.sqrt(N / nc);
  const C = new Float64Array(nc * 5); // L a b y x
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const y = Math.min(H - 1, Math.floor(((r + 0.5) * H) / rows));
      const x = Math.min(W - 1, Math.floor(((c + 0.5) * W) / cols));
      const i = (r * cols + c) * 5;
      const p = y * W + x;
      C.set([lab[p], lab[N + p], lab[2 * N + p], y, x], i);
    }
  }

  const ratio = (m / S) ** 2;
  const win = Math.ceil(S);
  const label = new Int32Array(N).fill(-1);
  const dist = new Float64Array(N);
  const acc = new Float64Array(nc * 6);
  for (let it = 0; it < iterations; it++) {
    dist.fill(Infinity);
    for (let c = 0; c < nc; c++) {
      const [cl, ca, cb, cy, cx] = C.subarray(c * 5, c * 5 + 5);
      const y0 = Math.max(0, Math.floor(cy - win));
      const y1 = Math.min(H - 1, Math.ceil(cy + win));
      const x0 = Math.max(0, Math.floor(cx - win));
      const x1 = Math.min(W - 1, Math.ceil(cx + win));
      for (let y = y0; y <= y1; y++) {
        const dy = (y - cy) ** 2;
        for (let x = x0; x <= x1; x++) {
          const p = y * W + x;
          const dl = lab[p] - cl;
          const da = lab[N + p] - ca;
          const db = lab[2 * N + p] - cb;
          const d = dl * dl + da * da + db * db + ratio * (dy + (x - cx) ** 2);
          if (d < dist[p]) { dist[p] = d; label[p] = c; }
        }
      }
    }
    // Move each centre to the mean of its pixels (a centre that lost all pixels stays put).
    acc.fill(0);
    for (let p = 0; p < N; p++) {
      const c = label[p];
      if (c < 0) continue;
      const i = c * 6;
      acc[i] += lab[p]; acc[i + 1] += lab[N + p]; acc[i + 2] += lab[2 * N + p];
      acc[i + 3] += Math.floor(p / W); acc[i + 4] += p % W; acc[i + 5]++;
    }
    for (let c = 0; c < nc; c++) {
      const n = acc[c * 6 + 5];
      if (n > 0) for (let j = 0; j < 5; j++) C[c * 5 + j] = acc[c * 6 + j] / n;
    }
  }
  // Windows cover the image, but guard anyway: unassigned pixels take their left/up neighbour's label.
  for (let p = 0; p < N; p++) if (label[p] < 0) label[p] = p > 0 ? label[p - 1] : 0;

  const raw = opts.enforceConnectivity === false ? label : enforceConnectivity(label, W, H, Math.floor((opts.minSizeFactor ?? 0.5) * (N / nc)));
  return relabel(W, H, raw);
}

/**
 * Splits every label into its 4-connected components, then merges components smaller than minSize into the
 * segment adjacent to their first pixel (already final, as components are visited in raster order).
 */
export function enforceConnectivity(label: Int32Array, W: number, H: number, minSize: number): Int32Array {
  const N = W * H;
  const out = new Int32Array(N).fill(-1);
  const stack = new Int32Array(N);
  const members = new Int32Array(N);
  let next = 0;
  for (let start = 0; start < N; start++) {
    if (out[start] >= 0) continue;
    const original = label[start];
    // The adjacent, already-labelled segment (left, else above) a small fragment would join.
    const adjacent = start % W > 0 ? out[start - 1] : start >= W ? out[start - W] : -1;
    let top = 0;
    let count = 0;
    stack[top++] = start;
    out[start] = next;
    while (top > 0) {
      const p = stack[--top];
      members[count++] = p;
      const x = p % W;
      const y = (p - x) / W;
      if (x > 0 && out[p - 1] < 0 && label[p - 1] === original) { out[p - 1] = next; stack[top++] = p - 1; }
      if (x < W - 1 && out[p + 1] < 0 && label[p + 1] === original) { out[p + 1] = next; stack[top++] = p + 1; }
      if (y > 0 && out[p - W] < 0 && label[p - W] === original) { out[p - W] = next; stack[top++] = p - W; }
      if (y < H - 1 && out[p + W] < 0 && label[p + W] === original) { out[p + W] = next; stack[top++] = p + W; }
    }
    if (count < minSize && adjacent >= 0) {
      for (let i = 0; i < count; i++) out[members[i]] = adjacent;
    } else {
      next++;
    }
  }
  return out;
}
