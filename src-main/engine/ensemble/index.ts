// The public API of the ensemble module.
export { buildEnsemble, prepareStack } from './build.ts';
export { ENSEMBLE_NAMES, getCombiner, describeEnsembles } from './registry.ts';
export { normalise, applySign } from './normalise.ts';
export { fitLearnedWeights, fitAndEvaluate, maskAuc, type AnnotatedSample, type HeldOutReport } from './learned.ts';
export { weightsFromMetrics, weightSetsPer, metricRows, type MetricRow } from './weights/from-metrics.ts';
export { weightsFromLikert, likertRows, type LikertRow } from './weights/likert.ts';
export { weightsFromPairwise, fitBradleyTerry, pairwiseRows, type PairwiseRow } from './weights/bradley-terry.ts';
export { manualWeights } from './weights/manual.ts';
export { checkWeightSet, alignWeights, scoresToWeights } from './weights/weight-set.ts';
export { parseTable } from './weights/table.ts';
export * from './types.ts';
