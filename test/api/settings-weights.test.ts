// Issue 15 through the API (real SqueezeNet, real SQLite): the settings panel's forms and checks (the CLI's own
// rules: defaults, ranges, choices; values typed as --set types them; refused settings block jobs and studies),
// a study with the pointing game on Annotate data (an image without annotation is named once, not failed) and
// the model-randomisation sanity check, and ensemble weights with n and a 95% bootstrap interval per member,
// kept in the saved ensemble's provenance.
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiService } from '../../src-main/api/service.ts';
import { getExplainer } from '../../src-main/engine/explain/registry.ts';
import { parseSettings } from '../../src-main/cli/commands/explain.ts';
import { resolveSettings } from '../../src-main/engine/explain/check-settings.ts';
import { HAS_DATA, MODELS, model, sample } from '../helpers/data.ts';
import { withRealLibrary } from './real-library.ts';

const FILES = ['n01440764_tench.JPEG', 'n01443537_goldfish.JPEG', 'n01491361_tiger_shark.JPEG'];

describe.skipIf(!HAS_DATA)('settings panel, study metrics on annotations and sanity, weight intervals (real SqueezeNet)', () => {
  it('forms come from the explainers and checks are the CLI\'s', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'saliency-settings-'));
    const api = new ApiService({ dataDir: root, model: model(MODELS.squeezenet) });
    try {
      await api.init();
      const forms = Object.fromEntries((await api.call('methods.settings', {})).map((f) => [f.method, f]));
      const field = (m: string, k: string) => forms[m].fields.find((f) => f.key === k)!;
      // every method, every setting its explainer has, with the explainer's own default
      for (const [m, f] of Object.entries(forms)) {
        const switches = getExplainer(m).switches ?? [];
        expect(Object.fromEntries(f.fields.filter((x) => !switches.includes(x.key)).map((x) => [x.key, x.default]))).toEqual(getExplainer(m).settings({}));
        // opt-in switches (auto, RISE's controlVariate, KernelSHAP's leverage) are boolean fields, off by default
        for (const k of switches) expect(field(m, k)).toMatchObject({ type: 'boolean', default: false });
      }
      expect(forms.rise.fields.map((x) => x.key)).toEqual(expect.arrayContaining(['auto', 'controlVariate']));
      expect(field('kernelshap', 'leverage').description).toMatch(/leverage scores/);
      expect((await api.call('methods.check', { method: 'rise', values: { controlVariate: 'true' } })).resolved).toMatchObject({ controlVariate: true });
      expect((await api.call('methods.check', { method: 'rise', values: { controlVariate: 'false' } })).errors).toEqual({});
      expect(field('lime', 'samples')).toMatchObject({ type: 'integer', default: 1000, min: 3, max: 100000, auto: true });
      expect(field('rise', 'p')).toMatchObject({ type: 'number', min: 0, max: 1, minExclusive: true, maxExclusive: true });
      expect(field('lime', 'segmentation').choices).toEqual(['slic', 'grid', 'felzenszwalb']);
      expect(field('gradcam', 'relu').type).toBe('boolean');
      expect(field('occlusion', 'window')).toMatchObject({ type: 'integer', min: 1 });

      // a good form: typed as --set types it, resolved as the CLI resolves it
      const ok = await api.call('methods.check', { method: 'lime', values: { samples: '500', segmentation: 'grid', kernelWidth: '', relu: 'true' } });
      expect(ok.errors).toEqual({ relu: expect.stringContaining('unknown setting "relu"') });
      const good = await api.call('methods.check', { method: 'lime', values: { samples: '500', segmentation: 'grid', kernelWidth: '' } });
      expect(good).toMatchObject({ errors: {}, error: null, settings: parseSettings(['lime.samples=500', 'lime.segmentation=grid']).lime });
      expect(good.resolved).toEqual(resolveSettings(getExplainer('lime'), { samples: 500, segmentation: 'grid' }));
      expect((await api.call('methods.check', { method: 'rise', values: { masks: 'auto' } })).settings).toEqual({ masks: 'auto' });
      // bad values: one line per field, the CLI's message
      const bad = await api.call('methods.check', { method: 'rise', values: { masks: '0', p: '1.5', cells: '7' } });
      expect(bad.errors).toEqual({ masks: 'rise: masks must be a whole number between 1 and 100000 (got 0)', p: 'rise: p must be a number in (0, 1) (got 1.5)' });
      expect(bad.resolved).toBeNull();
      // fields are checked together: stride 56 with window 56 is fine; stride 56 under the default window is refused
      // on the field that breaks the rule
      expect((await api.call('methods.check', { method: 'occlusion', values: { window: '56', stride: '56' } })).errors).toEqual({});
      const stride = await api.call('methods.check', { method: 'occlusion', values: { window: '', stride: '56' } });
      expect(Object.keys(stride.errors)).toEqual(['stride']);
      expect(stride.errors.stride).toMatch(/occlusion: stride \(56\) must not exceed window \(32\)/);
      // a rule between fields (rise refuses the segment-mean baseline) is reported for the form
      const between = await api.call('methods.check', { method: 'rise', values: { baseline: 'segment-mean' } });
      expect(Object.values(between.errors).join() + (between.error ?? '')).toMatch(/segment-mean baseline needs superpixels/);

      // jobs and studies refuse bad settings before any work, naming the method and setting
      const lib = path.join(root, 'lib');
      mkdirSync(lib);
      copyFileSync(sample(FILES[0]), path.join(lib, FILES[0]));
      const library = await api.call('library.open', { path: lib });
      await api.jobs.idle();
      const [img] = (await api.call('images.list', { libraryId: library.id, filter: {} })).items;
      await expect(api.call('jobs.start', { imageIds: [img.id], methods: ['occlusion'], settings: { occlusion: { window: 0 } } })).rejects.toThrow(/occlusion: window must be a whole number of at least 1 \(got 0\)/);
      await expect(api.call('jobs.start', { imageIds: [img.id], methods: ['gradcam'], settings: { lime: { samples: 50 } } })).rejects.toThrow(/settings name "lime", which is not among the methods gradcam/);
      await expect(api.call('study.estimate', { libraryId: library.id, methods: ['occlusion'], methodSettings: { occlusion: { stride: -1 } } })).rejects.toThrow(/occlusion: stride/);
      // a good setting reaches the stored run, as --set would
      await api.call('jobs.start', { imageIds: [img.id], methods: ['occlusion'], settings: { occlusion: { window: 112, stride: 112 } } });
      await api.jobs.idle();
      const detail = await api.call('image.get', { imageId: img.id });
      const occ = detail.explanations.find((e) => e.method === 'occlusion')!;
      expect(occ.settings).toEqual(resolveSettings(getExplainer('occlusion'), { window: 112, stride: 112 }));
      expect(occ.evaluations).toBeLessThan(10);
    } finally {
      api.close();
      rmSync(root, { recursive: true, force: true });
    }
  }, 600_000);

  it('study: pointing game on the Annotate data, model-randomisation sanity check; weights with n and intervals', async () => {
    await withRealLibrary(FILES, async (api, libraryId) => {
      const library = { id: libraryId };
      const images = (await api.call('images.list', { libraryId: library.id, filter: {} })).items;
      // boxes on two of the three images (the whole image on one: a sure hit; a small central box); none on the third
      await api.call('annotations.save', { imageId: images[0].id, boxes: [{ x: 0, y: 0, w: 1, h: 1, label: 'all' }], mask: null, caption: '', concepts: [], author: 't' });
      await api.call('annotations.save', { imageId: images[1].id, boxes: [{ x: 0.45, y: 0.45, w: 0.1, h: 0.1, label: 'centre' }], mask: null, caption: '', concepts: [], author: 't' });
      const spec = {
        libraryId: library.id, methods: ['gradcam', 'gradcampp'], ensembles: ['mean'],
        metrics: ['deletion', 'pointing-game', 'model-randomisation'],
        metricSettings: { deletion: { steps: 8, controlSamples: 1 }, 'model-randomisation': { steps: 1 } },
      };
      const est = await api.call('study.estimate', spec);
      expect(est.metrics.map((m) => m.name)).toEqual(['deletion', 'pointing-game', 'model-randomisation']);
      expect(est.metrics.find((m) => m.name === 'pointing-game')!.evaluations).toBe(0);
      expect(est.metrics.find((m) => m.name === 'model-randomisation')!.evaluations).toBeGreaterThan(0);
      await api.call('study.start', spec);
      await api.jobs.idle();
      const jobs = await api.call('jobs.list', {});
      const follow = jobs.find((j) => j.label.startsWith('study metrics'))!;
      console.log(`follow-up job: "${follow.label}" ${follow.state}, ${follow.done}/${follow.total}, errors ${JSON.stringify(follow.errors)}`);
      expect(follow.label).toContain('no annotation on 1 of 3 images, skipped');
      expect(follow).toMatchObject({ state: 'done', failed: 0, total: 3 });
      const summary = await api.call('study.summary', { libraryId: library.id });
      const row = (metric: string, method: string) => summary.rows.find((r) => r.metric === metric && r.method === method);
      // pointing game: the two annotated images only, for the single methods and the ensemble
      for (const m of ['gradcam', 'gradcampp', 'ensemble:mean']) expect(row('pointing-game', m)?.n).toBe(2);
      expect(row('pointing-game', 'gradcam')!.mean).toBeGreaterThanOrEqual(0.5); // the whole-image box is always hit
      // sanity check: every image, single methods only (an ensemble has no explainer to re-run)
      for (const m of ['gradcam', 'gradcampp']) expect(row('model-randomisation', m)?.n).toBe(3);
      expect(row('model-randomisation', 'ensemble:mean')).toBeUndefined();
      console.log(summary.rows.filter((r) => r.metric !== 'deletion').map((r) => `${r.metric} ${r.seriesLabel}: n=${r.n} mean ${r.mean.toFixed(3)} [${r.lo?.toFixed(3)}, ${r.hi?.toFixed(3)}]`).join('\n'));

      // Likert ratings of the six single-method maps: weights with n and intervals
      const expl = (await Promise.all(images.map((i) => api.call('image.get', { imageId: i.id })))).flatMap((d) => d.explanations);
      const scores: Record<string, number[]> = { gradcam: [5, 4, 5], gradcampp: [2, 1, 3] };
      const seen: Record<string, number> = {};
      for (const e of expl.filter((x) => !x.method.startsWith('ensemble'))) {
        await api.call('ratings.likert', { explanationId: e.id, rater: 'r1', score: scores[e.method][seen[e.method] = (seen[e.method] ?? -1) + 1], blind: true });
      }
      const likert = await api.call('ensemble.derive', { source: 'likert', libraryId: library.id });
      console.log(`Likert weights: ${JSON.stringify(likert.weights)} intervals ${JSON.stringify(likert.intervals)}`);
      expect(likert.intervals!.gradcam.n).toBe(3);
      for (const m of ['gradcam', 'gradcampp']) {
        const ci = likert.intervals![m];
        expect(ci.lo!).toBeLessThanOrEqual(likert.weights[m] + 1e-12);
        expect(ci.hi!).toBeGreaterThanOrEqual(likert.weights[m] - 1e-12);
        expect(ci.hi! - ci.lo!).toBeGreaterThan(0); // three ratings each: not a point
      }
      expect(likert.note).toMatch(/95% percentile-bootstrap intervals/);
      // the same ratings give the same intervals (fixed seed)
      expect((await api.call('ensemble.derive', { source: 'likert', libraryId: library.id })).intervals).toEqual(likert.intervals);
      const metrics = await api.call('ensemble.derive', { source: 'metrics', libraryId: library.id });
      expect(metrics.intervals!.gradcam.n).toBe(3);
      expect(Object.keys(metrics.weights).some((m) => m.startsWith('ensemble'))).toBe(false);
      expect((await api.call('ensemble.derive', { source: 'manual', manual: { gradcam: 1 } })).intervals).toBeNull();
      // saved with its intervals in the provenance
      const saved = await api.call('ensemble.save', { name: 'rated', weights: likert.weights, source: 'likert', intervals: likert.intervals! });
      const ws = api.store.weightSets.list().find((w) => String(w.id) === saved.id)!;
      expect((ws.provenance as { intervals: unknown }).intervals).toEqual(likert.intervals);
    });
  }, 1_800_000);
});
