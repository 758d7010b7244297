// Reports over a library whose methods explained different score kinds (issue 14, finding 2): under the protocol
// (sal-1) every faithfulness curve follows the target's probability whatever the map explains, so Grad-CAM on
// the logit and Ablation-CAM on the probability are ranked on one scale; rows stored before the protocol (curves
// on each map's own score kind) are not ranked with them, and the report says so in plain words.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HAS_DATA, MODELS, manifest, model, sample } from '../helpers/data.ts';
import { openStore, type Store } from '../../src-main/engine/store/store.ts';
import { importFolder } from '../../src-main/engine/library/scan.ts';
import { createExplainJob } from '../../src-main/engine/jobs/create-job.ts';
import { runJob } from '../../src-main/engine/jobs/runner.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../../src-main/engine/image/prepare.ts';
import { evaluateStored } from '../../src-main/engine/pipeline/evaluate-stored.ts';
import { deletion } from '../../src-main/engine/metrics/deletion.ts';
import { collectReport } from '../../src-main/engine/report/collect.ts';
import { makeReport } from '../../src-main/engine/report/make-report.ts';
import { PRE_PROTOCOL, PROTOCOL_VERSION } from '../../src-main/engine/protocol.ts';

const STEPS = { deletion: { steps: 8 } };

describe.skipIf(!HAS_DATA)('reports over methods of different score kinds (real SqueezeNet)', () => {
  let dir: string;
  let store: Store;
  let libraryId: number;
  let classifier: Classifier;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'report-protocol-'));
    const root = path.join(dir, 'images');
    mkdirSync(root);
    for (const r of (await manifest()).slice(300, 303)) copyFileSync(sample(r.filename), path.join(root, r.filename));
    store = openStore(path.join(dir, 'studio.db'));
    libraryId = (await importFolder(store, root, { thumbnails: false })).library.id;
    classifier = await Classifier.load(model(MODELS.squeezenet), { threads: 1 });
  });
  afterAll(async () => {
    await classifier?.dispose();
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('follows the protocol: logit and probability maps are judged on the probability and ranked together', async () => {
    const job = await createExplainJob(store, {
      libraryId, modelPath: model(MODELS.squeezenet), methods: ['gradcam', 'ablationcam:probability'], metrics: ['deletion'], metricSettings: STEPS, seed: 1,
    });
    expect((await runJob(store, job.id, { workers: 1, threadsPerWorker: 2 })).counts).toMatchObject({ done: 6, error: 0 });
    const rows = store.db.prepare(`SELECT m.protocol, m.curve, e.score_kind AS kind FROM metrics m JOIN explanations e ON e.id = m.explanation_id`).all() as { protocol: string; curve: string; kind: string }[];
    expect(rows).toHaveLength(6);
    expect(new Set(rows.map((r) => r.kind))).toEqual(new Set(['logit', 'probability']));
    for (const r of rows) {
      expect(r.protocol).toBe(PROTOCOL_VERSION);
      const curve = JSON.parse(r.curve) as { y: number[]; yLabel: string };
      expect(curve.yLabel).toBe('target probability'); // also for the logit maps
      expect(Math.max(...curve.y)).toBeLessThanOrEqual(1);
    }
    const data = collectReport(store, { libraryId });
    expect(data.refusals).toEqual([]);
    expect(data.excludedMetrics).toEqual([]);
    expect(data.series.map((s) => s.label)).toEqual(['ablationcam (top-1, probability)', 'gradcam (top-1, logit)']);
    expect(data.summary.filter((s) => s.metric === 'deletion').map((s) => [s.seriesLabel, s.n]).sort()).toEqual([['ablationcam (top-1, probability)', 3], ['gradcam (top-1, logit)', 3]]);
  }, 300_000);

  it('refuses to rank pre-protocol rows of different score kinds, and pre-protocol rows beside sal-1 ones, saying why', async () => {
    // What the app stored before the protocol: deletion on each map's own score kind, no protocol recorded.
    const expl = store.explanations.list({});
    for (const e of expl) {
      const stored = store.explanations.get(e.id)!;
      const { prepared } = await prepareImageFile(store.images.get(e.imageId)!.path, classifier);
      const r = await deletion.compute({ image: prepared, target: { classIndex: e.targetClass, score: e.scoreKind }, map: stored.map, model: classifier }, deletion.settings(STEPS.deletion), 1);
      store.metrics.save({ explanationId: e.id, name: 'deletion', value: r.value, curve: r.curve, randomValue: r.control?.value ?? null, seed: 1, settings: r.settings });
    }
    expect(store.metrics.list({}).every((m) => m.protocol === null)).toBe(true); // same key: the old rows replaced the sal-1 ones
    const logitAuc = store.metrics.list({}).find((m) => store.explanations.get(m.explanationId)!.scoreKind === 'logit')!.value!;
    expect(logitAuc).toBeGreaterThan(1); // a logit curve: not comparable with a probability AUC

    const old = collectReport(store, { libraryId });
    expect(old.summary.filter((s) => s.metric === 'deletion')).toEqual([]);
    expect(old.metrics).toEqual([]);
    expect(old.excludedMetrics).toHaveLength(6);
    expect(old.excludedMetrics.every((m) => m.protocol === PRE_PROTOCOL)).toBe(true);
    expect(old.refusals).toHaveLength(1);
    expect(old.refusals[0]).toMatch(/^deletion: not ranked\..*logit \(gradcam \(top-1, logit\)\) with probability \(ablationcam \(top-1, probability\)\).*not comparable/);

    // Recompute Grad-CAM's under the protocol: the report compares sal-1 rows only and names what it leaves out.
    const gradcam = expl.filter((e) => e.method === 'gradcam').map((e) => e.id);
    await evaluateStored(store, classifier, gradcam, { metrics: ['deletion'], settings: STEPS, seed: 1 });
    const mixed = collectReport(store, { libraryId });
    expect(mixed.metrics.map((m) => [m.method, m.protocol])).toEqual(gradcam.map(() => ['gradcam', PROTOCOL_VERSION]));
    expect(mixed.excludedMetrics.map((m) => [m.method, m.protocol])).toEqual([['ablationcam', PRE_PROTOCOL], ['ablationcam', PRE_PROTOCOL], ['ablationcam', PRE_PROTOCOL]]);
    expect(mixed.refusals).toEqual([
      `3 metric value(s) (deletion) of ablationcam (top-1, probability) are not compared with the ${PROTOCOL_VERSION} values: they were computed before protocol ${PROTOCOL_VERSION} (faithfulness curves then followed each map's own score kind, logit or probability). Recompute them (run the metrics again) to include them.`,
    ]);
    expect(mixed.summary.filter((s) => s.metric === 'deletion').map((s) => s.seriesLabel)).toEqual(['gradcam (top-1, logit)']);

    // The HTML says it too, where the ranking is.
    const made = await makeReport(store, { libraryId }, { outDir: path.join(dir, 'out'), formats: ['html', 'json'], concepts: false });
    const html = readFileSync(made.files.html!, 'utf8');
    expect(html).toContain(`protocol <b>${PROTOCOL_VERSION}</b>`);
    expect(html).toContain('Not compared: 3 metric value(s) (deletion) of ablationcam (top-1, probability)');
    expect(JSON.parse(readFileSync(made.files.json!, 'utf8')).refusals).toEqual(mixed.refusals);

    // One more deletion value of a Grad-CAM map with other settings (as Compare's quick curves add): not pooled.
    await evaluateStored(store, classifier, gradcam.slice(0, 1), { metrics: ['deletion'], settings: { deletion: { steps: 4 } }, seed: 1 });
    const twoSettings = collectReport(store, { libraryId });
    expect(twoSettings.refusals[1]).toBe('deletion: 1 value(s) of gradcam (top-1, logit) computed with other settings (steps=4 instead of 8) are not pooled with the 3 compared.');
    expect(twoSettings.summary.find((s) => s.metric === 'deletion')!.n).toBe(3);
  }, 300_000);
});
