// Every combiner by name. ENSEMBLE_NAMES is what `saliency explain --ensemble a,b,...` accepts.
import { SaliencyError } from '../types.ts';
import type { Combiner } from './types.ts';
import { mean, weighted } from './combiners/mean.ts';
import { varianceAware } from './combiners/variance-aware.ts';
import { median, trimmedMean } from './combiners/order-statistics.ts';
import { geometric } from './combiners/geometric.ts';
import { borda, reciprocalRankFusion } from './combiners/rank-fusion.ts';
import { regionDetail } from './combiners/region-detail.ts';
import { learned } from './combiners/learned.ts';

const COMBINERS: Combiner[] = [mean, weighted, varianceAware, median, trimmedMean, geometric, borda, reciprocalRankFusion, regionDetail, learned];

export const ENSEMBLE_NAMES: string[] = COMBINERS.map((c) => c.name);

export function getCombiner(name: string): Combiner {
  const c = COMBINERS.find((x) => x.name === name);
  if (!c) throw new SaliencyError(`unknown ensemble "${name}"; known: ${ENSEMBLE_NAMES.join(', ')}`, 'UNKNOWN_ENSEMBLE');
  return c;
}

/** One line per combiner, for help texts. */
export function describeEnsembles(): string[] {
  return COMBINERS.map((c) => `${c.name}: ${c.description}${c.usesWeights ? ' [uses weights]' : ''}`);
}
