// A weight set named on the command line (`--weights <file|saved-name>`): a JSON file holding a weight set
// ({name, source, weights, provenance}, as `saliency ensemble-weights` writes) or plain {method: weight}, or
// else the name of a set saved in the database. Ensemble specs get it only when their combiner reads weights.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { SaliencyError } from '../../types.ts';
import { getCombiner } from '../registry.ts';
import type { EnsembleSpec, WeightSet } from '../types.ts';
import { checkWeightSet, checkWeights, normaliseWeights } from './weight-set.ts';

export interface SavedWeightSets { get(name: string): { name: string; source: string; weights: Record<string, number>; provenance: Record<string, unknown> } | undefined }

export async function loadWeights(arg: string, saved?: SavedWeightSets): Promise<WeightSet> {
  if (existsSync(arg)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(arg, 'utf8'));
    } catch (e) {
      throw new SaliencyError(`--weights ${arg}: not valid JSON (${(e as Error).message.replace(/\s+/g, ' ')})`, 'BAD_WEIGHTS');
    }
    if (Array.isArray(parsed)) throw new SaliencyError(`--weights ${arg}: holds ${parsed.length} weight sets (per image or class); give one set`, 'BAD_WEIGHTS');
    const v = parsed as Record<string, unknown> | null;
    if (v && typeof v === 'object' && 'weights' in v) return checkWeightSet(v, `--weights ${arg}`);
    // no timestamp: the same file gives the same set (evaluate --resume compares its settings)
    const given = checkWeights(v, `--weights ${arg}`);
    return { name: arg, source: 'manual', weights: normaliseWeights(given), provenance: { given: { ...given }, file: arg } };
  }
  const row = saved?.get(arg);
  if (!row) throw new SaliencyError(`--weights ${arg}: no such file${saved ? ' and no saved weight set of that name' : ''}`, 'BAD_WEIGHTS');
  return checkWeightSet({ ...row, source: row.source === 'learned' ? 'annotations' : row.source }, `weight set "${arg}"`);
}

/** Ensemble specs from combiner names; the weight set goes to the combiners that use weights. */
export function ensembleSpecs(names: string[], weights: WeightSet | undefined, options: Record<string, Record<string, unknown>> = {}): EnsembleSpec[] {
  return names.map((name) => {
    const c = getCombiner(name);
    if (c.name === 'weighted' && !weights) throw new SaliencyError(`ensemble "${name}" needs --weights <file|saved-name>`, 'BAD_USAGE');
    return { combiner: name, ...(c.usesWeights && weights ? { weights } : {}), ...(options[name] ? { options: options[name] } : {}) };
  });
}
