// The report's concept section (SMER): when the selected images have captions in the database, fit the caption
// regression on the stored predictions of the report's model (top-1 class, or its group), check the fidelity
// identity on every caption, rank concepts per class, put SMER and LIME side by side per image, draw the
// AOPC-over-words curves (SMER, LIME, random), and ground labelled boxes against the stored pixel maps.
import type { Store } from '../store/store.ts';
import type { ImageRecord } from '../store/images-repo.ts';
import type { ModelInfo } from '../model/classifier.ts';
import type { ClassLabel } from '../model/labels.ts';
import { planTransform } from '../image/load-image.ts';
import { SaliencyError } from '../types.ts';
import type { ClassGroups } from '../concepts/captions-file.ts';
import { captionsFromStore } from '../concepts/store-captions.ts';
import { labelCaptionRows, type LabelledCaptions } from '../concepts/dataset.ts';
import { aopcReport, type AopcReport, fitCaptionSet } from '../concepts/pipeline.ts';
import { DEFAULT_LIME_TEXT, limeText } from '../concepts/lime-text.ts';
import { FIDELITY_TOLERANCE, smerExplain, smerGlobalRanking } from '../concepts/smer.ts';
import { boxEnergy, orderBoxesByConcepts } from '../concepts/grounding.ts';
import { conceptWords } from '../concepts/words.ts';
import type { PairedComparison } from '../concepts/aopc.ts';
import { type ReportData, selectImages } from './collect.ts';
import { esc, lineChart } from './charts.ts';
import { csv } from './tables.ts';

export interface ConceptOptions {
  /** Regression classes as groups of classifier classes (as in a captions file); without, each class is its own. */
  groups?: ClassGroups;
  /** Only captions by this author (default: each image's latest caption). */
  author?: string;
  /** Fewer usable captions than this: the section says so instead of fitting (default 10). */
  minCaptions?: number;
  seed?: number;
  l2?: number;
  testFraction?: number;
  maxK?: number;
  limeSamples?: number;
  /** Words per class in the global ranking, and per image in the SMER/LIME columns (default 5). */
  topWords?: number;
}

export interface ConceptWordScore { word: string; count: number; smer: number; lime: number }

export interface ConceptImage {
  imageId: number;
  filename: string;
  caption: string;
  author: string;
  /** The regression target: the group (or class) of the classifier's stored top-1 prediction. */
  label: string;
  modelClass: number;
  modelLabel: string;
  split: 'train' | 'test';
  /** The regression's class for the caption, and its probability. */
  predicted: string;
  probability: number;
  /** The caption's own score for the predicted class: the count-weighted mean of words[].smer (SMER's identity). */
  score: number;
  /** |mean of per-word logits - caption logit|, max over outputs. */
  fidelityError: number;
  /** Distinct words, best first by SMER score for the predicted class; LIME weight for the same class. */
  words: ConceptWordScore[];
  topSmer: string[];
  topLime: string[];
}

export interface ConceptCurve { method: string; drops: number[]; aopc: number; documents: number; perDocument: number[] }

export interface ConceptGrounding {
  imageId: number; filename: string; concept: string; author: string; box: [number, number, number, number];
  /** SMER score of the concept's word for the image's predicted class (null: the word is not in the caption). */
  smer: number | null;
  method: string; explanationId: number; energy: number; area: number; lift: number;
  /** The map's series (method, target, score kind: report/series.ts). */
  series: string;
}

export interface ConceptsSection {
  status: 'ok' | 'skipped';
  /** Why the model was not fitted (status skipped). */
  reason?: string;
  /** Selected images with a caption in the database. */
  captioned: number;
  documents: number;
  excluded: { filename: string; reason: string }[];
  target: string;
  classes: string[];
  settings: { seed: number; l2: number; testFraction: number; maxK: number; limeSamples: number; author: string | null; groups: boolean };
  embedding?: { name: string; dim: number };
  regression?: { kind: string; iterations: number; converged: boolean };
  accuracy?: { train: number; test: number; majorityTest: number; trainN: number; testN: number };
  fidelity?: { maxError: number; checked: number; violations: string[]; tolerance: number };
  ranking?: { class: string; words: { word: string; score: number }[] }[];
  images?: ConceptImage[];
  aopc?: { maxK: number; smer: ConceptCurve; lime: ConceptCurve; limeLocal: ConceptCurve; random: ConceptCurve; smerVsLime: PairedComparison };
  grounding?: ConceptGrounding[];
  groundingErrors?: { filename: string; concept: string; error: string }[];
}

const curveOf = (c: AopcReport['smer']): ConceptCurve => ({ method: c.method, drops: c.drops, aopc: c.aopc, documents: c.documents, perDocument: c.perDocument });

/** Without class groups, classes with a single captioned image cannot be learned: they are left out. */
export function dropSingletons(set: LabelledCaptions): LabelledCaptions {
  const counts = set.classes.map((_, k) => set.docs.filter((d) => d.label === k).length);
  const keep = set.classes.filter((_, k) => counts[k] >= 2);
  if (keep.length === set.classes.length) return set;
  const excluded = [...set.excluded, ...set.docs.filter((d) => counts[d.label] < 2)
    .map((d) => ({ filename: d.filename, reason: `the only captioned image of class ${set.classes[d.label]} (give class groups to pool classes)` }))];
  const docs = set.docs.filter((d) => counts[d.label] >= 2).map((d) => ({ ...d, label: keep.indexOf(set.classes[d.label]) }));
  return { ...set, classes: keep, docs, excluded };
}

/**
 * The concept section of a report, or undefined when no selected image has a caption. Throws only for bad
 * options; data that cannot be fitted (too few captions, a single class) gives status "skipped" and the reason.
 */
export async function conceptsSection(store: Store, data: ReportData, labels: readonly ClassLabel[], options: ConceptOptions = {}): Promise<ConceptsSection | undefined> {
  // Without explicit groups, a library's own (stored with its imported captions) are used.
  const libraryGroups = data.selection.libraryId !== undefined ? store.libraries.get(data.selection.libraryId)?.conceptGroups : null;
  const opts: ConceptOptions = { ...options, groups: options.groups ?? (libraryGroups as ClassGroups | null) ?? undefined };
  const settings = {
    seed: opts.seed ?? 0, l2: opts.l2 ?? 1e-3, testFraction: opts.testFraction ?? 0.3, maxK: opts.maxK ?? 6,
    limeSamples: opts.limeSamples ?? DEFAULT_LIME_TEXT.samples, author: opts.author ?? null, groups: !!opts.groups,
  };
  const minCaptions = opts.minCaptions ?? 10;
  const top = opts.topWords ?? 5;
  if (!Number.isInteger(settings.maxK) || settings.maxK < 0) throw new SaliencyError(`concepts: maxK must be an integer >= 0, got ${settings.maxK}`, 'BAD_SETTING');
  const images: ImageRecord[] = selectImages(store, data.selection, data.model.id).sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : a.id - b.id));
  const stored = captionsFromStore(store, images, { author: opts.author, groups: opts.groups, source: 'the report selection' });
  if (!stored.data.captions.length) return undefined;
  const base: ConceptsSection = {
    status: 'skipped', captioned: stored.data.captions.length, documents: 0, excluded: [], classes: [], settings,
    target: `${opts.groups ? 'group of ' : ''}the stored top-1 prediction of ${data.model.name}`,
  };
  let set: LabelledCaptions;
  try {
    const prediction = (filename: string) => store.predictions.get(stored.imageIds.get(filename)!, data.model.id)?.topClass ?? null;
    set = labelCaptionRows(stored.source, stored.data, labels, prediction, { imagesDir: stored.imagesDir, target: 'model' });
    if (!opts.groups) set = dropSingletons(set);
  } catch (e) {
    if (!(e instanceof SaliencyError)) throw e;
    return { ...base, reason: e.message.replace(/^the report selection: /, '') };
  }
  Object.assign(base, { documents: set.docs.length, excluded: set.excluded, classes: set.classes });
  if (set.classes.length < 2) return { ...base, reason: `the captioned images fall into ${set.classes.length} class(es); the regression needs at least 2` };
  if (set.docs.length < minCaptions) return { ...base, reason: `${set.docs.length} usable captioned images; the concept model needs at least ${minCaptions}` };

  const p = await fitCaptionSet(set, { l2: settings.l2, testFraction: settings.testFraction, seed: settings.seed });
  const model = p.fit.model;
  const docs = set.docs;
  const test = new Set(p.fit.test);
  const lime = { samples: settings.limeSamples };
  const aopc = aopcReport(model, docs.map((d) => d.words), { seed: settings.seed, maxK: settings.maxK, lime });

  const perImage: ConceptImage[] = docs.map((d, i) => {
    const e = smerExplain(model, d.words);
    const c = e.predicted;
    // The same LIME run (seed + caption index) as the global LIME ranking behind the AOPC curve.
    const l = limeText(model, d.words, c, settings.seed + i, lime);
    const words = e.words.map((r) => ({ word: r.word, count: r.count, smer: r.scores[c], lime: l.weights[l.words.indexOf(r.word)] }))
      .sort((a, b) => b.smer - a.smer || (a.word < b.word ? -1 : 1));
    const topLime = [...words].sort((a, b) => b.lime - a.lime || (a.word < b.word ? -1 : 1)).slice(0, top).map((w) => w.word);
    return {
      imageId: stored.imageIds.get(d.filename)!, filename: d.filename, caption: d.caption,
      author: stored.data.captions.find((x) => x.filename === d.filename)!.author,
      label: set.classes[d.label], modelClass: d.modelClass, modelLabel: d.modelLabel, split: test.has(i) ? 'test' : 'train',
      predicted: set.classes[c], probability: e.probabilities[c], score: e.scores[c], fidelityError: e.fidelityError,
      words, topSmer: words.slice(0, top).map((w) => w.word), topLime,
    };
  });

  // Grounding: labelled boxes against every stored map of the image in this report.
  const info = data.model.info as unknown as ModelInfo;
  const grounding: ConceptGrounding[] = [];
  const groundingErrors: ConceptsSection['groundingErrors'] = [];
  docs.forEach((d, i) => {
    if (!d.boxes.length) return;
    const img = images.find((x) => x.id === perImage[i].imageId)!;
    const entry = data.images.find((x) => x.id === img.id);
    if (!entry || img.width === null || img.height === null || !info.input) return;
    const t = planTransform(img.width, img.height, info.input.width, info.input.height, info.resize);
    const ranked = perImage[i].words.map((w) => w.word);
    for (const b of orderBoxesByConcepts(d.boxes, ranked)) {
      const word = ranked.find((w) => conceptWords(b.concept).includes(w));
      for (const { key: series, method } of data.series) {
        const id = entry.explanations[series];
        if (id === undefined) continue;
        const map = store.explanations.get(id)!.map;
        try {
          const g = boxEnergy(map, b.box, t);
          grounding.push({
            imageId: img.id, filename: d.filename, concept: b.concept, author: b.author, box: [b.box.xMin, b.box.yMin, b.box.xMax, b.box.yMax],
            smer: word === undefined ? null : perImage[i].words.find((w) => w.word === word)!.smer, method, series, explanationId: id, ...g,
          });
        } catch (e) {
          if (!(e instanceof SaliencyError)) throw e;
          groundingErrors.push({ filename: d.filename, concept: b.concept, error: e.message });
          break;
        }
      }
    }
  });

  return {
    ...base,
    status: 'ok',
    embedding: { name: p.embedding.name, dim: p.embedding.dim },
    regression: { kind: model.logistic.kind, iterations: model.logistic.fit.iterations, converged: model.logistic.fit.converged },
    accuracy: { train: p.fit.trainAccuracy, test: p.fit.testAccuracy, majorityTest: p.fit.majorityTestAccuracy, trainN: p.fit.train.length, testN: p.fit.test.length },
    fidelity: { maxError: p.fidelity.worst, checked: p.fidelity.checked, violations: p.fidelity.violations, tolerance: FIDELITY_TOLERANCE },
    ranking: set.classes.map((cls, k) => ({ class: cls, words: smerGlobalRanking(model, k).slice(0, top) })),
    images: perImage,
    aopc: { maxK: aopc.maxK, smer: curveOf(aopc.smer), lime: curveOf(aopc.limeCurve), limeLocal: curveOf(aopc.limeLocal), random: curveOf(aopc.random), smerVsLime: aopc.smerVsLime },
    grounding,
    groundingErrors,
  };
}

/** Word-level scores: one row per image and caption word (SMER and LIME for the caption's predicted class), and
 *  one per class and top word of the global SMER ranking. */
export function conceptsCsv(s: ConceptsSection): string {
  const rows: unknown[][] = [];
  for (const img of s.images ?? []) {
    const limeRank = [...img.words].sort((a, b) => b.lime - a.lime || (a.word < b.word ? -1 : 1)).map((w) => w.word);
    img.words.forEach((w, r) => rows.push(['image', img.imageId, img.filename, img.predicted, w.word, w.count, w.smer, w.lime, r + 1, limeRank.indexOf(w.word) + 1]));
  }
  for (const c of s.ranking ?? []) c.words.forEach((w, r) => rows.push(['class', null, null, c.class, w.word, null, w.score, null, r + 1, null]));
  return csv(['scope', 'image_id', 'image', 'class', 'word', 'count', 'smer_score', 'lime_weight', 'smer_rank', 'lime_rank'], rows);
}

const f = (v: number | null | undefined, d = 3) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d));
const pc = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : `${(100 * v).toFixed(1)}%`);

export function renderConceptsHtml(s: ConceptsSection): string {
  const head = '<h2>Concepts (SMER)</h2>';
  if (s.status !== 'ok') return `${head}<p class="muted">${s.captioned} selected images have captions; no concept model: ${esc(s.reason ?? '')}.</p>`;
  const a = s.aopc!;
  const acc = s.accuracy!;
  const fid = s.fidelity!;
  const ks = Array.from({ length: a.maxK + 1 }, (_, k) => k);
  const chart = lineChart([a.smer, a.lime, a.random].map((c) => ({ name: c.method, x: ks, y: c.drops })),
    'AOPC over words', 'K top concepts removed', 'drop in predicted class probability');
  const curveRows = [a.smer, a.lime, a.limeLocal, a.random].map((c) => `<tr><td>${esc(c.method)}</td>${c.drops.map((d) => `<td>${f(d, 4)}</td>`).join('')}<td><b>${f(c.aopc, 4)}</b></td></tr>`).join('');
  const v = a.smerVsLime;
  const verdict = v.verdict === 'higher' ? 'higher than' : v.verdict === 'lower' ? 'lower than' : 'not clearly different from';
  const ranking = s.ranking!.map((c) => `<tr><td>${esc(c.class)}</td><td>${c.words.map((w) => `${esc(w.word)} <span class="muted">${f(w.score, 2)}</span>`).join(', ')}</td></tr>`).join('');
  const images = s.images!.map((i) => `<tr><td>${esc(i.filename)}<br><span class="muted">${esc(i.caption)}</span></td><td>${esc(i.modelLabel)} → ${esc(i.label)}</td>` +
    `<td>${esc(i.predicted)} ${f(i.probability, 2)}${i.split === 'test' ? ' <span class="muted">(test)</span>' : ''}</td><td>${esc(i.topSmer.join(', '))}</td><td>${esc(i.topLime.join(', '))}</td><td>${i.fidelityError.toExponential(1)}</td></tr>`).join('');
  const grounding = s.grounding!.length
    ? `<table class="num"><tr><th>image</th><th>concept (SMER)</th><th>box</th><th>map</th><th>energy in box</th><th>box area</th><th>lift</th></tr>${s.grounding!.map((g) =>
      `<tr><td>${esc(g.filename)}</td><td>${esc(g.concept)} ${f(g.smer, 2)}</td><td>${g.box.join(', ')}</td><td>${esc(g.method)}</td><td>${pc(g.energy)}</td><td>${pc(g.area)}</td><td>${f(g.lift, 2)}</td></tr>`).join('')}</table>`
    : '<p class="muted">No labelled concept boxes on the explained images.</p>';
  return `${head}
<p>${s.documents} captioned images (${s.excluded.length} left out), target: ${esc(s.target)}; classes ${s.classes.map(esc).join(', ')}. ${esc(s.embedding!.name)} embedding (${s.embedding!.dim} words), ${esc(s.regression!.kind)} logistic regression (l2 ${s.settings.l2}).
Accuracy: train ${pc(acc.train)} (${acc.trainN}), test ${pc(acc.test)} (${acc.testN}), majority baseline ${pc(acc.majorityTest)}.
Fidelity (mean of per-word logits = caption logit): max error ${fid.maxError.toExponential(2)} over ${fid.checked} captions, ${fid.violations.length ? `<b class="bad">violated on ${fid.violations.map(esc).join(', ')}</b>` : `within ${fid.tolerance} on every caption`}.</p>
${s.excluded.length ? `<p class="muted">Left out: ${s.excluded.map((e) => `${esc(e.filename)} (${esc(e.reason)})`).join('; ')}</p>` : ''}
<h3>Top concepts per class (SMER score)</h3><table><tr><th>class</th><th>words</th></tr>${ranking}</table>
<h3>AOPC over words</h3><div class="charts"><figure>${chart}</figure></div>
<table class="num"><tr><th>K</th>${ks.map((k) => `<th>${k}</th>`).join('')}<th>AOPC</th></tr>${curveRows}</table>
<p>SMER − LIME per caption: ${f(v.meanDifference, 4)} (95% bootstrap interval ${f(v.interval[0], 4)} to ${f(v.interval[1], 4)}; SMER higher on ${v.wins}, equal on ${v.ties}, lower on ${v.losses}): SMER's AOPC is ${verdict} LIME's. <span class="muted">SMER and LIME rank words globally per class; LIME-own ranks each caption by its own LIME weights. LIME ${s.settings.limeSamples} samples, seed ${s.settings.seed}.</span></p>
<h3>Per image: top words</h3><table><tr><th>image</th><th>classifier → target</th><th>regression</th><th>SMER</th><th>LIME</th><th>fidelity error</th></tr>${images}</table>
<h3>Grounding: concept boxes against the pixel maps</h3>${grounding}
${s.groundingErrors!.length ? `<p class="muted">Boxes not scored: ${s.groundingErrors!.map((e) => `${esc(e.filename)} ${esc(e.concept)}: ${esc(e.error)}`).join('; ')}</p>` : ''}`;
}
