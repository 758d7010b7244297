// Explanation identity through the API (issue 14, finding 1): one image, one method, two targets (the top-1 class
// and another class, as the Image screen's top-5 click makes). Before, Compare, the curves, the ratings summary
// and the report kept one map per method ("gradcam") and pooled or dropped the other's numbers. Here every one
// of them keeps both, each named by its class and score kind; and a method run without a score explains its
// protocol reference score (occlusion: probability), with curves on the probability (docs/protocol.md).
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiService } from '../../src-main/api/service.ts';
import { PROTOCOL_VERSION } from '../../src-main/engine/protocol.ts';
import type { ReportData } from '../../src-main/engine/report/collect.ts';
import { HAS_DATA, MODELS, model, sample } from '../helpers/data.ts';

describe.skipIf(!HAS_DATA)('explanation identity through the API (real SqueezeNet)', () => {
  it('keeps two targets of one method apart in Compare data, metrics, ratings summary and the report JSON, each labelled with its class', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'saliency-identity-'));
    const lib = path.join(root, 'lib');
    mkdirSync(lib);
    copyFileSync(sample('n01440764_tench.JPEG'), path.join(lib, 'n01440764_tench.JPEG'));
    const api = new ApiService({ dataDir: root, model: model(MODELS.squeezenet) });
    try {
      await api.init();
      const library = await api.call('library.open', { path: lib });
      await api.jobs.idle();
      const [img] = (await api.call('images.list', { libraryId: library.id, offset: 0, limit: 10, filter: {} })).items;
      expect(img.predicted?.label).toBe('tench');
      // top-1 (tench), then class 1 (goldfish) with no score given, as the Image screen sends it; occlusion by default
      await api.call('jobs.start', { imageIds: [img.id], methods: ['gradcam', 'occlusion'], seed: 0 });
      await api.call('jobs.start', { imageIds: [img.id], methods: ['gradcam'], seed: 0, target: { classIndex: 1 } });
      await api.jobs.idle();

      // Compare's data: one explanation per series, named
      const detail = await api.call('image.get', { imageId: img.id });
      const byLabel = Object.fromEntries(detail.explanations.map((e) => [e.seriesLabel, e]));
      expect(Object.keys(byLabel).sort()).toEqual(['gradcam (class 1 goldfish, logit)', 'gradcam (top-1, logit)', 'occlusion (top-1, probability)']);
      expect(new Set(detail.explanations.map((e) => e.series)).size).toBe(3);
      const top = byLabel['gradcam (top-1, logit)'];
      const other = byLabel['gradcam (class 1 goldfish, logit)'];
      expect([top.targetLabel, top.target]).toEqual(['tench', { classIndex: 0, score: 'logit' }]);
      expect([other.targetLabel, other.target]).toEqual(['goldfish', { classIndex: 1, score: 'logit' }]);
      expect(byLabel['occlusion (top-1, probability)'].target.score).toBe('probability'); // its reference score

      // Curves and metrics: both targets, labelled; on the probability (a logit AUC would be ~5-25) with the control
      const curves = await api.call('metrics.curves', { explanationIds: [top.id, other.id], steps: 8 });
      expect(curves.map((c) => [c.explanationId, c.targetLabel, c.scoreKind, c.seriesLabel, c.protocol])).toEqual([
        [top.id, 'tench', 'logit', 'gradcam (top-1, logit)', PROTOCOL_VERSION],
        [other.id, 'goldfish', 'logit', 'gradcam (class 1 goldfish, logit)', PROTOCOL_VERSION],
      ]);
      for (const c of curves) {
        const ys = [...c.deletion, ...c.insertion];
        expect(Math.min(...ys)).toBeGreaterThanOrEqual(0);
        expect(Math.max(...ys)).toBeLessThanOrEqual(1);
        expect(c.deletionControl).not.toBeNull();
        expect(c.insertionControl).not.toBeNull();
      }
      // the goldfish map is judged on the goldfish probability, the tench map on the tench one: different curves
      expect(curves[0].deletion[0]).toBeGreaterThan(curves[1].deletion[0]);
      const listed = await api.call('metrics.list', { explanationIds: [top.id, other.id] });
      expect(listed.map((m) => `${m.seriesLabel} ${m.targetLabel} ${m.metric} ${m.protocol}`).sort()).toEqual([
        `gradcam (class 1 goldfish, logit) goldfish deletion ${PROTOCOL_VERSION}`, `gradcam (class 1 goldfish, logit) goldfish insertion ${PROTOCOL_VERSION}`,
        `gradcam (top-1, logit) tench deletion ${PROTOCOL_VERSION}`, `gradcam (top-1, logit) tench insertion ${PROTOCOL_VERSION}`,
      ]);
      expect(listed.find((m) => m.explanationId === other.id && m.metric === 'deletion')!.value).toBeCloseTo(curves[1].deletionAuc, 12);

      // Ratings: one row per series, never pooled (pooled, gradcam would be (5 + 1) / 2 = 3)
      await api.call('ratings.likert', { explanationId: top.id, rater: 'ann', score: 5, blind: false });
      await api.call('ratings.likert', { explanationId: other.id, rater: 'ann', score: 1, blind: false });
      const ratings = await api.call('ratings.summary', { libraryId: library.id });
      expect(ratings.map((r) => [r.seriesLabel, r.classes.map((c) => c.label), r.scoreKind, r.likertMean, r.likertCount])).toEqual([
        ['gradcam (top-1, logit)', ['tench'], 'logit', 5, 1],
        ['gradcam (class 1 goldfish, logit)', ['goldfish'], 'logit', 1, 1],
      ]);
      const queue = await api.call('ratings.queue', { libraryId: library.id, rater: 'bob', mode: 'likert', blind: false });
      expect(queue.items.map((i) => i.labels[0]).sort()).toEqual(Object.keys(byLabel).sort());

      // The report JSON: both maps, both sets of numbers, both ratings, each with its class
      const exported = await api.call('reports.export', { libraryId: library.id, format: 'json' });
      const report = JSON.parse(readFileSync(exported.path, 'utf8')) as ReportData;
      expect(report.protocol).toBe(PROTOCOL_VERSION);
      expect(report.refusals).toEqual([]);
      expect(Object.values(report.images[0].explanations).sort()).toEqual([top.id, other.id, byLabel['occlusion (top-1, probability)'].id].map(Number).sort());
      expect(report.explanations.map((e) => [e.seriesLabel, e.targetLabel, e.scoreKind]).sort()).toEqual([
        ['gradcam (class 1 goldfish, logit)', 'goldfish', 'logit'], ['gradcam (top-1, logit)', 'tench', 'logit'], ['occlusion (top-1, probability)', 'tench', 'probability'],
      ]);
      expect(new Set(report.metrics.map((m) => `${m.seriesLabel}/${m.targetLabel}`))).toEqual(new Set(['gradcam (top-1, logit)/tench', 'gradcam (class 1 goldfish, logit)/goldfish']));
      const summarised = report.summary.filter((s) => s.metric === 'deletion') as unknown as { series: string; n: number; mean: number }[];
      expect(summarised.map((s) => [s.series, s.n]).sort()).toEqual([['gradcam|class:1|logit', 1], ['gradcam|top1|logit', 1]]);
      expect(summarised.find((s) => s.series === 'gradcam|class:1|logit')!.mean).toBeCloseTo(curves[1].deletionAuc, 12);
      expect(report.ratings.perMethod.filter((r) => r.likertN).map((r) => [r.seriesLabel, r.likertMean])).toEqual([
        ['gradcam (top-1, logit)', 5], ['gradcam (class 1 goldfish, logit)', 1],
      ]);
      expect(report.labels[1]).toBe('goldfish');
    } finally {
      api.close();
      rmSync(root, { recursive: true, force: true });
    }
  }, 300_000);
});
