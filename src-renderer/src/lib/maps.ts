// Decoding map payloads and colouring them. Sequential maps use the engine's colormaps (same tables as exported
// PNGs); signed maps use a diverging blue-white-red table with zero at the centre, so a map's sign is legible.
import type { MapDataT } from '../../../src-main/api/contract.ts';
import { colormapLut, type ColormapName } from '../../../src-main/engine/image/colormap.ts';

/** auto: signed maps (values on both sides of 0) diverging around 0, others min-max sequential. */
export type ViewScale = 'auto' | 'normalised' | 'raw';

export function decodeMap(m: MapDataT): Float32Array {
  const bin = atob(m.data);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

/** How a map's values become colours: the value range shown and whether it diverges around zero. */
export interface MapScale { lo: number; hi: number; diverging: boolean }

export function scaleOf(m: { min: number; max: number }, mode: ViewScale): MapScale {
  const signed = m.min < 0 && m.max > 0;
  if (mode === 'raw' || (mode === 'auto' && signed)) {
    const a = Math.max(Math.abs(m.min), Math.abs(m.max)) || 1;
    return { lo: -a, hi: a, diverging: true };
  }
  return { lo: m.min, hi: m.max > m.min ? m.max : m.min + 1e-9, diverging: false };
}

// Diverging table (matplotlib's RdBu_r end points through white): blue < 0 < red.
let divergingLut: Uint8Array | null = null;
function diverging(): Uint8Array {
  if (divergingLut) return divergingLut;
  const lo = [33, 102, 172], mid = [247, 247, 247], hi = [178, 24, 43];
  divergingLut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    const [a, b, u] = t < 0.5 ? [lo, mid, t * 2] : [mid, hi, (t - 0.5) * 2];
    for (let k = 0; k < 3; k++) divergingLut[i * 3 + k] = Math.round(a[k] + (b[k] - a[k]) * u);
  }
  return divergingLut;
}

export function lutOf(colormap: ColormapName, s: MapScale): Uint8Array {
  return s.diverging ? diverging() : colormapLut(colormap);
}

/** CSS gradient of a scale's colours, for the colour bar. */
export function gradientCss(colormap: ColormapName, s: MapScale): string {
  const lut = lutOf(colormap, s);
  const stops = Array.from({ length: 11 }, (_, i) => {
    const j = Math.round((i / 10) * 255) * 3;
    return `rgb(${lut[j]},${lut[j + 1]},${lut[j + 2]}) ${i * 10}%`;
  });
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

export function paintMap(canvas: HTMLCanvasElement, m: MapDataT, values: Float32Array, colormap: ColormapName, opacity: number, s: MapScale): void {
  canvas.width = m.width;
  canvas.height = m.height;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(m.width, m.height);
  const lut = lutOf(colormap, s);
  const a = Math.round(Math.min(1, Math.max(0, opacity)) * 255);
  const span = s.hi - s.lo;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) { img.data[i * 4 + 3] = 0; continue; }
    const t = Math.min(1, Math.max(0, (v - s.lo) / span));
    const j = Math.round(t * 255) * 3;
    img.data[i * 4] = lut[j]; img.data[i * 4 + 1] = lut[j + 1]; img.data[i * 4 + 2] = lut[j + 2];
    // Weak evidence lets the image show through: alpha grows with the value (with |v| for signed maps).
    const w = s.diverging ? Math.abs(t - 0.5) * 2 : t;
    img.data[i * 4 + 3] = Math.round(a * (0.25 + 0.75 * w));
  }
  ctx.putImageData(img, 0, 0);
}

/** Sorted finite values, for percentiles of the hover readout. */
export function sortedValues(values: Float32Array): Float32Array {
  return values.filter((v) => !Number.isNaN(v)).sort();
}

/** Percentage of the map's values at or below v. */
export function percentile(sorted: Float32Array, v: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid] <= v) lo = mid + 1; else hi = mid; }
  return sorted.length ? (lo / sorted.length) * 100 : 0;
}

/** A number in at most 3 significant digits, without exponent noise for ordinary magnitudes. */
export function fmtValue(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(2) : Number(v.toPrecision(3)).toString();
}

export { decodeRuns, encodeRuns } from '../../../src-main/api/mask-runs.ts';
