// Method specs in a batch: a registered method name, optionally with the target's score kind, e.g.
// 'gradcam' (the job's default score: by default each method's reference score, docs/protocol.md) or
// 'gradcam:probability'.
import { EXPLAINER_NAMES, getExplainer } from '../explain/registry.ts';
import type { Explainer } from '../explain/types.ts';
import type { ScoreKind } from '../types.ts';
import { SaliencyError } from '../types.ts';
import { referenceScore } from '../protocol.ts';

export interface MethodSpec { spec: string; name: string; score: ScoreKind }

/** A job's default score: one kind for every method, or 'reference' (each method's protocol reference score). */
export type JobScore = ScoreKind | 'reference';

export function parseMethodSpec(spec: string, defaultScore: JobScore): MethodSpec {
  const [name, score, ...rest] = spec.trim().split(':');
  if (!name || rest.length) throw new SaliencyError(`method "${spec}" should be a method name, optionally followed by :logit or :probability`, 'BAD_METHOD');
  if (score !== undefined && score !== 'logit' && score !== 'probability') {
    throw new SaliencyError(`method "${spec}": score "${score}" must be "logit" or "probability"`, 'BAD_METHOD');
  }
  if (!EXPLAINER_NAMES.includes(name)) getExplainer(name); // throws the registry's error listing known names
  return { spec: spec.trim(), name, score: (score as ScoreKind | undefined) ?? (defaultScore === 'reference' ? referenceScore(name) : defaultScore) };
}

export function explainerFor(name: string): Explainer<Record<string, unknown>> {
  return getExplainer(name) as Explainer<Record<string, unknown>>;
}

/** Items of a job's ensemble stage are named 'ensemble:<combiner>'. */
export function isEnsembleItem(method: string): boolean {
  return method.startsWith('ensemble:');
}
