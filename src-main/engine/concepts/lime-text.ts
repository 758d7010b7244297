// LIME for text on the caption classifier, as the baseline for SMER: switch distinct words off at random,
// weight each sample by a cosine-distance kernel to the full caption, and fit a weighted ridge regression of
// the class probability on the on/off pattern (as lime's LimeTextExplainer with bow=True).
import { Matrix, solve } from 'ml-matrix';
import { SaliencyError } from '../types.ts';
import { Random } from '../util/random.ts';
import type { ConceptModel } from './concept-model.ts';
import { predictWords } from './concept-model.ts';

export interface LimeTextSettings {
  samples: number;
  /** Kernel width on cosine distance x 100 (lime's default 25). */
  kernelWidth: number;
  /** Ridge strength (lime's default 1). */
  ridge: number;
}

export const DEFAULT_LIME_TEXT: LimeTextSettings = { samples: 1000, kernelWidth: 25, ridge: 1 };

export interface LimeTextExplanation {
  /** Distinct words in caption order, and their weights for the class probability. */
  words: string[];
  weights: Float64Array;
  intercept: number;
  /** Weighted R^2 of the surrogate. */
  score: number;
}

export function limeText(model: ConceptModel, words: readonly string[], classIndex: number, seed: number, settings: Partial<LimeTextSettings> = {}): LimeTextExplanation {
  const given = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
  const s: LimeTextSettings = { ...DEFAULT_LIME_TEXT, ...given };
  if (!Number.isInteger(s.samples) || s.samples < 2) throw new SaliencyError(`LIME samples must be an integer >= 2, got ${s.samples}`, 'BAD_SETTING');
  if (!(s.kernelWidth > 0) || !(s.ridge >= 0)) throw new SaliencyError('LIME kernel width must be > 0 and ridge >= 0', 'BAD_SETTING');
  const distinct = [...new Set(words)];
  const d = distinct.length;
  if (d === 0) throw new SaliencyError('the caption has no concept word to explain', 'BAD_DATA');
  const rng = new Random(seed);
  const Z: number[][] = [];
  const y: number[] = [];
  const w: number[] = [];
  for (let n = 0; n < s.samples; n++) {
    const on = new Array(d).fill(1);
    if (n > 0) {
      // Remove 1..d words chosen uniformly, as lime does.
      const remove = 1 + rng.int(d);
      for (const j of rng.shuffle(distinct.map((_, j) => j)).slice(0, remove)) on[j] = 0;
    }
    const kept = words.filter((word) => on[distinct.indexOf(word)] === 1);
    const active = on.reduce((a, b) => a + b, 0);
    const distance = active === 0 ? 100 : (1 - Math.sqrt(active / d)) * 100;
    Z.push(on);
    y.push(predictWords(model, kept).probabilities[classIndex]);
    w.push(Math.sqrt(Math.exp(-(distance * distance) / (s.kernelWidth * s.kernelWidth))));
  }
  return weightedRidge(Z, y, w, s.ridge, distinct);
}

/** Ridge with an unpenalised intercept: centre by the weighted means, solve (Zc'WZc + aI) b = Zc'W yc. */
function weightedRidge(Z: number[][], y: number[], w: number[], alpha: number, words: string[]): LimeTextExplanation {
  const d = words.length;
  const sw = w.reduce((a, b) => a + b, 0);
  const zMean = new Array(d).fill(0);
  let yMean = 0;
  Z.forEach((row, n) => { row.forEach((v, j) => (zMean[j] += (w[n] * v) / sw)); yMean += (w[n] * y[n]) / sw; });
  const A = Matrix.zeros(d, d);
  const b = Matrix.zeros(d, 1);
  Z.forEach((row, n) => {
    for (let i = 0; i < d; i++) {
      const zi = row[i] - zMean[i];
      b.set(i, 0, b.get(i, 0) + w[n] * zi * (y[n] - yMean));
      for (let j = 0; j < d; j++) A.set(i, j, A.get(i, j) + w[n] * zi * (row[j] - zMean[j]));
    }
  });
  for (let i = 0; i < d; i++) A.set(i, i, A.get(i, i) + alpha);
  const beta = solve(A, b, alpha === 0).getColumn(0);
  const intercept = yMean - beta.reduce((acc, v, j) => acc + v * zMean[j], 0);
  let ssRes = 0;
  let ssTot = 0;
  Z.forEach((row, n) => {
    const pred = intercept + row.reduce((acc, v, j) => acc + v * beta[j], 0);
    ssRes += w[n] * (y[n] - pred) ** 2;
    ssTot += w[n] * (y[n] - yMean) ** 2;
  });
  return { words, weights: Float64Array.from(beta), intercept, score: ssTot > 0 ? 1 - ssRes / ssTot : 1 };
}
