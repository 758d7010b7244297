// The report's concept section on real data: the real typed captions of 89 sample images imported into a
// temporary store, MobileNetV2's predictions stored (a Grad-CAM job on the images with concept boxes, top-1
// predictions of the rest), and a report in HTML, JSON and CSV. The numbers must equal a direct computation
// from the captions file with the live classifier, and the CSV must equal the JSON.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_DATA, MODELS, REPO, model, sample } from '../helpers/data.ts';
import { tempDir } from '../helpers/files.ts';
import { openStore, type Store } from '../../src-main/engine/store/store.ts';
import { importFolder } from '../../src-main/engine/library/scan.ts';
import { createExplainJob } from '../../src-main/engine/jobs/create-job.ts';
import { runJob } from '../../src-main/engine/jobs/runner.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../../src-main/engine/image/prepare.ts';
import { predictTopK } from '../../src-main/engine/predict.ts';
import { makeReport, type ReportResult } from '../../src-main/engine/report/make-report.ts';
import type { ConceptsSection } from '../../src-main/engine/report/concepts.ts';
import { readCaptionFile, type CaptionFile } from '../../src-main/engine/concepts/captions-file.ts';
import { importCaptionFile } from '../../src-main/engine/concepts/store-captions.ts';
import { fitConceptModel } from '../../src-main/engine/concepts/concept-model.ts';
import { IdentityEmbedding } from '../../src-main/engine/concepts/embedding.ts';
import { aopcReport, fitCaptions } from '../../src-main/engine/concepts/pipeline.ts';
import { compareAopc } from '../../src-main/engine/concepts/aopc.ts';
import { smerGlobalRanking } from '../../src-main/engine/concepts/smer.ts';

const CAPTIONS = path.join(REPO, 'resources/captions/imagenet-samples.json');
const SEED = 0;
const LIME_SAMPLES = 300;

describe.skipIf(!HAS_DATA)('report: concepts (SMER) section on the real captions', () => {
  let store: Store;
  let file: CaptionFile;
  let result: ReportResult;
  let json: { concepts: ConceptsSection; images: unknown[] };
  let classifier: Classifier;

  beforeAll(async () => {
    file = await readCaptionFile(CAPTIONS);
    const dir = tempDir();
    const folder = path.join(dir, 'images');
    mkdirSync(folder);
    for (const c of file.captions) copyFileSync(sample(c.filename), path.join(folder, c.filename));
    store = openStore(path.join(dir, 'studio.db'));
    const libraryId = (await importFolder(store, folder, { thumbnails: false })).library.id;
    await importCaptionFile(store, CAPTIONS, libraryId);
    const images = store.images.allOf(libraryId);
    const boxed = new Set(file.captions.filter((c) => c.boxes?.length).map((c) => c.filename));
    // Grad-CAM maps (and predictions) for the images with concept boxes; the rest get stored predictions only.
    const job = await createExplainJob(store, {
      libraryId, modelPath: model(MODELS.mobilenet), methods: ['gradcam'], seed: 1, imageIds: images.filter((i) => boxed.has(i.relPath)).map((i) => i.id),
    });
    await runJob(store, job.id, { workers: 1 });
    classifier = await Classifier.load(model(MODELS.mobilenet));
    const modelId = store.models.ensure(classifier.info).id;
    for (const img of images.filter((i) => !boxed.has(i.relPath))) {
      const { prepared } = await prepareImageFile(img.path, classifier);
      const [top] = await predictTopK(classifier, [prepared.input], 5);
      store.predictions.save({ imageId: img.id, modelId, topK: top.map((p) => ({ classIndex: p.classIndex, probability: p.probability, logit: p.logit })) });
    }
    result = await makeReport(store, { libraryId, modelId }, {
      outDir: path.join(dir, 'report'), formats: ['html', 'json', 'csv'],
      concepts: { groups: file.groups, seed: SEED, limeSamples: LIME_SAMPLES },
    });
    json = JSON.parse(readFileSync(result.files.json!, 'utf8'));
  }, 900_000);

  afterAll(async () => {
    store?.close();
    await classifier?.dispose();
  });

  it('has the concepts section in HTML (before Reproducibility), JSON and CSV', () => {
    const c = json.concepts;
    expect(c.status).toBe('ok');
    expect(c.captioned).toBe(89);
    expect(c.documents).toBe(85); // 4 predictions fall outside every group, as with the captions file
    expect(c.excluded).toHaveLength(4);
    expect(c.classes).toEqual(['dog', 'wild canine', 'cat', 'bird', 'road vehicle']);
    for (const r of c.ranking!) expect(r.words).toHaveLength(5);
    expect(c.ranking!.find((r) => r.class === 'dog')!.words.map((w) => w.word)).toContain('dog');
    expect(c.accuracy!.test).toBeGreaterThan(c.accuracy!.majorityTest);
    expect(json.images).toHaveLength(4); // the report's gallery/tables still cover the explained images only
    const html = readFileSync(result.files.html!, 'utf8');
    const at = html.indexOf('<h2>Concepts (SMER)</h2>');
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(html.indexOf('<h2>Reproducibility</h2>'));
    expect(html.slice(at)).toContain('AOPC over words');
    expect(html.slice(at).match(/<svg/g)!.length).toBeGreaterThanOrEqual(1);
    expect(result.files['concepts-csv']).toMatch(/report\.concepts\.csv$/);
    expect(store.reports.list().map((r) => r.kind).sort()).toEqual(['concepts-csv', 'csv', 'html', 'json', 'pairs-csv', 'summary-csv']);
  });

  it('the fidelity identity holds to 1e-9 on every image, checked from the JSON numbers alone', () => {
    const c = json.concepts;
    expect(c.fidelity!.maxError).toBeLessThan(1e-9);
    expect(c.fidelity!.violations).toEqual([]);
    expect(c.fidelity!.checked).toBe(85);
    for (const img of c.images!) {
      expect(img.fidelityError).toBeLessThan(1e-9);
      // Mean of the per-word SMER scores (each occurrence counted) = the caption's own score.
      const n = img.words.reduce((s, w) => s + w.count, 0);
      const mean = img.words.reduce((s, w) => s + w.count * w.smer, 0) / n;
      expect(Math.abs(mean - img.score)).toBeLessThan(1e-9);
    }
  });

  it('AOPC curves and the SMER-LIME verdict equal aopcReport/compareAopc computed directly from the captions file', async () => {
    // Independent path: captions from the file, labels from the live classifier, same caption order as the report.
    const direct = await fitCaptions(CAPTIONS, classifier, { seed: SEED });
    const docs = [...direct.set.docs].sort((a, b) => (a.filename < b.filename ? -1 : 1));
    const c = json.concepts;
    expect(c.images!.map((i) => i.filename)).toEqual(docs.map((d) => d.filename));
    expect(c.images!.map((i) => i.label)).toEqual(docs.map((d) => direct.set.classes[d.label]));
    const fit = fitConceptModel(docs, direct.set.classes, new IdentityEmbedding(docs.flatMap((d) => d.words)), { seed: SEED });
    expect(c.accuracy!.train).toBe(fit.trainAccuracy);
    expect(c.accuracy!.test).toBe(fit.testAccuracy);
    const r = aopcReport(fit.model, docs.map((d) => d.words), { seed: SEED, maxK: 6, lime: { samples: LIME_SAMPLES } });
    for (const [mine, theirs] of [[c.aopc!.smer, r.smer], [c.aopc!.lime, r.limeCurve], [c.aopc!.limeLocal, r.limeLocal], [c.aopc!.random, r.random]] as const) {
      expect(mine.drops).toHaveLength(7);
      mine.drops.forEach((d, k) => expect(d).toBeCloseTo(theirs.drops[k], 12));
      expect(mine.aopc).toBeCloseTo(theirs.aopc, 12);
    }
    const cmp = compareAopc(r.smer, r.limeCurve, SEED);
    expect(c.aopc!.smerVsLime.meanDifference).toBeCloseTo(cmp.meanDifference, 12);
    expect(c.aopc!.smerVsLime.interval[0]).toBeCloseTo(cmp.interval[0], 12);
    expect(c.aopc!.smerVsLime.interval[1]).toBeCloseTo(cmp.interval[1], 12);
    expect(c.aopc!.smerVsLime.verdict).toBe(cmp.verdict);
    expect(c.aopc!.smer.aopc).toBeGreaterThan(c.aopc!.random.aopc);
    for (const [k, cls] of direct.set.classes.entries()) {
      expect(c.ranking![k].words).toEqual(smerGlobalRanking(fit.model, k).slice(0, 5));
      expect(c.ranking![k].class).toBe(cls);
    }
  });

  it('grounds the concept boxes against the stored Grad-CAM maps', () => {
    const g = json.concepts.grounding!;
    const boxed = file.captions.filter((x) => x.boxes?.length).map((x) => x.filename);
    const grounded = new Set(g.map((x) => x.filename));
    const usable = boxed.filter((f) => json.concepts.images!.some((i) => i.filename === f));
    expect([...grounded].sort()).toEqual(usable.sort());
    for (const row of g) {
      expect(row.method).toBe('gradcam');
      expect(row.energy).toBeGreaterThanOrEqual(0);
      expect(row.energy).toBeLessThanOrEqual(1);
      expect(row.lift).toBeCloseTo(row.energy / row.area, 12);
    }
  });

  it('says why there is no concept model when the captions cannot support one', async () => {
    const modelId = result.data.model.id;
    const few = await makeReport(store, { libraryId: result.data.selection.libraryId, modelId }, {
      outDir: tempDir(), formats: ['html', 'json', 'csv'], concepts: { groups: file.groups, minCaptions: 100 },
    });
    expect(few.concepts).toMatchObject({ status: 'skipped', captioned: 89, documents: 85 });
    expect(few.concepts!.reason).toBe('85 usable captioned images; the concept model needs at least 100');
    expect(few.files['concepts-csv']).toBeUndefined();
    expect(readFileSync(few.files.html!, 'utf8')).toContain('no concept model: 85 usable captioned images');
    // Without class groups every ImageNet class is its own: classes predicted for a single image are left out,
    // and the few images of classes predicted twice are too few for a model.
    // Imported captions bring their file's groups to the library: the default report uses them.
    const libraryId = result.data.selection.libraryId!;
    expect(store.libraries.get(libraryId)!.conceptGroups).toEqual(file.groups);
    const byLibrary = await makeReport(store, { libraryId, modelId }, { outDir: tempDir(), formats: ['json'], concepts: { seed: SEED, limeSamples: LIME_SAMPLES } });
    expect(byLibrary.concepts!.aopc).toEqual(result.concepts!.aopc);
    store.libraries.setConceptGroups(libraryId, null);
    const ungrouped = await makeReport(store, { libraryId, modelId }, { outDir: tempDir(), formats: ['json'] });
    store.libraries.setConceptGroups(libraryId, file.groups as Record<string, unknown>);
    expect(ungrouped.concepts!.status).toBe('skipped');
    expect(ungrouped.concepts!.reason).toMatch(/^\d usable captioned images; the concept model needs at least 10$/);
    expect(ungrouped.concepts!.documents + ungrouped.concepts!.excluded.length).toBe(89);
    expect(ungrouped.concepts!.excluded.some((e) => /only captioned image of class .*give class groups/.test(e.reason))).toBe(true);
    const none = await makeReport(store, { libraryId: result.data.selection.libraryId, modelId }, { outDir: tempDir(), formats: ['json'], concepts: false });
    expect(none.concepts).toBeUndefined();
  });

  it('CSV rows equal the JSON', () => {
    const lines = readFileSync(result.files['concepts-csv']!, 'utf8').trim().split('\n');
    const header = lines[0].split(',');
    const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v])));
    const c = json.concepts;
    const imageRows = rows.filter((r) => r.scope === 'image');
    expect(imageRows).toHaveLength(c.images!.reduce((s, i) => s + i.words.length, 0));
    for (const img of c.images!) {
      const mine = imageRows.filter((r) => Number(r.image_id) === img.imageId);
      expect(mine.map((r) => r.word)).toEqual(img.words.map((w) => w.word));
      mine.forEach((r, j) => {
        expect(r.image).toBe(img.filename);
        expect(r.class).toBe(img.predicted);
        expect(Number(r.smer_score)).toBe(img.words[j].smer);
        expect(Number(r.lime_weight)).toBe(img.words[j].lime);
        expect(Number(r.count)).toBe(img.words[j].count);
        expect(Number(r.smer_rank)).toBe(j + 1);
      });
      const limeFirst = mine.find((r) => r.lime_rank === '1')!;
      expect(limeFirst.word).toBe(img.topLime[0]);
    }
    const classRows = rows.filter((r) => r.scope === 'class');
    expect(classRows.map((r) => [r.class, r.word, Number(r.smer_score)])).toEqual(c.ranking!.flatMap((k) => k.words.map((w) => [k.class, w.word, w.score])));
  });
});
