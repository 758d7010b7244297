// Central finite differences against the compiled gradient, accumulated in float64: the check behind the
// per-op tests and `saliency gradcheck`.
import { Random } from '../../util/random.ts';

export interface CheckResult {
  /** max |analytic - numeric| / max |numeric| over the checked directions or coordinates. */
  relError: number;
  analytic: number[];
  numeric: number[];
}

/** L(x) for many inputs at once (one row per input), in float64. */
export type Objective = (inputs: Float32Array[]) => Promise<Float64Array>;

export function relativeError(analytic: ArrayLike<number>, numeric: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < numeric.length; i++) {
    diff = Math.max(diff, Math.abs(analytic[i] - numeric[i]));
    scale = Math.max(scale, Math.abs(numeric[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Checks every coordinate of a small input: dL/dx_i against (L(x + h e_i) - L(x - h e_i)) / 2h. */
export async function coordinateCheck(objective: Objective, x: Float32Array, grad: Float32Array, h: number): Promise<CheckResult> {
  const inputs: Float32Array[] = [];
  for (let i = 0; i < x.length; i++) {
    for (const s of [1, -1]) {
      const y = x.slice();
      y[i] += s * h;
      inputs.push(y);
    }
  }
  const L = await objective(inputs);
  // The step actually taken in float32 (x + h may round).
  const numeric = Array.from(x, (v, i) => (L[2 * i] - L[2 * i + 1]) / (Math.fround(v + h) - Math.fround(v - h)));
  const analytic = Array.from(grad);
  return { relError: relativeError(analytic, numeric), analytic, numeric };
}

/**
 * Checks random directions (seeded): <dL/dx, v> against (L(x + h v) - L(x - h v)) / 2h, v a unit vector scaled
 * by `scale` (so h is a step in the units of x).
 */
export async function directionalCheck(objective: Objective, x: Float32Array, grad: Float32Array, opts: { directions: number; h: number; seed: number }): Promise<CheckResult> {
  const rng = new Random(opts.seed);
  const inputs: Float32Array[] = [];
  const analytic: number[] = [];
  for (let d = 0; d < opts.directions; d++) {
    const v = new Float64Array(x.length);
    let norm = 0;
    for (let i = 0; i < v.length; i++) { v[i] = rng.normal(); norm += v[i] * v[i]; }
    norm = Math.sqrt(norm);
    let dot = 0;
    const plus = new Float32Array(x.length);
    const minus = new Float32Array(x.length);
    for (let i = 0; i < v.length; i++) {
      v[i] /= norm;
      plus[i] = x[i] + opts.h * v[i];
      minus[i] = x[i] - opts.h * v[i];
    }
    // Use the float32 step actually taken along v.
    for (let i = 0; i < v.length; i++) dot += grad[i] * (plus[i] - minus[i]);
    analytic.push(dot);
    inputs.push(plus, minus);
  }
  const L = await objective(inputs);
  const numeric = analytic.map((_, d) => L[2 * d] - L[2 * d + 1]);
  // Both sides are differences over the same step: relative error is scale-free.
  return { relError: relativeError(analytic, numeric), analytic, numeric };
}
