// SMER (Self-Model Rated Entities): rate each word by applying the caption classifier to the word's own
// embedding. The classifier is linear in the mean embedding, so the mean of the per-word logits equals the
// caption's logit exactly (up to float64 rounding): the explanation is perfectly faithful to the model.
import { SaliencyError } from '../types.ts';
import type { ConceptModel } from './concept-model.ts';
import { predictWords } from './concept-model.ts';
import { classScores, decision } from './logistic-regression.ts';

export const FIDELITY_TOLERANCE = 1e-9;

export interface WordRating {
  word: string;
  /** Occurrences in the caption (each counts in the mean). */
  count: number;
  /** Linear outputs for the word alone (1 when binary, K when multinomial). */
  decision: Float64Array;
  /** Per-class scores for the word alone. */
  scores: Float64Array;
}

export interface SmerExplanation {
  predicted: number;
  probabilities: Float64Array;
  /** The caption's own linear outputs and class scores. */
  decision: Float64Array;
  scores: Float64Array;
  /** Distinct words, in caption order. */
  words: WordRating[];
  /** max over outputs of |mean of per-word outputs - caption output|. */
  fidelityError: number;
}

export function smerWord(model: ConceptModel, word: string): { decision: Float64Array; scores: Float64Array } {
  const z = decision(model.logistic, model.embedding.vector(word));
  return { decision: z, scores: classScores(model.logistic, z) };
}

export function smerExplain(model: ConceptModel, words: readonly string[]): SmerExplanation {
  if (words.length === 0) throw new SaliencyError('the caption has no concept word to explain', 'BAD_DATA');
  const doc = predictWords(model, words);
  const byWord = new Map<string, WordRating>();
  for (const w of words) {
    const r = byWord.get(w);
    if (r) r.count++;
    else byWord.set(w, { word: w, count: 1, ...smerWord(model, w) });
  }
  // The identity, checked with each occurrence weighted as in the mean embedding.
  let fidelityError = 0;
  for (let k = 0; k < doc.decision.length; k++) {
    let sum = 0;
    for (const r of byWord.values()) sum += r.count * r.decision[k];
    fidelityError = Math.max(fidelityError, Math.abs(sum / words.length - doc.decision[k]));
  }
  return { predicted: doc.predicted, probabilities: doc.probabilities, decision: doc.decision, scores: doc.scores, words: [...byWord.values()], fidelityError };
}

/** Every vocabulary word ranked for a class by its own score for that class, best first (ties by word). */
export function smerGlobalRanking(model: ConceptModel, classIndex: number): { word: string; score: number }[] {
  if (!(classIndex >= 0 && classIndex < model.classes.length)) throw new SaliencyError(`class ${classIndex} is not one of 0..${model.classes.length - 1}`, 'BAD_TARGET');
  return model.embedding.vocabulary
    .map((word) => ({ word, score: smerWord(model, word).scores[classIndex] }))
    .sort((a, b) => b.score - a.score || (a.word < b.word ? -1 : 1));
}

/** The caption's distinct words, best first for the class predicted for the caption. */
export function smerConceptOrder(model: ConceptModel, words: readonly string[]): string[] {
  const e = smerExplain(model, words);
  return [...e.words].sort((a, b) => b.scores[e.predicted] - a.scores[e.predicted] || (a.word < b.word ? -1 : 1)).map((r) => r.word);
}
