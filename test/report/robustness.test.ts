// The report's robustness section on a small real library (builtin:demo, 8 bundled digits, Grad-CAM and
// Saliency): adversarial-fragility at two epsilons and adversarial-topk at one, each settings group its own row
// with n and a 95% interval; the random control; the targeted attack against the untargeted one, paired.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { tempLibrary } from '../helpers/library.ts';
import { NO_CLOCK } from '../helpers/demo-image.ts';
import type { Store } from '../../src-main/engine/store/store.ts';
import { createExplainJob } from '../../src-main/engine/jobs/create-job.ts';
import { runJob } from '../../src-main/engine/jobs/runner.ts';
import { evaluateStored } from '../../src-main/engine/pipeline/evaluate-stored.ts';
import { makeReport, type ReportResult } from '../../src-main/engine/report/make-report.ts';
import { robustnessSection, type RobustnessSection } from '../../src-main/engine/report/robustness.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { builtinSamplesDir, resolveModelSpec } from '../../src-main/engine/model/builtin.ts';
import { releaseGradientGraphs } from '../../src-main/engine/model/autodiff/gradient-scheduler.ts';

const IMAGES = 8;

describe('report: robustness section', () => {
  let store: Store;
  let result: ReportResult;

  beforeAll(async () => {
    const samples = builtinSamplesDir('demo');
    const lib = await tempLibrary(readdirSync(samples).sort().slice(0, IMAGES).map((f) => path.join(samples, f)));
    const { dir, libraryId } = lib;
    store = lib.store;
    const modelPath = resolveModelSpec('builtin:demo');
    const job = await createExplainJob(store, { libraryId, modelPath, methods: ['gradcam', 'saliency'], seed: 1 });
    await runJob(store, job.id, { workers: 1 });
    const classifier = await Classifier.load(modelPath);
    const ids = store.images.allOf(libraryId).flatMap((img) => store.explanations.list({ imageId: img.id }).map((e) => e.id));
    for (const [metric, epsilon] of [['adversarial-fragility', 8], ['adversarial-fragility', 2], ['adversarial-topk', 8]] as const) {
      const ev = await evaluateStored(store, classifier, ids, { metrics: [metric], settings: { [metric]: { epsilon, steps: 5 } }, seed: 3 });
      expect(ev.errors).toEqual([]);
    }
    await releaseGradientGraphs();
    await classifier.dispose();
    result = await makeReport(store, { libraryId }, { outDir: path.join(dir, 'report'), formats: ['html', 'json'] });
  }, NO_CLOCK);

  afterAll(() => store?.close());

  it('one row per attack, series and epsilon with n and a 95% interval; control and paired comparison stated', () => {
    const json = JSON.parse(readFileSync(result.files.json!, 'utf8')) as { robustness: RobustnessSection };
    const s = json.robustness;
    expect(s.rows.map((r) => `${r.metric} ${r.epsilon} ${r.seriesLabel.split(' ')[0]}`).sort()).toEqual([
      'adversarial-fragility 2 gradcam', 'adversarial-fragility 2 saliency', 'adversarial-fragility 8 gradcam', 'adversarial-fragility 8 saliency',
      'adversarial-topk 8 gradcam', 'adversarial-topk 8 saliency',
    ]);
    for (const r of s.rows) {
      expect(r.n).toBe(IMAGES);
      expect(r.ci95[0]).toBeLessThanOrEqual(r.mean);
      expect(r.ci95[1]).toBeGreaterThanOrEqual(r.mean);
      expect(r.mean).toBeLessThanOrEqual(1);
    }
    expect(s.control.n).toBe(IMAGES);
    expect(Math.abs(s.control.mean)).toBeLessThan(0.5);
    expect(s.targetedVsUntargeted.map((c) => `${c.epsilon} ${c.n}`)).toEqual(['8 8', '8 8']);
    const html = readFileSync(result.files.html!, 'utf8');
    expect(html).toContain('Robustness to adversarial perturbations');
    expect(html).toContain('Random control: Spearman between two seeded random maps');
    expect(html).toContain('Targeted against untargeted attack');
    console.log(s.rows.map((r) => `${r.metric} eps ${r.epsilon} ${r.seriesLabel}: ${r.mean.toFixed(3)} [${r.ci95.map((v) => v.toFixed(3)).join(', ')}] (n = ${r.n})`).join('\n'));
    console.log(s.targetedVsUntargeted.map((c) => `${c.what}, eps ${c.epsilon}: ${c.diff.toFixed(3)} [${c.ci95.map((v) => v.toFixed(3)).join(', ')}] (n = ${c.n}): ${c.verdict}`).join('\n'));
  });

  it('no adversarial rows, no section', () => {
    const d = result.data;
    const other = (m: { metric: string }) => !m.metric.startsWith('adversarial');
    expect(robustnessSection({ ...d, metrics: d.metrics.filter(other), excludedMetrics: d.excludedMetrics.filter(other) })).toBeNull();
  });
});
