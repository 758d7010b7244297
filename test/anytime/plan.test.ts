// The cost planner: a 20-image job's estimate against its measured time on a model whose cost per evaluation
// is controlled (a real ONNX model plus a fixed delay per input, so a loaded machine does not decide the
// outcome); the per-evaluation time stored with the model and reused; `saliency plan` on a real model.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { getExplainer } from '../../src-main/engine/explain/registry.ts';
import { planMetrics } from '../../src-main/engine/pipeline/evaluate-stored.ts';
import { ModelCostsRepo, formatPlan, planJob } from '../../src-main/engine/jobs/plan.ts';
import { openStore } from '../../src-main/engine/store/store.ts';
import { planCommand } from '../../src-main/cli/commands/plan.ts';
import { ApiService } from '../../src-main/api/service.ts';
import type { PreparedImage } from '../../src-main/engine/explain/types.ts';
import type { Target } from '../../src-main/engine/types.ts';
import { evidenceModelBytes, texturedImage, type Square } from '../explain-core/evidence-model.ts';
import { HAS_DATA, MODELS, model as modelFile, sample } from '../helpers/data.ts';
import { identityTransform } from '../helpers/prepared.ts';

const SIZE = 64;
const SQ: Square = { x0: 40, y0: 8, x1: 56, y1: 24 };
const MS_PER_INPUT = 6;
const prepared = (seed: number): PreparedImage => ({
  id: `img${seed}`, input: texturedImage(SIZE, seed),
  transform: identityTransform(SIZE),
});

/** The real model, each predict() taking a fixed extra time per input: a controlled cost per evaluation. */
function withCost(real: Classifier, msPerInput: number): Classifier {
  return new Proxy(real, {
    get(target, prop) {
      if (prop === 'predict') {
        return async (images: unknown[], opts?: unknown) => {
          await new Promise((r) => setTimeout(r, msPerInput * images.length));
          return (target.predict as (a: unknown, b: unknown) => unknown).call(target, images, opts);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

describe('cost planner', () => {
  let real: Classifier;
  let dir: string;
  beforeAll(async () => {
    real = await Classifier.load({ bytes: evidenceModelBytes(SIZE, SQ), name: 'evidence' });
    dir = mkdtempSync(path.join(tmpdir(), 'plan-'));
  });
  afterAll(async () => { await real?.dispose(); rmSync(dir, { recursive: true, force: true }); });

  it('estimates a 20-image job (LIME, RISE, deletion + insertion with controls) within 25% of its measured time', async () => {
    const model = withCost(real, MS_PER_INPUT);
    const methods = [{ name: 'lime', settings: { samples: 40, segments: 16, segmentation: 'grid' } }, { name: 'rise', settings: { masks: 48, cells: 4 } }];
    const metrics = planMetrics(['deletion', 'insertion'], { deletion: { steps: 8, controlSamples: 1 }, insertion: { steps: 8, controlSamples: 1 } });
    const images = Array.from({ length: 20 }, (_, i) => prepared(i + 1));
    const target: Target = { classIndex: 0, score: 'logit' };
    const store = openStore(path.join(dir, 'a.db'));
    const modelId = store.models.ensure(real.info).id;
    const plan = await planJob(model, images[0], target, { methods, metrics, ensembles: 0, images: 20 }, { stored: { repo: new ModelCostsRepo(store.db), modelId } });
    expect(plan.perEvaluation.source).toBe('measured');
    expect(plan.perEvaluation.ms).toBeGreaterThanOrEqual(MS_PER_INPUT * 0.9);
    expect(plan.lines.map((l) => l.name)).toEqual(['lime', 'rise', 'deletion', 'insertion']);
    expect(plan.lines[0]).toMatchObject({ kind: 'method', evaluations: 40, runs: 20, totalEvaluations: 800 });
    expect(plan.lines[2]).toMatchObject({ kind: 'metric', runs: 40 });

    // The job itself, as the runner does it: each image's maps, then the metrics (controls shared through the cache).
    const t0 = performance.now();
    for (const image of images) {
      for (const m of methods) {
        const ex = getExplainer(m.name);
        const e = await ex.explain(image, target, ex.settings(m.settings), 0, { model });
        for (const { metric, settings } of metrics) await metric.compute({ image, target: { classIndex: 0, score: 'probability' }, map: e.map, model }, settings, 0);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(formatPlan(plan, 'controlled-cost model'));
    console.log(`measured: ${seconds.toFixed(1)} s; estimate ${plan.seconds.toFixed(1)} s (${((plan.seconds / seconds - 1) * 100).toFixed(1)}%)`);
    expect(Math.abs(plan.seconds / seconds - 1)).toBeLessThan(0.25);

    // Measured once, stored with the model: the next plan reuses it.
    const again = await planJob(model, images[0], target, { methods, metrics, ensembles: 0, images: 20 }, { stored: { repo: new ModelCostsRepo(store.db), modelId } });
    expect(again.perEvaluation).toMatchObject({ source: 'stored', ms: plan.perEvaluation.ms });
    expect(again.evaluations).toBe(plan.evaluations);
    store.close();
  }, 600_000);

  it.skipIf(!HAS_DATA)('saliency plan prints evaluations and time for a real model (SqueezeNet)', async () => {
    const out: string[] = [];
    const log = console.log;
    console.log = (s: string) => out.push(s);
    try {
      const code = await planCommand.run([sample('n01440764_tench.JPEG'), sample('n01443537_goldfish.JPEG'), '--model', modelFile(MODELS.squeezenet),
        '--method', 'lime,rise', '--metric', 'deletion', '--set', 'lime.samples=auto', '--set', 'rise.masks=64', '--set', 'deletion.steps=10', '--db', path.join(dir, 'b.db')]);
      expect(code).toBe(0);
    } finally {
      console.log = log;
    }
    const text = out.join('\n');
    console.log(text);
    expect(text).toMatch(/plan for .*: 2 images, 2 maps per image/);
    expect(text).toMatch(/time per evaluation: \d+\.\d\d ms \(measured now/);
    expect(text).toMatch(/method lime .*\(auto, cap 1000\)/);
    expect(text).toMatch(/method rise +64 per image +2 +128/);
    expect(text).toMatch(/metric deletion .* per map +4/);
  }, 600_000);

  it.skipIf(!HAS_DATA)('plan.study over the API: lines per method and metric, the per-evaluation time stored and reused', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'plan-api-'));
    const lib = path.join(root, 'lib');
    mkdirSync(lib);
    for (const f of ['n01440764_tench.JPEG', 'n01443537_goldfish.JPEG']) copyFileSync(sample(f), path.join(lib, f));
    const api = new ApiService({ dataDir: root, model: modelFile(MODELS.squeezenet) });
    try {
      await api.init();
      const library = await api.call('library.open', { path: lib });
      await api.jobs.idle();
      const spec = { libraryId: library.id, methods: ['rise'], methodSettings: { rise: { masks: 32 } }, metrics: ['deletion'], metricSettings: { deletion: { steps: 8 } } };
      const a = await api.call('plan.study', spec);
      expect(a).toMatchObject({ images: 2, mapsPerImage: 1, perEvaluation: { source: 'measured' } });
      expect(a.lines.map((l) => [l.kind, l.name, l.evaluations, l.runs])).toEqual([['method', 'rise', 32, 2], ['metric', 'deletion', a.lines[1].evaluations, 2]]);
      expect(a.evaluations).toBe(2 * 32 + 2 * a.lines[1].evaluations);
      const b = await api.call('plan.study', spec);
      expect(b.perEvaluation).toMatchObject({ source: 'stored', ms: a.perEvaluation.ms });
    } finally {
      api.close();
      rmSync(root, { recursive: true, force: true });
    }
  }, 600_000);
});
