// Weight sets: validation, turning scores into weights, and aligning a set with an ensemble's members.
import { SaliencyError } from '../../types.ts';
import type { WeightSet, WeightSource } from '../types.ts';

const SOURCES: WeightSource[] = ['metrics', 'ratings', 'manual', 'annotations'];

/** Checks a parsed weight set (e.g. from weights.json) and returns it typed; errors name the bad field. */
export function checkWeightSet(value: unknown, where = 'weight set'): WeightSet {
  const v = value as Partial<WeightSet> | null;
  if (!v || typeof v !== 'object') throw new SaliencyError(`${where}: expected an object {name, source, weights, provenance}`, 'BAD_WEIGHTS');
  if (typeof v.name !== 'string' || !v.name) throw new SaliencyError(`${where}: "name" must be a non-empty string`, 'BAD_WEIGHTS');
  if (!SOURCES.includes(v.source as WeightSource)) throw new SaliencyError(`${where}: "source" must be one of ${SOURCES.join(', ')}, got ${JSON.stringify(v.source)}`, 'BAD_WEIGHTS');
  if (!v.provenance || typeof v.provenance !== 'object') throw new SaliencyError(`${where}: "provenance" must be an object saying where the weights came from`, 'BAD_WEIGHTS');
  checkWeights(v.weights, where);
  return v as WeightSet;
}

/** Weights must be finite, non-negative, and not all zero. */
export function checkWeights(weights: unknown, where = 'weights'): Record<string, number> {
  if (!weights || typeof weights !== 'object' || Array.isArray(weights)) throw new SaliencyError(`${where}: "weights" must be an object method -> number`, 'BAD_WEIGHTS');
  const entries = Object.entries(weights as Record<string, unknown>);
  if (entries.length === 0) throw new SaliencyError(`${where}: no methods in "weights"`, 'BAD_WEIGHTS');
  for (const [m, w] of entries) {
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new SaliencyError(`${where}: weight of "${m}" must be a finite number >= 0, got ${JSON.stringify(w)}`, 'BAD_WEIGHTS');
  }
  if (entries.every(([, w]) => w === 0)) throw new SaliencyError(`${where}: every weight is 0`, 'BAD_WEIGHTS');
  return weights as Record<string, number>;
}

/** Scales to sum 1 (so weight sets from different sources are comparable). */
export function normaliseWeights(weights: Record<string, number>): Record<string, number> {
  const total = Object.values(weights).reduce((s, w) => s + w, 0);
  return Object.fromEntries(Object.entries(weights).map(([m, w]) => [m, total > 0 ? w / total : 0]));
}

/**
 * The members' weights in member order, summing to 1. Every member must have a weight (a silent 0 or default
 * would hide a typo in a method name); extra methods in the set are ignored, and the rest renormalised.
 */
export function alignWeights(methods: string[], weights: Record<string, number> | undefined): number[] {
  if (!weights) return methods.map(() => 1 / methods.length);
  checkWeights(weights);
  const missing = methods.filter((m) => !(m in weights));
  if (missing.length) throw new SaliencyError(`no weight for ${missing.join(', ')} (weights given for ${Object.keys(weights).join(', ')})`, 'BAD_WEIGHTS');
  const w = methods.map((m) => weights[m]);
  const total = w.reduce((s, x) => s + x, 0);
  if (!(total > 0)) throw new SaliencyError(`the weights of the members ${methods.join(', ')} are all 0`, 'BAD_WEIGHTS');
  return w.map((x) => x / total);
}

/** A spread below rounding noise (e.g. averaged z-scores that cancel to 1e-16) counts as no spread. */
export function hasSpread(values: number[], std: number): boolean {
  return std > 1e-9 * Math.max(1e-300, ...values.map(Math.abs));
}

export type ScoreTransform = 'softmax' | 'rank' | 'linear';
export const SCORE_TRANSFORMS: ScoreTransform[] = ['softmax', 'rank', 'linear'];

/**
 * Per-method quality scores (higher = better, any scale) -> weights summing to 1:
 * - softmax: exp(z / T) with z the scores standardised across methods (scale-free; T = temperature);
 * - rank: weight proportional to rank, worst = 1 ... best = m (ties averaged);
 * - linear: proportional to score - min + (max - min) / m, so the worst method keeps a small share.
 * With one method, or all scores equal, every transform gives equal weights.
 */
export function scoresToWeights(scores: Record<string, number>, transform: ScoreTransform, temperature = 1): Record<string, number> {
  const methods = Object.keys(scores);
  const s = methods.map((m) => scores[m]);
  if (s.some((v) => !Number.isFinite(v))) throw new SaliencyError(`scores must be finite: ${JSON.stringify(scores)}`, 'BAD_WEIGHTS');
  if (!SCORE_TRANSFORMS.includes(transform)) throw new SaliencyError(`unknown transform "${transform}"; known: ${SCORE_TRANSFORMS.join(', ')}`, 'BAD_SETTING');
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const std = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / s.length);
  let raw: number[];
  if (!hasSpread(s, std)) raw = s.map(() => 1);
  else if (transform === 'softmax') {
    if (!(temperature > 0)) throw new SaliencyError(`temperature must be > 0, got ${temperature}`, 'BAD_SETTING');
    const z = s.map((v) => (v - mean) / std / temperature);
    const zmax = Math.max(...z);
    raw = z.map((v) => Math.exp(v - zmax));
  } else if (transform === 'rank') {
    raw = s.map((v) => 1 + s.filter((o) => o < v).length + (s.filter((o) => o === v).length - 1) / 2);
  } else {
    const lo = Math.min(...s);
    const hi = Math.max(...s);
    raw = s.map((v) => v - lo + (hi - lo) / s.length);
  }
  return normaliseWeights(Object.fromEntries(methods.map((m, i) => [m, raw[i]])));
}
