// Builds an ensemble explanation from member explanations: resample every map to one grid, apply the sign
// policy and normaliser to each, align the weights, combine. The result is an Explanation like any other
// (method "ensemble:<combiner>"), whose settings record the members, normaliser, weights and their provenance,
// so it can be evaluated, rated, stored and exported.
import type { Explanation } from '../explain/types.ts';
import { resizeMap } from '../image/upsample.ts';
import { SaliencyError } from '../types.ts';
import { checkNormaliseOptions, normalise } from './normalise.ts';
import { getCombiner } from './registry.ts';
import type { EnsembleSpec, MemberStack, NormaliserName, WeightSet } from './types.ts';
import { alignWeights } from './weights/weight-set.ts';

function isWeightSet(w: EnsembleSpec['weights']): w is WeightSet {
  return !!w && typeof (w as WeightSet).source === 'string' && typeof (w as WeightSet).weights === 'object';
}

/** The members on one grid, normalised, with their weights (uniform when none are given). */
export function prepareStack(explanations: Explanation[], spec: Omit<EnsembleSpec, 'combiner'>): MemberStack {
  if (explanations.length === 0) throw new SaliencyError('an ensemble needs at least one explanation', 'BAD_INPUT');
  const methods = explanations.map((e) => e.method);
  const dup = methods.find((m, i) => methods.indexOf(m) !== i);
  if (dup) throw new SaliencyError(`two members are both "${dup}": give each member a distinct method name`, 'BAD_INPUT');
  const cls = explanations[0].target.classIndex;
  const other = explanations.find((e) => e.target.classIndex !== cls);
  if (other) throw new SaliencyError(`members explain different classes (${methods[0]}: ${cls}, ${other.method}: ${other.target.classIndex})`, 'BAD_INPUT');
  const { width, height } = spec.grid ?? explanations[0].map;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) throw new SaliencyError(`bad ensemble grid ${width}x${height}`, 'BAD_SETTING');
  const normaliser: NormaliserName = spec.normaliser ?? 'minmax';
  const opts = { sign: spec.sign, lowPercentile: spec.lowPercentile, highPercentile: spec.highPercentile };
  checkNormaliseOptions(normaliser, opts);
  const weights = alignWeights(methods, isWeightSet(spec.weights) ? spec.weights.weights : spec.weights);
  const maps = explanations.map((e) => normalise(resizeMap(e.map, width, height).data, normaliser, opts));
  return { width, height, methods, maps, weights };
}

export function buildEnsemble(explanations: Explanation[], spec: EnsembleSpec): Explanation {
  const t0 = performance.now();
  const combiner = getCombiner(spec.combiner);
  const options = combiner.options(spec.options ?? {});
  if (combiner.name === 'learned' && !(isWeightSet(spec.weights) && spec.weights.source === 'annotations')) {
    throw new SaliencyError('the learned ensemble needs a weight set fitted on annotation masks (fitLearnedWeights)', 'BAD_WEIGHTS');
  }
  if (combiner.name === 'weighted' && !spec.weights) throw new SaliencyError('the weighted ensemble needs weights (from metrics, ratings or by hand)', 'BAD_WEIGHTS');
  const stack = prepareStack(explanations, spec);
  const data = combiner.combine(stack, options);
  const combineMillis = performance.now() - t0;
  const weightSet = isWeightSet(spec.weights) ? spec.weights : undefined;
  const recordedOptions = Object.fromEntries(Object.entries(options).map(([k, v]) => [k, ArrayBuffer.isView(v) ? `<${(v as Int32Array).length} labels>` : v]));
  return {
    method: `ensemble:${combiner.name}`,
    target: explanations[0].target,
    map: { width: stack.width, height: stack.height, data },
    evaluations: explanations.reduce((s, e) => s + e.evaluations, 0),
    settings: {
      combiner: combiner.name,
      normaliser: spec.normaliser ?? 'minmax',
      sign: spec.sign ?? 'signed',
      ...(spec.normaliser === 'percentile' ? { percentiles: [spec.lowPercentile ?? 1, spec.highPercentile ?? 99] } : {}),
      grid: [stack.width, stack.height],
      options: recordedOptions,
      members: explanations.map((e) => ({ method: e.method, target: e.target, settings: e.settings, seed: e.seed })),
      weights: combiner.usesWeights ? Object.fromEntries(stack.methods.map((m, i) => [m, stack.weights[i]])) : null,
      weightSet: combiner.usesWeights && weightSet ? { name: weightSet.name, source: weightSet.source, provenance: weightSet.provenance } : combiner.usesWeights && spec.weights ? { name: 'inline', source: 'manual', provenance: {} } : null,
    },
    seed: explanations[0].seed,
    extras: { combineMillis },
    millis: explanations.reduce((s, e) => s + e.millis, 0) + combineMillis,
  };
}
