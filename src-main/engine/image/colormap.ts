// Colormaps for saliency maps, as 256-entry RGB lookup tables, and the scaling of a map to [0,1] before
// colouring. Pure (no Node imports): the renderer draws live overlays with the same tables the engine uses
// for exported PNGs.

export const COLORMAPS = ['viridis', 'turbo', 'jet', 'grey'] as const;
export type ColormapName = (typeof COLORMAPS)[number];
/** normalised: min-max per map. raw: signed, v / max|v| mapped to [0,1] so zero sits in the middle. */
export type ScaleMode = 'normalised' | 'raw';

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);
const poly = (c: number[], t: number) => c.reduceRight((acc, k) => acc * t + k, 0);

// Polynomial fits: matplotlib's viridis (Matt Zucker's fit, within 5/255 of the table) and Google's published turbo
// polynomial (it runs a little darker than the turbo table at both ends).
const VIRIDIS = [
  [0.2777273272234177, 0.1050930431085774, -0.3308618287255563, -4.634230498983486, 6.228269936347081, 4.776384997670288, -5.435455855934631],
  [0.005407344544966578, 1.404613529898575, 0.214847559468213, -5.799100973351585, 14.17993336680509, -13.74514537774601, 4.645852612178535],
  [0.3340998053353061, 1.384590162594685, 0.09509516302823659, -19.33244095627987, 56.69055260068105, -65.35303263337234, 26.3124352495832],
];
const TURBO = [
  [0.13572138, 4.6153926, -42.66032258, 132.13108234, -152.94239396, 59.28637943],
  [0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604],
  [0.1066733, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973],
];

function colour(name: ColormapName, t: number): [number, number, number] {
  switch (name) {
    case 'viridis': return [poly(VIRIDIS[0], t), poly(VIRIDIS[1], t), poly(VIRIDIS[2], t)];
    case 'turbo': return [poly(TURBO[0], t), poly(TURBO[1], t), poly(TURBO[2], t)];
    case 'jet': return [1.5 - Math.abs(4 * t - 3), 1.5 - Math.abs(4 * t - 2), 1.5 - Math.abs(4 * t - 1)];
    case 'grey': return [t, t, t];
  }
}

const luts = new Map<ColormapName, Uint8Array>();

/** 256 x RGB table of a colormap. */
export function colormapLut(name: ColormapName): Uint8Array {
  if (!COLORMAPS.includes(name)) throw new Error(`unknown colormap "${name}"; known: ${COLORMAPS.join(', ')}`);
  let lut = luts.get(name);
  if (!lut) {
    lut = new Uint8Array(256 * 3);
    for (let i = 0; i < 256; i++) {
      const c = colour(name, i / 255);
      for (let k = 0; k < 3; k++) lut[i * 3 + k] = Math.round(clamp01(c[k]) * 255);
    }
    luts.set(name, lut);
  }
  return lut;
}

/** Minimum and maximum of a map, NaN ignored (pixels the model never saw). */
export function mapRange(data: ArrayLike<number>): { lo: number; hi: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (Number.isNaN(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return { lo, hi };
}

/** Scales a map to [0,1] (NaN stays NaN: pixels the model never saw). */
export function scaleMap(data: ArrayLike<number>, mode: ScaleMode): Float32Array {
  const { lo, hi } = mapRange(data);
  const out = new Float32Array(data.length);
  const maxAbs = Math.max(Math.abs(lo), Math.abs(hi));
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (Number.isNaN(v)) out[i] = NaN;
    else if (mode === 'normalised') out[i] = hi > lo ? (v - lo) / (hi - lo) : 0;
    else out[i] = maxAbs > 0 ? 0.5 + v / (2 * maxAbs) : 0.5;
  }
  return out;
}

/**
 * RGBA pixels of a scaled map: colour from the table, alpha = opacity (0 where NaN). With `weightAlpha`, the
 * alpha also grows with the value so weak evidence lets the image show through.
 */
export function colouriseMap(scaled: Float32Array, name: ColormapName, opacity: number, out = new Uint8ClampedArray(scaled.length * 4), weightAlpha = false): Uint8ClampedArray {
  const lut = colormapLut(name);
  const a = Math.round(clamp01(opacity) * 255);
  for (let i = 0; i < scaled.length; i++) {
    const v = scaled[i];
    if (Number.isNaN(v)) { out[i * 4 + 3] = 0; continue; }
    const j = Math.round(clamp01(v) * 255) * 3;
    out[i * 4] = lut[j];
    out[i * 4 + 1] = lut[j + 1];
    out[i * 4 + 2] = lut[j + 2];
    out[i * 4 + 3] = weightAlpha ? Math.round(a * (0.25 + 0.75 * clamp01(v))) : a;
  }
  return out;
}
