// Small numeric helpers used across the engine.

export function softmaxRow(src: Float32Array, offset: number, k: number, out: Float32Array): void {
  let max = -Infinity;
  for (let i = 0; i < k; i++) max = Math.max(max, src[offset + i]);
  let sum = 0;
  for (let i = 0; i < k; i++) {
    const e = Math.exp(src[offset + i] - max);
    out[offset + i] = e;
    sum += e;
  }
  for (let i = 0; i < k; i++) out[offset + i] /= sum;
}

/** Indices of the k largest values, largest first. */
export function topK(values: ArrayLike<number>, k: number, offset = 0, length = values.length - offset): number[] {
  const idx = Array.from({ length }, (_, i) => i);
  idx.sort((a, b) => values[offset + b] - values[offset + a] || a - b);
  return idx.slice(0, k);
}

export function argmax(values: ArrayLike<number>, offset = 0, length = values.length - offset): number {
  let best = 0;
  for (let i = 1; i < length; i++) if (values[offset + i] > values[offset + best]) best = i;
  return best;
}

/** Min-max normalise to [0,1]; a constant map becomes all zeros. */
export function minMaxNormalise(data: Float32Array): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of data) {
    if (Number.isNaN(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const out = new Float32Array(data.length);
  const range = hi - lo;
  if (!(range > 0)) return out;
  for (let i = 0; i < data.length; i++) out[i] = (data[i] - lo) / range;
  return out;
}
