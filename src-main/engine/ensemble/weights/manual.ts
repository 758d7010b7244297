// Weights set by hand, with who set them and why.
import type { WeightSet } from '../types.ts';
import { checkWeights, normaliseWeights } from './weight-set.ts';

export function manualWeights(weights: Record<string, number>, opts: { name?: string; author?: string; note?: string } = {}): WeightSet {
  checkWeights(weights, 'manual weights');
  return {
    name: opts.name ?? 'manual',
    source: 'manual',
    weights: normaliseWeights(weights),
    provenance: { given: { ...weights }, ...(opts.author ? { author: opts.author } : {}), ...(opts.note ? { note: opts.note } : {}), createdAt: new Date().toISOString() },
  };
}
