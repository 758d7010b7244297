// Statistics for comparisons (issue 14 #4): intervals, paired tests, multiple-comparison adjustment, verdicts.
export { bootstrapMeanCI, pairedBootstrapCI, pairedDifferences, type MeanCI, type BootstrapOptions } from './bootstrap.ts';
export { signFlipPValue } from './sign-flip.ts';
export { holm } from './holm.ts';
export { binomialTest, binomialPmf, wilson, type Alternative } from './binomial.ts';
export { verdictText, winnerOf, ALPHA, type ComparedPair } from './verdict.ts';
export { summariseGroups, comparePairs, pairedComparison, isEnsembleName, type Observation, type GroupSummary, type PairComparison, type CompareOptions, type Interval } from './compare.ts';
export { rmsFrequency } from './map-measures.ts';
