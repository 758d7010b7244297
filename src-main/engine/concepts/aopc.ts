// AOPC over words: for K = 0..maxK remove the K top-ranked concepts present in a caption (every occurrence),
// re-average the remaining word vectors, and record the drop in the probability of the class predicted for the
// full caption. A caption left with no word is the zero vector. Two ways to rank the words:
// - per-class (this project's): each method's per-class word scores order each caption's own words, so K words
//   are removed from every caption with at least K words;
// - global-top (the original SMER work's, Train_LR_plot_AOPC.ipynb): each method's word importances |score|
//   for the caption's predicted class are averaged per word over the ranking captions, the top N (10 or 20) form
//   ONE list, and a caption loses the first min(K, present) words of that list it contains; captions with none
//   of them lose nothing.
import { Random } from '../util/random.ts';
import { pairedBootstrapCI, signFlipPValue, holm, winnerOf, verdictText } from '../stats/index.ts';
import type { ConceptModel } from './concept-model.ts';
import { predictWords } from './concept-model.ts';
import { type LimeTextSettings, limeText } from './lime-text.ts';
import { smerGlobalRanking, smerWord } from './smer.ts';

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

/** The mean of several curves on the same captions (random controls). */
function averageCurves(curves: AopcCurve[], method: string): AopcCurve {
  const drops = curves[0].drops.map((_, k) => curves.reduce((a, cv) => a + cv.drops[k], 0) / curves.length);
  const perDocument = curves[0].perDocument.map((_, i) => curves.reduce((a, cv) => a + cv.perDocument[i], 0) / curves.length);
  return { method, drops, aopc: drops.reduce((a, b) => a + b, 0) / drops.length, documents: curves[0].documents, perDocument };
}

/** Baseline: a fresh random order per caption, the curve averaged over `repeats` seeds. */
export function randomWordAopc(model: ConceptModel, docs: readonly (readonly string[])[], seed: number, repeats = 20, maxK = 6): AopcCurve {
  return averageCurves(Array.from({ length: repeats }, (_, r) => {
    const rng = Random.derive(seed, `random-order-${r}`);
    return wordAopc(model, docs, (_d, _c, distinct) => rng.shuffle([...distinct]), 'random', maxK);
  }), 'random');
}

/** A caption's word importances for its predicted class (doc = index among the ranking captions). */
export type WordImportance = (words: readonly string[], doc: number, classIndex: number) => Map<string, number>;

export const smerImportance = (model: ConceptModel): WordImportance => (words, _doc, c) =>
  new Map([...new Set(words)].map((w) => [w, smerWord(model, w).scores[c]]));

export const limeImportance = (model: ConceptModel, seed: number, settings: Partial<LimeTextSettings> = {}): WordImportance => (words, doc, c) => {
  const e = limeText(model, words, c, seed + doc, settings);
  return new Map(e.words.map((w, j) => [w, e.weights[j]]));
};

/** The original work's global list: mean |importance| of each word over the captions, the top N (ties by word). */
export function globalTopWords(model: ConceptModel, docs: readonly (readonly string[])[], importance: WordImportance, top: number): string[] {
  const acc = new Map<string, { sum: number; n: number }>();
  docs.forEach((words, i) => {
    for (const [w, v] of importance(words, i, predictWords(model, words).predicted)) {
      const a = acc.get(w) ?? { sum: 0, n: 0 };
      a.sum += Math.abs(v);
      a.n++;
      acc.set(w, a);
    }
  });
  return [...acc].map(([w, a]) => ({ w, s: a.sum / a.n })).sort((x, y) => y.s - x.s || (x.w < y.w ? -1 : 1)).slice(0, top).map((x) => x.w);
}

/** Removes a caption's words in the order of one global list (only the list's words). */
export const listOrder = (list: readonly string[]): WordOrder => (_doc, _c, distinct) => list.filter((w) => distinct.includes(w));

/** Control for the global-top protocol: random lists of the same length from the ranking vocabulary, averaged. */
export function randomListAopc(model: ConceptModel, docs: readonly (readonly string[])[], vocabulary: readonly string[], top: number, seed: number, repeats = 20, maxK = 6): AopcCurve {
  return averageCurves(Array.from({ length: repeats }, (_, r) => {
    const list = Random.derive(seed, `random-list-${r}`).shuffle([...vocabulary]).slice(0, top);
    return wordAopc(model, docs, listOrder(list), 'random', maxK);
  }), 'random');
}

export interface PairedComparison {
  a: string;
  b: string;
  /** Mean of a.perDocument - b.perDocument over n captions. */
  meanDifference: number;
  /** Seeded percentile bootstrap 95% interval of the mean difference (stats/bootstrap.ts). */
  interval: [number, number];
  n: number;
  /** Two-sided sign-flip permutation p of the paired differences, and Holm-adjusted over the report's comparisons. */
  p: number;
  pHolm: number;
  wins: number;
  ties: number;
  losses: number;
  /** 'higher' only when the interval excludes zero and Holm p < 0.05 (stats/verdict.ts). */
  verdict: 'higher' | 'lower' | 'no clear difference';
  text: string;
}

/** Paired comparisons of AOPC curves on the same captions, Holm-adjusted together. */
export function compareAopcs(pairs: [AopcCurve, AopcCurve][], seed: number): PairedComparison[] {
  const raw = pairs.map(([a, b]) => {
    const ci = pairedBootstrapCI(a.perDocument, b.perDocument, { seed });
    const diff = a.perDocument.map((v, i) => v - b.perDocument[i]);
    return { a: a.method, b: b.method, ci, diff, p: signFlipPValue(diff, { seed }) };
  });
  const adjusted = holm(raw.map((r) => r.p));
  const eps = 1e-12;
  return raw.map((r, i) => {
    const pair = { a: r.a, b: r.b, diff: r.ci.mean, ci95: [r.ci.lo, r.ci.hi] as [number, number], n: r.ci.n, pHolm: adjusted[i], higherIsBetter: true };
    const w = winnerOf(pair);
    return {
      a: r.a, b: r.b, meanDifference: r.ci.mean, interval: pair.ci95, n: r.ci.n, p: r.p, pHolm: adjusted[i],
      wins: r.diff.filter((v) => v > eps).length, ties: r.diff.filter((v) => Math.abs(v) <= eps).length, losses: r.diff.filter((v) => v < -eps).length,
      verdict: w === null ? 'no clear difference' : w === r.a ? 'higher' : 'lower',
      text: verdictText(pair),
    };
  });
}

/** Is curve a's AOPC higher than b's on the same captions? (one comparison) */
export function compareAopc(a: AopcCurve, b: AopcCurve, seed: number): PairedComparison {
  return compareAopcs([[a, b]], seed)[0];
}
