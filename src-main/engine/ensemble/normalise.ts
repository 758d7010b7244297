// Normalisers that bring maps from different methods onto comparable scales before they are combined.
// Every normaliser ignores NaN when computing its statistics and leaves NaN pixels NaN; a constant map (no
// information about where the evidence is) becomes all zeros, except under 'rank' where every pixel ties at 0.5.
import { SaliencyError } from '../types.ts';
import { minMaxNormalise } from '../util/math.ts';
import { averageRanks, moments, quantileSorted, sortedFinite } from './stats.ts';
import { NORMALISER_NAMES, SIGN_POLICIES, type NormaliseOptions, type NormaliserName, type SignPolicy } from './types.ts';

/** Applies the negative-evidence policy: keep signed, clip to positive, or take the absolute value. */
export function applySign(data: Float32Array, sign: SignPolicy): Float32Array {
  if (sign === 'signed') return data.slice();
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = sign === 'positive' ? (data[i] > 0 ? data[i] : data[i] < 0 ? 0 : data[i]) : Math.abs(data[i]);
  return out;
}

function hasNegative(data: Float32Array): boolean {
  for (const v of data) if (v < 0) return true;
  return false;
}

function maxAbs(data: Float32Array): number {
  let m = 0;
  for (const v of data) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  return m;
}

/** out = (x - centre) / scale, NaN kept; a zero or undefined scale gives zeros (no spread, no information). */
function affine(data: Float32Array, centre: number, scale: number): Float32Array {
  const out = new Float32Array(data.length);
  if (!(scale > 0) || !Number.isFinite(scale)) {
    for (let i = 0; i < data.length; i++) out[i] = Number.isNaN(data[i]) ? NaN : 0;
    return out;
  }
  for (let i = 0; i < data.length; i++) out[i] = (data[i] - centre) / scale;
  return out;
}

function clip(data: Float32Array, lo: number, hi: number): Float32Array {
  return data.map((v) => (Number.isNaN(v) ? v : Math.min(Math.max(v, lo), hi)));
}

/** Min-max to [0,1]; under 'signed', a map with negative values is divided by max|x| instead, so zero stays
 * zero and the sign of the evidence survives (range [-1,1]). */
function minMax(data: Float32Array, sign: SignPolicy): Float32Array {
  if (sign === 'signed' && hasNegative(data)) return affine(data, 0, maxAbs(data));
  const out = minMaxNormalise(data);
  for (let i = 0; i < data.length; i++) if (Number.isNaN(data[i])) out[i] = NaN;
  return out;
}

/** Clips to the [low, high] percentiles, then scales to [0,1] (or, signed with negatives, clips |x| at its
 * high percentile and divides by it). Removes the few extreme pixels that otherwise set the whole scale. */
function percentile(data: Float32Array, sign: SignPolicy, low: number, high: number): Float32Array {
  if (sign === 'signed' && hasNegative(data)) {
    const c = quantileSorted(sortedFinite(data.map(Math.abs)), high / 100);
    return affine(clip(data, -c, c), 0, c);
  }
  const sorted = sortedFinite(data);
  const lo = quantileSorted(sorted, low / 100);
  const hi = quantileSorted(sorted, high / 100);
  return affine(clip(data, lo, hi), lo, hi - lo);
}

function zScore(data: Float32Array): Float32Array {
  const m = moments(data);
  return affine(data, m.mean, m.std);
}

/**
 * (x - median) / spread, where spread is IQR/1.349 (a standard deviation for Gaussian data). Saliency maps are
 * often mostly zero, so the IQR can be 0 for a map that does have a peak: then MAD*1.4826, then the standard
 * deviation are used instead.
 */
function robust(data: Float32Array): Float32Array {
  const sorted = sortedFinite(data);
  const median = quantileSorted(sorted, 0.5);
  let spread = (quantileSorted(sorted, 0.75) - quantileSorted(sorted, 0.25)) / 1.349;
  if (!(spread > 0)) spread = quantileSorted(sortedFinite(Array.from(sorted, (v) => Math.abs(v - median))), 0.5) * 1.4826;
  if (!(spread > 0)) spread = moments(data).std;
  return affine(data, median, spread);
}

/** Quantile transform: each pixel's average rank / (n-1), uniform on [0,1]; ties (a constant map) give 0.5. */
function rank(data: Float32Array): Float32Array {
  const ranks = averageRanks(data);
  let n = 0;
  for (const r of ranks) if (!Number.isNaN(r)) n++;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number.isNaN(ranks[i]) ? NaN : n > 1 ? ranks[i] / (n - 1) : 0.5;
  return out;
}

/** x / sqrt(mean(x^2)) (Quantus / Captum style): scale only, so sign and zero are kept. */
function secondMoment(data: Float32Array): Float32Array {
  return affine(data, 0, moments(data).rms);
}

export function checkNormaliseOptions(name: string, opts: NormaliseOptions): Required<NormaliseOptions> {
  if (!(NORMALISER_NAMES as readonly string[]).includes(name)) {
    throw new SaliencyError(`unknown normaliser "${name}"; known: ${NORMALISER_NAMES.join(', ')}`, 'BAD_SETTING');
  }
  const sign = opts.sign ?? 'signed';
  if (!(SIGN_POLICIES as readonly string[]).includes(sign)) {
    throw new SaliencyError(`unknown sign policy "${sign}"; known: ${SIGN_POLICIES.join(', ')}`, 'BAD_SETTING');
  }
  const low = opts.lowPercentile ?? 1;
  const high = opts.highPercentile ?? 99;
  if (!(low >= 0 && high <= 100 && low < high)) {
    throw new SaliencyError(`percentile bounds must satisfy 0 <= low < high <= 100, got ${low} and ${high}`, 'BAD_SETTING');
  }
  return { sign, lowPercentile: low, highPercentile: high };
}

/** The sign policy, then the named normaliser. Returns a new array; the input is not modified. */
export function normalise(data: Float32Array, name: NormaliserName, opts: NormaliseOptions = {}): Float32Array {
  const o = checkNormaliseOptions(name, opts);
  const x = applySign(data, o.sign);
  switch (name) {
    case 'minmax': return minMax(x, o.sign);
    case 'percentile': return percentile(x, o.sign, o.lowPercentile, o.highPercentile);
    case 'zscore': return zScore(x);
    case 'robust': return robust(x);
    case 'rank': return rank(x);
    case 'second-moment': return secondMoment(x);
    case 'none': return x;
  }
}
