// Integrated Gradients (Sundararajan et al. 2017) as Captum's IntegratedGradients: attr = (x - x') * integral over
// alpha in [0,1] of d score / d input at x' + alpha (x - x'), by Gauss-Legendre (Captum's default) or a Riemann rule
// (left, right, middle, trapezoid), with the same nodes and weights as Captum's approximation_parameters.
// Default steps 50 as Captum's n_steps. Baselines: 'zero' (the input the model sees as all zeros: Captum's default
// on the normalised tensor), 'black', 'gray', 'blur', 'uniform' (seeded uniform noise in 0..255).
// Completeness is reported as Captum's _compute_convergence_delta: delta = sum(attr) - (f(x) - f(x')) (signed, as
// Captum returns it), with change = f(x) - f(x') and relError = |delta| / |change|. Sums are float64 (Captum sums
// in the attribution's float32). On a ReLU/MaxPool network the logit is piecewise linear along the path, so the
// integrand is piecewise constant with jumps: Gauss-Legendre is then only first-order accurate and the error at a
// fixed step count varies by image (README: measured convergence with steps).
import type { Explainer, Explanation, ExplainContext, PreparedImage } from '../types.ts';
import type { PlanarImage, Target } from '../../types.ts';
import { SaliencyError } from '../../types.ts';
import { checkTarget } from '../cam/base-cam.ts';
import { makeModelBaseline } from '../perturb/masking.ts';
import { schedulerFor, targetScore } from '../../infer/scheduler.ts';
import { intSetting } from '../check-settings.ts';
import { Random } from '../../util/random.ts';
import { inputGradients, modelInput, reduceChannels, reduceSetting, type ChannelReduce } from './input-gradients.ts';

export const IG_METHODS = ['gausslegendre', 'riemann_left', 'riemann_right', 'riemann_middle', 'riemann_trapezoid'] as const;
export type IgMethod = typeof IG_METHODS[number];
export const IG_BASELINES = ['zero', 'black', 'gray', 'blur', 'uniform'] as const;
export type IgBaseline = typeof IG_BASELINES[number];

export type IgSettings = { steps: number; method: IgMethod; baseline: IgBaseline; channels: ChannelReduce } & Record<string, unknown>;

/** Gauss-Legendre nodes and weights on [-1, 1] (Newton's method on the Legendre polynomial). */
export function gaussLegendre(n: number): { x: Float64Array; w: Float64Array } {
  const x = new Float64Array(n);
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = Math.cos(Math.PI * (i + 0.75) / (n + 0.5));
    let dp = 0;
    for (let iter = 0; iter < 100; iter++) {
      let p0 = 1;
      let p1 = z;
      for (let k = 2; k <= n; k++) { const p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k; p0 = p1; p1 = p2; }
      if (n === 1) { p0 = 1; p1 = z; }
      dp = (n * (z * p1 - p0)) / (z * z - 1);
      const dz = p1 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-15) break;
    }
    x[i] = z;
    w[i] = 2 / ((1 - z * z) * dp * dp);
  }
  return { x, w };
}

/** The path points alpha_i and their weights (sum to 1), as Captum's approximation_parameters. */
export function integrationRule(method: IgMethod, n: number): { alphas: number[]; weights: number[] } {
  const range = Array.from({ length: n }, (_, i) => i);
  switch (method) {
    case 'gausslegendre': {
      const { x, w } = gaussLegendre(n);
      return { alphas: Array.from(x, (v) => 0.5 * (1 + v)), weights: Array.from(w, (v) => 0.5 * v) };
    }
    case 'riemann_left': return { alphas: range.map((i) => i / n), weights: range.map(() => 1 / n) };
    case 'riemann_right': return { alphas: range.map((i) => (i + 1) / n), weights: range.map(() => 1 / n) };
    case 'riemann_middle': return { alphas: range.map((i) => (i + 0.5) / n), weights: range.map(() => 1 / n) };
    case 'riemann_trapezoid':
      if (n < 2) throw new SaliencyError('integratedgradients: riemann_trapezoid needs at least 2 steps', 'BAD_SETTING');
      return { alphas: range.map((i) => i / (n - 1)), weights: range.map((i) => (i === 0 || i === n - 1 ? 0.5 : 1) / (n - 1)) };
  }
}

function oneOf<T extends string>(method: string, name: string, value: unknown, options: readonly T[], fallback: T): T {
  const v = value ?? fallback;
  if (!options.includes(v as T)) throw new SaliencyError(`${method}: ${name} must be one of ${options.join(', ')} (got ${JSON.stringify(v)})`, 'BAD_SETTING');
  return v as T;
}

export function igBaseline(model: ExplainContext['model'], image: PlanarImage, kind: IgBaseline, seed: number): PlanarImage {
  if (kind !== 'uniform') return makeModelBaseline(image, kind, model);
  const rng = new Random(seed);
  return { ...image, data: Float32Array.from(image.data, () => 255 * rng.next()) };
}

export class IntegratedGradients implements Explainer<IgSettings> {
  readonly name = 'integratedgradients';
  readonly description = 'Integrated Gradients (path integral of gradients from a baseline; Gauss-Legendre or Riemann; completeness reported)';

  settings(partial: Partial<IgSettings>): IgSettings {
    return {
      steps: intSetting(this.name, 'steps', partial.steps, 50, 1, 4096),
      method: oneOf(this.name, 'method', partial.method, IG_METHODS, 'gausslegendre'),
      baseline: oneOf(this.name, 'baseline', partial.baseline, IG_BASELINES, 'zero'),
      channels: reduceSetting(this.name, partial.channels, 'sum'),
    };
  }

  async explain(image: PreparedImage, target: Target, settings: IgSettings, seed: number, ctx: ExplainContext): Promise<Explanation> {
    const t0 = performance.now();
    const { model } = ctx;
    checkTarget(model, target);
    const x = image.input;
    const baseline = igBaseline(model, x, settings.baseline, seed);
    const { alphas, weights } = integrationRule(settings.method, settings.steps);
    const points = alphas.map((a) => ({ ...x, data: Float32Array.from(x.data, (v, i) => baseline.data[i] + a * (v - baseline.data[i])) }));
    const base = modelInput(model, baseline);
    const diff = modelInput(model, x).map((v, i) => v - base[i]);
    const acc = new Float64Array(diff.length);
    let weightSoFar = 0;
    await inputGradients(model, points, target, ctx, (start, results) => {
      results.forEach((r, j) => {
        const w = weights[start + j];
        weightSoFar += w;
        const g = r.grads.input;
        for (let i = 0; i < acc.length; i++) acc[i] += w * g[i];
      });
      return reduceChannels(model, acc.map((v, i) => (v / weightSoFar) * diff[i]), settings.channels);
    }, 'path points');
    const attr = acc.map((v, i) => v * diff[i]);
    const rows = await schedulerFor(model).evaluate([x, baseline], { signal: ctx.signal });
    const change = targetScore(rows, 0, target) - targetScore(rows, 1, target);
    let sum = 0;
    for (const v of attr) sum += v;
    const delta = sum - change;
    const map = reduceChannels(model, attr, settings.channels);
    return {
      method: this.name, target, map, evaluations: settings.steps + 2, settings, seed,
      extras: { completeness: { sum, change, delta, relError: Math.abs(delta) / Math.max(1e-12, Math.abs(change)) }, backward: true },
      millis: performance.now() - t0,
    };
  }
}
