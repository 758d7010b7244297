// The per-pixel loop shared by the pixelwise combiners, and option checking shared by every combiner.
import { SaliencyError } from '../../types.ts';
import type { MemberStack } from '../types.ts';

/**
 * Calls fn once per pixel with the members' finite values there and their weights (renormalised to sum 1
 * over those members). A member that is NaN at a pixel (e.g. outside the region it saw) is left out there
 * instead of poisoning the result; a pixel where every member is NaN stays NaN.
 */
export function perPixel(stack: MemberStack, fn: (values: number[], weights: number[]) => number): Float32Array {
  const n = stack.width * stack.height;
  const out = new Float32Array(n);
  const m = stack.maps.length;
  const values: number[] = [];
  const weights: number[] = [];
  for (let p = 0; p < n; p++) {
    values.length = 0;
    weights.length = 0;
    let wsum = 0;
    for (let i = 0; i < m; i++) {
      const v = stack.maps[i][p];
      if (Number.isNaN(v)) continue;
      values.push(v);
      weights.push(stack.weights[i]);
      wsum += stack.weights[i];
    }
    if (values.length === 0) { out[p] = NaN; continue; }
    if (wsum > 0) for (let i = 0; i < weights.length; i++) weights[i] /= wsum;
    else weights.fill(1 / weights.length);
    out[p] = fn(values, weights);
  }
  return out;
}

/** A numeric option with a default and a validity check; the error names the combiner, option and rule. */
export function numberOption(combiner: string, opts: Record<string, unknown>, key: string, fallback: number, ok: (v: number) => boolean, rule: string): number {
  const v = opts[key] ?? fallback;
  if (typeof v !== 'number' || !ok(v)) throw new SaliencyError(`ensemble ${combiner}: option ${key} must be ${rule}, got ${JSON.stringify(v)}`, 'BAD_SETTING');
  return v;
}

/** The weighted sum of one pixel's member values (weights already sum to 1). */
export function weightedSum(values: number[], weights: number[]): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] * weights[i];
  return s;
}
