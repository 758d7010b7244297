// SMER on real data: the annotator captions of resources/captions, labelled by the real MobileNetV2.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_DATA, MODELS, REPO, model } from '../helpers/data.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { type CaptionPipeline, aopcReport, checkFidelity, fitCaptions } from '../../src-main/engine/concepts/pipeline.ts';
import { fitConceptModel } from '../../src-main/engine/concepts/concept-model.ts';
import { IdentityEmbedding, VectorEmbedding, meanVector } from '../../src-main/engine/concepts/embedding.ts';
import { decision, fitLogistic, probabilities } from '../../src-main/engine/concepts/logistic-regression.ts';
import { smerExplain, smerGlobalRanking } from '../../src-main/engine/concepts/smer.ts';
import { limeText } from '../../src-main/engine/concepts/lime-text.ts';
import { orderByScores, smerScoreTables, wordAopc } from '../../src-main/engine/concepts/aopc.ts';
import { conceptWords } from '../../src-main/engine/concepts/words.ts';
import { Random } from '../../src-main/engine/util/random.ts';

const CAPTIONS = path.join(REPO, 'resources/captions/imagenet-samples.json');

/** The gradient of mean loss + l2/2 |W|^2, computed here independently of the fitting code. */
function gradientNorm(X: Float64Array[], y: number[], m: ReturnType<typeof fitLogistic>): number {
  const K = m.classes.length;
  const gW = new Float64Array(m.weights.length);
  const gb = new Float64Array(m.bias.length);
  X.forEach((x, r) => {
    const p = probabilities(m, x);
    if (m.kind === 'binary') {
      const err = p[1] - y[r];
      x.forEach((v, i) => (gW[i] += err * v));
      gb[0] += err;
    } else {
      for (let k = 0; k < K; k++) {
        const err = p[k] - (y[r] === k ? 1 : 0);
        x.forEach((v, i) => (gW[k * m.dim + i] += err * v));
        gb[k] += err;
      }
    }
  });
  let worst = 0;
  gW.forEach((g, j) => (worst = Math.max(worst, Math.abs(g / X.length + m.l2 * m.weights[j]))));
  gb.forEach((g) => (worst = Math.max(worst, Math.abs(g / X.length))));
  return worst;
}

describe('caption words', () => {
  it('lower-cases, drops stop words and lemmatises', () => {
    expect(conceptWords('Two grey Wolves standing side by side')).toEqual(['grey', 'wolf', 'stand']);
    expect(conceptWords("Fluffy puppy lying on person's lap")).toEqual(['fluffy', 'puppy', 'lie', 'person', 'lap']);
    expect(conceptWords('the of and a')).toEqual([]);
  });
});

describe.skipIf(!HAS_DATA)('SMER on 89 annotator captions labelled by MobileNetV2', () => {
  let cls: Classifier;
  let p: CaptionPipeline;
  beforeAll(async () => {
    cls = await Classifier.load(model(MODELS.mobilenet));
    p = await fitCaptions(CAPTIONS, cls, { seed: 0 });
  });
  afterAll(async () => { await cls?.dispose(); });

  it('labels the captions with the real classifier, leaving out only images outside every group', () => {
    expect(p.set.docs.length + p.set.excluded.length).toBe(89);
    expect(p.set.docs.length).toBeGreaterThanOrEqual(80);
    for (const e of p.set.excluded) expect(e.reason).toMatch(/is in no group/);
    expect(p.set.classes).toEqual(['dog', 'wild canine', 'cat', 'bird', 'road vehicle']);
    // The classifier mostly agrees with the file names (MobileNetV2 is right on about 83% of these samples).
    const dalmatian = p.set.docs.find((d) => d.filename === 'n02110341_dalmatian.JPEG')!;
    expect(dalmatian.modelLabel).toBe('dalmatian');
    expect(p.set.classes[dalmatian.label]).toBe('dog');
  });

  it('fidelity identity holds to 1e-9 on every captioned image (multinomial)', () => {
    expect(p.fidelity.checked).toBe(p.set.docs.length);
    expect(p.fidelity.violations).toEqual([]);
    expect(p.fidelity.worst).toBeLessThan(1e-9);
    for (const d of p.set.docs) {
      const e = smerExplain(p.fit.model, d.words);
      // Recompute from the parts: mean over word occurrences of per-word logits vs the caption's logits.
      for (let k = 0; k < p.set.classes.length; k++) {
        const mean = e.words.reduce((s, w) => s + w.count * w.decision[k], 0) / d.words.length;
        expect(Math.abs(mean - e.decision[k])).toBeLessThan(1e-9);
      }
    }
  });

  it('fidelity holds for the binary model and for dense (endpoint-like) vectors too', () => {
    const two = p.set.docs.filter((d) => d.label === 0 || d.label === 2).map((d) => ({ ...d, label: d.label === 0 ? 0 : 1 }));
    const words = two.flatMap((d) => d.words);
    const binary = fitConceptModel(two, ['dog', 'cat'], new IdentityEmbedding(words), { seed: 1 });
    expect(binary.model.logistic.kind).toBe('binary');
    expect(checkFidelity(binary.model, two).violations).toEqual([]);
    const rng = new Random(7);
    const dense = new VectorEmbedding('dense', new Map([...new Set(p.set.docs.flatMap((d) => d.words))].map((w) => [w, Float64Array.from({ length: 32 }, () => rng.normal())])));
    const fit = fitConceptModel(p.set.docs, p.set.classes, dense, { seed: 0 });
    const report = checkFidelity(fit.model, p.set.docs);
    expect(report.violations).toEqual([]);
    expect(report.worst).toBeLessThan(1e-9);
  });

  it('the regression is at its optimum, deterministic, and beats the majority class on held-out captions', () => {
    const { fit, set } = p;
    const X = fit.train.map((i) => meanVector(p.embedding, set.docs[i].words));
    const y = fit.train.map((i) => set.docs[i].label);
    expect(gradientNorm(X, y, fit.model.logistic)).toBeLessThan(1e-6);
    const again = fitLogistic(X, y, set.classes, { l2: fit.model.logistic.l2 });
    expect(Array.from(again.weights)).toEqual(Array.from(fit.model.logistic.weights));
    expect(fit.test.length).toBeGreaterThanOrEqual(20);
    for (let c = 0; c < set.classes.length; c++) expect(fit.test.some((i) => set.docs[i].label === c)).toBe(true);
    expect(fit.testAccuracy).toBeGreaterThan(fit.majorityTestAccuracy + 0.1);
    // Binary optimum too.
    const idx = set.docs.map((_, i) => i).filter((i) => set.docs[i].label <= 1);
    const bx = idx.map((i) => meanVector(p.embedding, set.docs[i].words));
    const by = idx.map((i) => set.docs[i].label);
    const b = fitLogistic(bx, by, ['dog', 'wild canine'], { l2: 1e-3 });
    expect(gradientNorm(bx, by, b)).toBeLessThan(1e-6);
  });

  it('ranks the class name first among the concepts of its class', () => {
    const top = (c: string) => smerGlobalRanking(p.fit.model, p.set.classes.indexOf(c)).slice(0, 3).map((r) => r.word);
    expect(top('dog')).toContain('dog');
    expect(top('cat')).toContain('cat');
    expect(top('road vehicle')).toEqual(expect.arrayContaining(['truck']));
  });

  it('LIME on the same regression: seeded, a good local fit, mostly the same top word as SMER', () => {
    const d = p.set.docs.find((x) => x.filename === 'n02110341_dalmatian.JPEG')!;
    const e = smerExplain(p.fit.model, d.words);
    const a = limeText(p.fit.model, d.words, e.predicted, 3);
    expect(Array.from(limeText(p.fit.model, d.words, e.predicted, 3).weights)).toEqual(Array.from(a.weights));
    expect(Array.from(limeText(p.fit.model, d.words, e.predicted, 4).weights)).not.toEqual(Array.from(a.weights));
    let agree = 0;
    let r2 = 0;
    for (const doc of p.set.docs) {
      const s = smerExplain(p.fit.model, doc.words);
      const l = limeText(p.fit.model, doc.words, s.predicted, 0);
      r2 += l.score;
      const smerTop = [...s.words].sort((x, y) => y.scores[s.predicted] - x.scores[s.predicted])[0].word;
      if (l.words[l.weights.indexOf(Math.max(...l.weights))] === smerTop) agree++;
    }
    expect(r2 / p.set.docs.length).toBeGreaterThan(0.7);
    expect(agree / p.set.docs.length).toBeGreaterThan(0.75);
  });

  it('AOPC over words: zero at K=0, SMER and LIME far above a random order', () => {
    const docs = p.set.docs.map((d) => d.words);
    const r = aopcReport(p.fit.model, docs, { seed: 0, maxK: 6, lime: { samples: 300 } });
    for (const c of [r.smer, r.limeCurve, r.limeLocal, r.random]) {
      expect(c.drops).toHaveLength(7);
      expect(c.drops[0]).toBe(0);
      expect(c.perDocument).toHaveLength(docs.length);
    }
    // No caption has more than 6 distinct concepts, so at K = 6 every method has removed every word.
    expect(Math.max(...docs.map((w) => new Set(w).size))).toBeLessThanOrEqual(6);
    expect(r.smer.drops[6]).toBeCloseTo(r.random.drops[6], 12);
    expect(r.limeCurve.drops[6]).toBeCloseTo(r.random.drops[6], 12);
    expect(r.smer.aopc).toBeGreaterThan(r.random.aopc + 0.05);
    expect(r.limeCurve.aopc).toBeGreaterThan(r.random.aopc + 0.05);
    expect(r.smerVsLime.wins + r.smerVsLime.ties + r.smerVsLime.losses).toBe(docs.length);
    // Removing words by SMER's order first hurts more than removing them in reverse.
    const tables = smerScoreTables(p.fit.model);
    const reverse = wordAopc(p.fit.model, docs, (i, c, distinct) => orderByScores(tables)(i, c, distinct).reverse(), 'reverse', 6);
    expect(reverse.aopc).toBeLessThan(r.random.aopc);
  });
});
