// The concept classifier: captions -> mean word vector -> logistic regression, fitted on a seeded train split
// with train and test accuracy reported.
import { SaliencyError } from '../types.ts';
import { meanVector, type WordEmbedding } from './embedding.ts';
import { argmax } from '../util/math.ts';
import { classScores, decision, fitLogistic, type LogisticModel, softmax } from './logistic-regression.ts';
import { stratifiedSplit } from './split.ts';
import { chooseL2, type L2Selection } from './l2-selection.ts';

export interface ConceptModel {
  classes: string[];
  embedding: WordEmbedding;
  logistic: LogisticModel;
}

export interface ConceptFitOptions {
  /** L2 strength, or 'cv': chosen by cross-validation on the training split (l2-selection.ts). Default 1e-3. */
  l2?: number | 'cv';
  /** Share of each class held out for testing (default 0.3). */
  testFraction?: number;
  seed?: number;
}

export interface ConceptFit {
  model: ConceptModel;
  train: number[];
  test: number[];
  trainAccuracy: number;
  /** NaN when there is no test item. */
  testAccuracy: number;
  /** Accuracy of always answering the most frequent training class, on the test items. */
  majorityTestAccuracy: number;
  /** How the L2 strength was chosen, when by cross-validation. */
  l2Selection?: L2Selection;
}

export interface DocumentPrediction {
  /** Raw linear outputs (1 when binary, K when multinomial). */
  decision: Float64Array;
  /** One score per class; softmax(scores) = probabilities. */
  scores: Float64Array;
  probabilities: Float64Array;
  predicted: number;
}

export function predictWords(model: ConceptModel, words: readonly string[]): DocumentPrediction {
  const z = decision(model.logistic, meanVector(model.embedding, words));
  const scores = classScores(model.logistic, z);
  const probabilities = softmax(scores);
  return { decision: z, scores, probabilities, predicted: argmax(probabilities) };
}

export function fitConceptModel(docs: readonly { words: string[]; label: number }[], classes: string[], embedding: WordEmbedding, opts: ConceptFitOptions = {}): ConceptFit {
  if (docs.some((d) => d.words.length === 0)) throw new SaliencyError('every caption needs at least one concept word', 'BAD_DATA');
  const { train, test } = stratifiedSplit(docs.map((d) => d.label), opts.testFraction ?? 0.3, opts.seed ?? 0);
  const X = docs.map((d) => meanVector(embedding, d.words));
  const trainX = train.map((i) => X[i]);
  const trainY = train.map((i) => docs[i].label);
  const l2Selection = opts.l2 === 'cv' ? chooseL2(trainX, trainY, classes, { seed: opts.seed ?? 0 }) : undefined;
  const logistic = fitLogistic(trainX, trainY, classes, { l2: l2Selection ? l2Selection.chosen : (opts.l2 as number | undefined) });
  const model: ConceptModel = { classes, embedding, logistic };
  const accuracy = (idx: number[]) => idx.length === 0 ? NaN : idx.filter((i) => predictWords(model, docs[i].words).predicted === docs[i].label).length / idx.length;
  const counts = new Array(classes.length).fill(0);
  for (const i of train) counts[docs[i].label]++;
  const majority = argmax(counts);
  return {
    model, train, test,
    trainAccuracy: accuracy(train),
    testAccuracy: accuracy(test),
    majorityTestAccuracy: test.length ? test.filter((i) => docs[i].label === majority).length / test.length : NaN,
    ...(l2Selection ? { l2Selection } : {}),
  };
}
