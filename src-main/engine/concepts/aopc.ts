// AOPC over words (the seed's protocol): for K = 0..maxK remove the K top-ranked concepts present in a
// caption (every occurrence), re-average the remaining word vectors, and record the drop in the probability
// of the class predicted for the full caption. A caption left with no word is the zero vector.
import { Random } from '../util/random.ts';
import type { ConceptModel } from './concept-model.ts';
import { predictWords } from './concept-model.ts';
import { type LimeTextSettings, limeText } from './lime-text.ts';
import { smerGlobalRanking } from './smer.ts';

/** Orders a caption's distinct words, most important first, for the class predicted for it. */
export type WordOrder = (doc: number, classIndex: number, distinct: string[]) => string[];

export interface AopcCurve {
  method: string;
  /** Mean drop in the predicted class probability after removing the top K words, K = 0..maxK. */
  drops: number[];
  /** Mean of drops over K = 0..maxK. */
  aopc: number;
  documents: number;
  /** Each caption's own AOPC (mean of its drops), for paired comparisons between methods. */
  perDocument: number[];
}

export function wordAopc(model: ConceptModel, docs: readonly (readonly string[])[], order: WordOrder, method: string, maxK = 6): AopcCurve {
  const drops = new Array(maxK + 1).fill(0);
  const perDocument = docs.map((words, i) => {
    const full = predictWords(model, words);
    const c = full.predicted;
    const ranked = order(i, c, [...new Set(words)]);
    let sum = 0;
    for (let k = 0; k <= maxK; k++) {
      const removed = new Set(ranked.slice(0, k));
      const kept = words.filter((w) => !removed.has(w));
      const drop = full.probabilities[c] - predictWords(model, kept).probabilities[c];
      drops[k] += drop;
      sum += drop;
    }
    return sum / (maxK + 1);
  });
  const mean = drops.map((d) => d / Math.max(1, docs.length));
  return { method, drops: mean, aopc: mean.reduce((a, b) => a + b, 0) / mean.length, documents: docs.length, perDocument };
}

/** Orders words by a per-class score table; unscored words go last; ties by the word itself. */
export function orderByScores(tables: readonly ReadonlyMap<string, number>[]): WordOrder {
  return (_doc, c, distinct) => [...distinct].sort((a, b) => {
    const sa = tables[c].get(a) ?? -Infinity;
    const sb = tables[c].get(b) ?? -Infinity;
    return sb - sa || (a < b ? -1 : a > b ? 1 : 0);
  });
}

/** SMER's global concept scores per class (a word's score does not depend on the caption). */
export function smerScoreTables(model: ConceptModel): Map<string, number>[] {
  return model.classes.map((_, c) => new Map(smerGlobalRanking(model, c).map((r) => [r.word, r.score])));
}

/**
 * LIME's global concept scores per class: the mean LIME weight of a word over the captions predicted as that
 * class that contain it (each caption explained for its predicted class, seed + caption index).
 */
export function limeScoreTables(model: ConceptModel, docs: readonly (readonly string[])[], seed: number, settings: Partial<LimeTextSettings> = {}): Map<string, number>[] {
  const sums = model.classes.map(() => new Map<string, { sum: number; n: number }>());
  docs.forEach((words, i) => {
    const c = predictWords(model, words).predicted;
    const e = limeText(model, words, c, seed + i, settings);
    e.words.forEach((w, j) => {
      const acc = sums[c].get(w) ?? { sum: 0, n: 0 };
      acc.sum += e.weights[j];
      acc.n++;
      sums[c].set(w, acc);
    });
  });
  return sums.map((m) => new Map([...m].map(([w, a]) => [w, a.sum / a.n])));
}

/** LIME's own weights for each caption (explained for its predicted class, seed + caption index), not averaged. */
export function limeLocalOrder(model: ConceptModel, docs: readonly (readonly string[])[], seed: number, settings: Partial<LimeTextSettings> = {}): WordOrder {
  const orders = docs.map((words, i) => {
    const e = limeText(model, words, predictWords(model, words).predicted, seed + i, settings);
    return e.words.map((w, j) => ({ w, s: e.weights[j] })).sort((a, b) => b.s - a.s || (a.w < b.w ? -1 : 1)).map((x) => x.w);
  });
  return (doc) => orders[doc];
}

/** Baseline: a fresh random order per caption, the curve averaged over `repeats` seeds. */
export function randomWordAopc(model: ConceptModel, docs: readonly (readonly string[])[], seed: number, repeats = 20, maxK = 6): AopcCurve {
  const curves = Array.from({ length: repeats }, (_, r) => {
    const rng = Random.derive(seed, `random-order-${r}`);
    return wordAopc(model, docs, (_d, _c, distinct) => rng.shuffle([...distinct]), 'random', maxK);
  });
  const drops = curves[0].drops.map((_, k) => curves.reduce((a, cv) => a + cv.drops[k], 0) / repeats);
  const perDocument = docs.map((_, i) => curves.reduce((a, cv) => a + cv.perDocument[i], 0) / repeats);
  return { method: 'random', drops, aopc: drops.reduce((a, b) => a + b, 0) / drops.length, documents: docs.length, perDocument };
}

export interface PairedComparison {
  /** Mean of a.perDocument - b.perDocument. */
  meanDifference: number;
  /** Seeded percentile bootstrap 95% interval of the mean difference. */
  interval: [number, number];
  wins: number;
  ties: number;
  losses: number;
  verdict: 'higher' | 'lower' | 'no clear difference';
}

/** Is curve a's AOPC higher than b's on the same captions? Paired bootstrap over captions. */
export function compareAopc(a: AopcCurve, b: AopcCurve, seed: number, resamples = 2000): PairedComparison {
  const diff = a.perDocument.map((v, i) => v - b.perDocument[i]);
  const n = diff.length;
  const mean = diff.reduce((s, v) => s + v, 0) / Math.max(1, n);
  const rng = Random.derive(seed, 'aopc-bootstrap');
  const means = Array.from({ length: resamples }, () => {
    let s = 0;
    for (let j = 0; j < n; j++) s += diff[rng.int(n)];
    return s / n;
  }).sort((x, y) => x - y);
  const interval: [number, number] = [means[Math.floor(0.025 * resamples)], means[Math.ceil(0.975 * resamples) - 1]];
  const eps = 1e-12;
  return {
    meanDifference: mean,
    interval,
    wins: diff.filter((v) => v > eps).length,
    ties: diff.filter((v) => Math.abs(v) <= eps).length,
    losses: diff.filter((v) => v < -eps).length,
    verdict: interval[0] > 0 ? 'higher' : interval[1] < 0 ? 'lower' : 'no clear difference',
  };
}
