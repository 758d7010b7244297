// Every metric by name, for the CLI, the app and ensembles.
import { SaliencyError } from '../types.ts';
import type { Metric } from './types.ts';
import { deletion } from './deletion.ts';
import { insertion } from './insertion.ts';
import { aopcLerf, aopcMorf } from './aopc.ts';
import { roadLerf, roadMorf } from './road.ts';
import { pointingGame } from './pointing-game.ts';
import { energyPointingGame } from './energy-pointing-game.ts';
import { sparseness } from './sparseness.ts';
import { complexity } from './complexity.ts';
import { maxSensitivity } from './max-sensitivity.ts';
import { modelRandomisation } from './model-randomisation.ts';
import { rankAgreement, topKAgreement } from './agreement.ts';
import { adversarialFragility } from './adversarial-fragility.ts';
import { adversarialTopK } from './adversarial-topk.ts';

const ALL: Metric[] = [
  deletion, insertion, aopcMorf, aopcLerf, roadMorf, roadLerf, pointingGame, energyPointingGame, sparseness,
  complexity, maxSensitivity, modelRandomisation, rankAgreement, topKAgreement, adversarialFragility,
  adversarialTopK,
] as unknown as Metric[];

export const METRICS: ReadonlyMap<string, Metric> = new Map(ALL.map((m) => [m.name, m]));
export const METRIC_NAMES: string[] = ALL.map((m) => m.name);

export function getMetric(name: string): Metric {
  const m = METRICS.get(name);
  if (!m) throw new SaliencyError(`unknown metric "${name}" (known: ${METRIC_NAMES.join(', ')})`, 'BAD_SETTING');
  return m;
}
