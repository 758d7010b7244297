// The two AOPC protocols over words, the cross-validated L2 strength and the paired verdicts, on a small
// synthetic caption set whose answers can be worked out by hand (no model needed).
import { describe, expect, it } from 'vitest';
import { fitConceptModel } from '../../src-main/engine/concepts/concept-model.ts';
import { IdentityEmbedding } from '../../src-main/engine/concepts/embedding.ts';
import { compareAopcs, globalTopWords, listOrder, randomListAopc, smerImportance, wordAopc, type AopcCurve } from '../../src-main/engine/concepts/aopc.ts';
import { aopcReport } from '../../src-main/engine/concepts/pipeline.ts';
import { chooseL2, L2_GRID, stratifiedFolds } from '../../src-main/engine/concepts/l2-selection.ts';
import { smerWord } from '../../src-main/engine/concepts/smer.ts';

// Class 0 captions mention "dog", class 1 "car"; "grass"/"road" are weaker cues, "photo" is noise.
const DOCS = [
  ...Array.from({ length: 12 }, (_, i) => ({ words: i % 3 ? ['dog', 'grass', 'photo'] : ['dog', 'photo'], label: 0 })),
  ...Array.from({ length: 12 }, (_, i) => ({ words: i % 3 ? ['car', 'road', 'photo'] : ['road', 'photo'], label: 1 })),
];
const CLASSES = ['animal', 'vehicle'];
const embedding = new IdentityEmbedding(DOCS.flatMap((d) => d.words));

describe('AOPC protocols over words', () => {
  const fit = fitConceptModel(DOCS, CLASSES, embedding, { l2: 'cv', seed: 1 });
  const model = fit.model;
  const words = DOCS.map((d) => d.words);

  it('L2 by cross-validation on the training split: the grid value with the lowest held-out log-loss, reported', () => {
    const sel = fit.l2Selection!;
    expect(sel.grid).toEqual(L2_GRID);
    expect(sel.logLoss).toHaveLength(L2_GRID.length);
    expect(sel.chosen).toBe(L2_GRID[sel.logLoss.indexOf(Math.min(...sel.logLoss))]);
    expect(model.logistic.l2).toBe(sel.chosen);
    // folds are stratified: each fold holds both classes in near-equal numbers
    const labels = fit.train.map((i) => DOCS[i].label);
    const folds = stratifiedFolds(labels, 5, 0);
    for (let f = 0; f < 5; f++) expect(new Set(labels.filter((_, i) => folds[i] === f)).size).toBe(2);
    // an explicit l2 is used as given
    expect(fitConceptModel(DOCS, CLASSES, embedding, { l2: 0.5 }).l2Selection).toBeUndefined();
    // only the training captions enter the cross-validation
    const X = fit.train.map((i) => Float64Array.from(embedding.vocabulary, (w) => DOCS[i].words.filter((x) => x === w).length / DOCS[i].words.length));
    expect(chooseL2(X, labels, CLASSES, { seed: 1 })).toEqual(sel);
    const tied = chooseL2(fit.train.map((i) => new Float64Array([DOCS[i].label])), labels, CLASSES, { grid: [0.5, 0.5] });
    expect(tied.chosen).toBe(0.5);
  });

  it('global-top: one list by mean |importance| over the captions; a caption loses only the list words it contains', () => {
    const list = globalTopWords(model, words, smerImportance(model), 2);
    // by hand: mean over the captions containing the word of |its SMER score for the caption's predicted class|
    const byHand = embedding.vocabulary.map((w) => {
      const having = words.filter((ws) => ws.includes(w));
      const s = having.reduce((a, ws) => { const c = DOCS[words.indexOf(ws)].label; return a + Math.abs(smerWord(model, w).scores[c]); }, 0);
      return { w, s: s / having.length };
    }).sort((a, b) => b.s - a.s);
    expect(list).toEqual(byHand.slice(0, 2).map((x) => x.w));
    expect(new Set(list)).toEqual(new Set(['dog', 'road'])); // each on every caption of its class
    expect(listOrder(['car', 'dog', 'road'])(0, 0, ['road', 'photo', 'car'])).toEqual(['car', 'road']);
    const curve = wordAopc(model, words, listOrder(list), 'SMER', 3);
    // captions without dog/car lose nothing: their AOPC is exactly 0
    const withList = words.filter((w) => w.some((x) => list.includes(x))).length;
    expect(withList).toBe(words.length); // dog or road is in every caption
    const curveCar = wordAopc(model, words, listOrder(['car']), 'car only', 3);
    words.forEach((w, i) => { if (!w.includes('car')) expect(curveCar.perDocument[i]).toBe(0); else expect(curveCar.perDocument[i]).toBeGreaterThan(0); });
    const random = randomListAopc(model, words, embedding.vocabulary, 2, 0, 20, 3);
    expect(curve.aopc).toBeGreaterThan(random.aopc);
  });

  it('reports both protocols with the random control and Holm-adjusted paired verdicts', () => {
    const perClass = aopcReport(model, words, { protocol: 'per-class', maxK: 3, lime: { samples: 100 } });
    const global = aopcReport(model, words, { protocol: 'global-top', top: 2, maxK: 3, lime: { samples: 100 }, rankingDocs: fit.train.map((i) => words[i]) });
    expect(perClass.protocol).toBe('per-class');
    expect(global.lists!.smer).toHaveLength(2);
    expect(global.rankingDocuments).toBe(fit.train.length);
    for (const r of [perClass, global]) {
      for (const c of [r.smerVsLime, r.smerVsRandom, r.limeVsRandom]) {
        expect(c.n).toBe(words.length);
        expect(c.interval[0]).toBeLessThanOrEqual(c.meanDifference);
        expect(c.interval[1]).toBeGreaterThanOrEqual(c.meanDifference);
        expect(c.pHolm).toBeGreaterThanOrEqual(c.p);
      }
      expect(r.smer.aopc).toBeGreaterThan(r.random.aopc);
    }
  });

  it('identical curves: no clear difference; a consistent gap: a win with its interval', () => {
    const curve = (per: number[], method: string): AopcCurve => ({ method, drops: [0], aopc: 0, documents: per.length, perDocument: per });
    const base = Array.from({ length: 20 }, (_, i) => 0.1 + 0.01 * i);
    const [same, gap] = compareAopcs([[curve(base, 'A'), curve(base, 'B')], [curve(base.map((v) => v + 0.05), 'A'), curve(base, 'B')]], 0);
    expect(same.verdict).toBe('no clear difference');
    expect(same.text).toBe('no clear difference (n = 20)');
    expect(gap.verdict).toBe('higher');
    expect(gap.interval[0]).toBeCloseTo(0.05, 10);
    expect(gap.text).toMatch(/^A better than B \(diff 0\.050, 95% CI/);
  });
});
