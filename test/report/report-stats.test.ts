// The report's statistics on a small real library (SqueezeNet, 4 sample images of 4 classes): with n = 4 no
// paired comparison can reach Holm p < 0.05 (the exact sign-flip p is at least 2/16), so "which method wins"
// must say "no clear difference (n = 4)"; the ensemble is ranked apart from the single methods and compared
// with the best single one; no per-class claim rests on fewer than 5 images; no "worst on many images" flag
// fires at chance level; every series has measured pros and cons, LIME with seed-to-seed agreement.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HAS_DATA, MODELS, model, sample } from '../helpers/data.ts';
import { tempLibrary } from '../helpers/library.ts';
import type { Store } from '../../src-main/engine/store/store.ts';
import { createExplainJob } from '../../src-main/engine/jobs/create-job.ts';
import { runJob } from '../../src-main/engine/jobs/runner.ts';
import { ensembleStored } from '../../src-main/engine/pipeline/ensemble-stored.ts';
import { evaluateStored } from '../../src-main/engine/pipeline/evaluate-stored.ts';
import { makeReport, type ReportResult } from '../../src-main/engine/report/make-report.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';

const IMAGES = ['n01440764_tench', 'n02123045_tabby', 'n04099969_rocking_chair', 'n07747607_orange'];

describe.skipIf(!HAS_DATA)('report statistics on a small sample', () => {
  let store: Store;
  let result: ReportResult;

  beforeAll(async () => {
    const lib = await tempLibrary(IMAGES.map((f) => sample(`${f}.JPEG`)));
    const { dir, libraryId } = lib;
    store = lib.store;
    // LIME twice with different seeds: the report measures seed-to-seed agreement from the earlier run.
    for (const [methods, seed] of [[['lime'], 1], [['gradcam', 'lime'], 2]] as const) {
      const job = await createExplainJob(store, { libraryId, modelPath: model(MODELS.squeezenet), methods: [...methods], settings: { lime: { samples: 60 } }, seed });
      await runJob(store, job.id, { workers: 1 });
    }
    const modelId = store.models.list()[0].id;
    const imageIds = store.images.allOf(libraryId).map((i) => i.id);
    ensembleStored(store, { modelId, imageIds, specs: [{ combiner: 'mean' }] });
    const classifier = await Classifier.load(model(MODELS.squeezenet));
    const all = imageIds.flatMap((id) => store.explanations.list({ imageId: id }).map((e) => e.id));
    const ev = await evaluateStored(store, classifier, all, {
      metrics: ['deletion', 'insertion', 'complexity'], settings: { deletion: { steps: 10 }, insertion: { steps: 10 } }, seed: 3,
    });
    expect(ev.errors).toEqual([]);
    await classifier.dispose();
    result = await makeReport(store, { libraryId }, { outDir: path.join(dir, 'report'), formats: ['html', 'csv', 'json'] });
  }, 900_000);

  afterAll(() => store?.close());

  it('states n, the 95% interval and the paired difference to the control per series and metric', () => {
    const d = result.data;
    const del = d.summary.filter((s) => s.metric === 'deletion');
    expect(del.map((s) => s.kind).sort()).toEqual(['ensemble', 'single', 'single']);
    for (const s of del) {
      expect(s.n).toBe(IMAGES.length);
      expect(s.ci95[0]).toBeLessThanOrEqual(s.mean);
      expect(s.ci95[1]).toBeGreaterThanOrEqual(s.mean);
      expect(s.vsControl!.diff).toBeCloseTo(s.mean - s.controlMean!, 10);
    }
    expect(del.find((s) => s.kind === 'ensemble')!.rank).toBe(1);
  });

  it('says "no clear difference (n = 4)" where no claim is supported, and ranks the ensemble separately', () => {
    const d = result.data;
    const pairs = d.pairs.filter((p) => p.metric === 'insertion');
    expect(pairs.map((p) => p.kind).sort()).toEqual(['ensemble-vs-best-single', 'single']);
    const single = pairs.find((p) => p.kind === 'single')!;
    expect([single.a, single.b].some((x) => x.startsWith('ensemble'))).toBe(false);
    const vsBest = pairs.find((p) => p.kind === 'ensemble-vs-best-single')!;
    expect(vsBest.a.startsWith('ensemble:mean')).toBe(true);
    expect(vsBest.b).toBe(d.summary.find((s) => s.metric === 'insertion' && s.kind === 'single' && s.rank === 1)!.series);
    for (const p of d.pairs) {
      expect(p.pHolm).toBeGreaterThanOrEqual(0.125);
      expect(p.winner).toBeNull();
      expect(p.verdict).toBe('no clear difference (n = 4)');
    }
    const html = readFileSync(result.files.html!, 'utf8');
    const start = html.indexOf('Which method wins');
    const wins = html.slice(start, html.indexOf('<table', start));
    expect(wins).toContain('no clear difference (n = 4)');
    expect(wins).toMatch(/each ensemble vs the best single method/);
    expect(wins).not.toMatch(/ better than | wins /);
    const pairsCsv = readFileSync(result.files['pairs-csv']!, 'utf8').trim().split('\n');
    expect(pairsCsv).toHaveLength(1 + d.pairs.length);
  });

  it('claims nothing per class from fewer than 5 images and no frequency flag at chance level', () => {
    const a = result.analysis;
    expect(a.minClassImages).toBe(5);
    expect(a.notes.join(' ')).toContain('Per-class findings: none claimed — no class has at least 5 images (the largest has 1)');
    const all = a.perMethod.flatMap((f) => [...f.strengths, ...f.weaknesses]);
    expect(all.some((t) => /on class|strongest on|weakest on/.test(t))).toBe(false);
    // 4/4 best of 2 has binomial p = 0.0625: never a flag at n = 4.
    expect(all.some((t) => /best of|worst of/.test(t))).toBe(false);
    expect(a.conventions.join(' ')).toContain('max(a − s, 0)');
  });

  it('gives each series measured pros and cons with numbers and intervals', () => {
    const byLabel = new Map(result.analysis.profiles.map((p) => [p.series.split('|')[0], p]));
    const lime = byLabel.get('lime')!;
    const cost = lime.statements.find((s) => s.measure === 'model evaluations per image')!;
    expect(cost).toMatchObject({ mean: 60, n: IMAGES.length });
    const grad = byLabel.get('gradcam')!.statements.find((s) => s.aspect === 'resolution')!;
    expect(grad.text).toContain('13x13 grid');
    const limeRes = lime.statements.find((s) => s.aspect === 'resolution')!;
    expect(limeRes.text).toMatch(/\d+ segments/);
    // Grad-CAM's upsampled 13x13 map is coarser than LIME's superpixel map.
    expect(grad.mean!).toBeLessThan(limeRes.mean!);
    const seeds = lime.statements.find((s) => s.measure.startsWith('seed-to-seed'))!;
    expect(seeds.n).toBe(IMAGES.length);
    expect(seeds.ci95).not.toBeNull();
    const faith = lime.statements.filter((s) => s.aspect === 'faithfulness');
    expect(faith.map((s) => s.measure).sort()).toEqual(['deletion', 'insertion']);
    expect(faith[0].text).toMatch(/95% CI .*\(n = 4\); map − random control/);
    const html = readFileSync(result.files.html!, 'utf8');
    expect(html).toContain('Measured pros and cons');
  });
});
