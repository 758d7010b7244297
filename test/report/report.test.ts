// Reports over real explanations of real sample images: three methods and two ensembles, metrics with random
// controls, ratings from two raters. The HTML opens in Chromium with no external request, the PDF renders
// (pages checked as images), and the CSV rows equal the database.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync, readdirSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import sharp from 'sharp';
import { HAS_DATA, MODELS, model, sample } from '../helpers/data.ts';
import { tempDir } from '../helpers/files.ts';
import { tempLibrary } from '../helpers/library.ts';
import type { Store } from '../../src-main/engine/store/store.ts';
import { createExplainJob } from '../../src-main/engine/jobs/create-job.ts';
import { runJob } from '../../src-main/engine/jobs/runner.ts';
import { ensembleStored } from '../../src-main/engine/pipeline/ensemble-stored.ts';
import { evaluateStored } from '../../src-main/engine/pipeline/evaluate-stored.ts';
import { makeReport, type ReportResult } from '../../src-main/engine/report/make-report.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { chromiumPath, CHROMIUM_ARGS } from '../../src-main/engine/report/pdf.ts';
import { ApiService } from '../../src-main/api/service.ts';

const HAS_CHROMIUM = existsSync('/usr/bin/chromium') || !!process.env.CHROMIUM_PATH;
const IMAGES = ['n01440764_tench', 'n02090379_redbone', 'n02123045_tabby', 'n04099969_rocking_chair', 'n07747607_orange'];

describe.skipIf(!HAS_DATA)('comparison reports', () => {
  let store: Store;
  let out: string;
  let result: ReportResult;
  let libraryId: number;
  let dbFile: string;

  beforeAll(async () => {
    const lib = await tempLibrary(IMAGES.map((f) => sample(`${f}.JPEG`)));
    const { dir } = lib;
    ({ store, dbFile, libraryId } = lib);
    const job = await createExplainJob(store, {
      libraryId, modelPath: model(MODELS.squeezenet), methods: ['gradcam', 'lime', 'rise'],
      settings: { lime: { samples: 150 }, rise: { masks: 300 } }, seed: 7,
    });
    await runJob(store, job.id, { workers: 1 });
    const modelId = store.models.list()[0].id;
    const imageIds = store.images.allOf(libraryId).map((i) => i.id);
    ensembleStored(store, { modelId, imageIds, specs: [{ combiner: 'mean' }, { combiner: 'borda' }] });
    const classifier = await Classifier.load(model(MODELS.squeezenet));
    const all = imageIds.flatMap((id) => store.explanations.list({ imageId: id }).map((e) => e.id));
    const ev = await evaluateStored(store, classifier, all, {
      metrics: ['deletion', 'insertion', 'sparseness', 'complexity'], settings: { deletion: { steps: 12 }, insertion: { steps: 12 } }, seed: 3,
    });
    expect(ev.errors).toEqual([]);
    await classifier.dispose();
    // Two raters, Likert and pairwise.
    for (const e of store.explanations.list({})) {
      const base = e.method === 'gradcam' ? 4 : e.method.startsWith('ensemble') ? 3 : 2;
      store.ratings.rate({ rater: 'ann', explanationId: e.id, likert: base });
      store.ratings.rate({ rater: 'bob', explanationId: e.id, likert: Math.min(5, base + (e.id % 2)) });
    }
    for (const id of imageIds) {
      const ex = store.explanations.list({ imageId: id });
      const g = ex.find((e) => e.method === 'gradcam')!;
      const l = ex.find((e) => e.method === 'lime')!;
      store.ratings.choose({ rater: 'ann', explanationA: g.id, explanationB: l.id, winner: 'a' });
    }
    store.weightSets.save({ name: 'from-ratings', source: 'ratings', weights: { gradcam: 0.6, lime: 0.25, rise: 0.15 }, provenance: { test: true } });
    out = path.join(dir, 'report');
    result = await makeReport(store, { libraryId }, { outDir: out, formats: HAS_CHROMIUM ? ['html', 'pdf', 'csv', 'json'] : ['html', 'csv', 'json'] });
  }, 900_000);

  afterAll(() => store?.close());

  it('covers three methods and two ensembles with metrics, controls, ratings and the analysis', () => {
    const d = result.data;
    expect(d.methods).toEqual(['gradcam', 'lime', 'rise', 'ensemble:borda', 'ensemble:mean']);
    expect(d.images).toHaveLength(IMAGES.length);
    expect(d.metrics.length).toBe(IMAGES.length * 5 * 4);
    const del = d.summary.find((s) => s.metric === 'deletion' && s.method === 'gradcam')!;
    expect(del.controlMean).not.toBeNull();
    expect(d.ratings.raters).toEqual(['ann', 'bob']);
    expect(d.ratings.alpha.pairable).toBe(IMAGES.length * 5);
    expect(result.analysis.perMethod.map((f) => f.method)).toEqual(d.series.map((x) => x.key));
    expect(result.analysis.perMethod.some((f) => f.strengths.length + f.weaknesses.length > 0)).toBe(true);
    expect(result.agreement.matrix).toHaveLength(5);
    expect(store.reports.list().map((r) => r.kind).sort()).toEqual((HAS_CHROMIUM ? ['csv', 'html', 'json', 'pairs-csv', 'pdf', 'summary-csv'] : ['csv', 'html', 'json', 'pairs-csv', 'summary-csv']));
  });

  it('CSV rows equal the metric rows in the database', () => {
    const lines = readFileSync(result.files.csv!, 'utf8').trim().split('\n');
    const header = lines[0].split(',');
    const col = (name: string) => header.indexOf(name);
    expect(lines.length - 1).toBe(result.data.metrics.length);
    for (const line of lines.slice(1)) {
      const cells = line.split(',');
      const id = Number(cells[col('explanation_id')]);
      const row = store.metrics.list({ explanationId: id }).find((m) => m.name === cells[col('metric')])!;
      expect(Number(cells[col('value')])).toBe(row.value);
      expect(cells[col('random_control')] === '' ? null : Number(cells[col('random_control')])).toBe(row.randomValue);
      expect(cells[col('method')]).toBe(store.explanations.get(id)!.method);
    }
  });

  it('JSON holds the same numbers, and the summary means are the means of the rows', () => {
    const json = JSON.parse(readFileSync(result.files.json!, 'utf8'));
    expect(json.metrics).toHaveLength(result.data.metrics.length);
    for (const s of result.data.summary) {
      const vals = result.data.metrics.filter((m) => m.method === s.method && m.metric === s.metric).map((m) => m.value!);
      expect(s.mean).toBeCloseTo(vals.reduce((a, b) => a + b, 0) / vals.length, 10);
    }
  });

  it('numbers in the report equal those the app API returns for the same runs', async () => {
    const api = new ApiService({ dataDir: tempDir(), dbFile, model: model(MODELS.squeezenet) });
    try {
      await api.init();
      const ids = result.data.explanations.map((e) => String(e.id));
      const fromApi = await api.call('metrics.list', { explanationIds: ids });
      expect(fromApi).toHaveLength(result.data.metrics.length);
      for (const m of result.data.metrics) {
        const a = fromApi.find((x) => x.explanationId === String(m.explanationId) && x.metric === m.metric)!;
        expect([a.method, a.series, a.seriesLabel, a.value, a.randomControl]).toEqual([m.method, m.series, m.seriesLabel, m.value, m.randomControl]);
      }
      const ratings = await api.call('ratings.summary', { libraryId: String(libraryId) });
      for (const r of result.data.ratings.perMethod.filter((p) => p.likertN > 0)) {
        const a = ratings.find((x) => x.series === r.series)!;
        expect(a.likertMean).toBe(r.likertMean);
        expect(a.likertCount).toBe(r.likertN);
        expect(a.bradleyTerry).toBe(r.bradleyTerry);
      }
      const img = result.data.images[0];
      const detail = await api.call('image.get', { imageId: String(img.id) });
      for (const [series, id] of Object.entries(img.explanations)) {
        const e = detail.explanations.find((x) => x.id === String(id))!;
        expect(e.series).toBe(series);
        expect(e.evaluations).toBe(result.data.explanations.find((x) => x.id === id)!.evaluations);
      }
    } finally {
      api.close();
    }
  });

  it.skipIf(!HAS_CHROMIUM)('the HTML opens in Chromium with no external requests and every figure drawn', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (r) => { if (!r.url().startsWith('data:')) requests.push(r.url()); });
      await page.goto(`file://${result.files.html}`);
      expect(requests).toEqual([`file://${result.files.html}`]);
      const images = await page.$$eval('img', (els) => els.map((e) => (e as unknown as { naturalWidth: number }).naturalWidth));
      expect(images.length).toBeGreaterThanOrEqual(IMAGES.length * 6);
      expect(images.every((w) => w > 0)).toBe(true);
      expect(await page.locator('svg').count()).toBeGreaterThanOrEqual(5);
      const text = await page.textContent('body');
      expect(text).toContain('Strengths and weaknesses');
      expect(text).toContain("Krippendorff's alpha");
      const shot = path.join(process.cwd(), 'test-artifacts', 'report');
      mkdirSync(shot, { recursive: true });
      await page.screenshot({ path: path.join(shot, 'report.png'), fullPage: false });
    } finally {
      await browser.close();
    }
  });

  it.skipIf(!HAS_CHROMIUM)('the PDF renders: its pages, turned into images, are not blank', async () => {
    const pdf = readFileSync(result.files.pdf!);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const dir = tempDir();
    execFileSync('pdftoppm', ['-png', '-r', '40', result.files.pdf!, path.join(dir, 'page')]);
    const pages = readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
    expect(pages.length).toBeGreaterThanOrEqual(2);
    for (const p of pages.slice(0, 3)) {
      const stats = await sharp(path.join(dir, p)).stats();
      expect(stats.channels[0].stdev).toBeGreaterThan(5); // ink on the page
    }
  });
});
