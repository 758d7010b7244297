// The cost planner: a 20-image job's estimate against its measured time on a model whose cost per evaluation
// is deterministic (a real ONNX model and a virtual clock that advances a fixed time per input evaluated, so the
// machine's load cannot decide the outcome); the same for a real model (SqueezeNet) on the wall clock, printed
// and not bounded (on this shared machine the wall clock is not the planner's to control); the per-evaluation
// time stored with the model and reused; `saliency plan` on a real model.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { getExplainer } from '../../src-main/engine/explain/registry.ts';
import { planMetrics, type MetricPlan } from '../../src-main/engine/pipeline/evaluate-stored.ts';
import { ModelCostsRepo, formatPlan, planJob } from '../../src-main/engine/jobs/plan.ts';
import type { Clock } from '../../src-main/engine/jobs/cost.ts';
import { openStore } from '../../src-main/engine/store/store.ts';
import { prepareImageFile } from '../../src-main/engine/image/prepare.ts';
import { argmax } from '../../src-main/engine/util/math.ts';
import { planCommand } from '../../src-main/cli/commands/plan.ts';
import { ApiService } from '../../src-main/api/service.ts';
import type { PreparedImage } from '../../src-main/engine/explain/types.ts';
import type { Target } from '../../src-main/engine/types.ts';
import { evidenceModelBytes, texturedImage, type Square } from '../explain-core/evidence-model.ts';
import { HAS_DATA, MODELS, manifest, model as modelFile, sample } from '../helpers/data.ts';
import { identityTransform } from '../helpers/prepared.ts';
import { NO_CLOCK } from '../helpers/demo-image.ts';

const SIZE = 64;
const SQ: Square = { x0: 40, y0: 8, x1: 56, y1: 24 };
const MS_PER_INPUT = 6;
const prepared = (seed: number): PreparedImage => ({
  id: `img${seed}`, input: texturedImage(SIZE, seed),
  transform: identityTransform(SIZE),
});

/** The real model under a virtual clock that advances msPerInput per input evaluated and not otherwise: a
 *  deterministic cost per evaluation (all other work takes no time on this clock). Also counts the inputs. */
function withVirtualCost(real: Classifier, msPerInput: number): { model: Classifier; clock: Clock; inputs: () => number } {
  let now = 0;
  let inputs = 0;
  const model = new Proxy(real, {
    get(target, prop) {
      if (prop === 'predict') {
        return (images: unknown[], opts?: unknown) => {
          now += msPerInput * images.length;
          inputs += images.length;
          return (target.predict as (a: unknown, b: unknown) => unknown).call(target, images, opts);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { model, clock: () => now, inputs: () => inputs };
}

/** The job as the runner does it: each image's maps, then the metrics of each map (controls shared through the cache). */
async function runJob(model: Classifier, images: PreparedImage[], targets: Target[], methods: { name: string; settings: Record<string, unknown> }[], metrics: MetricPlan[]): Promise<void> {
  for (const [k, image] of images.entries()) {
    for (const m of methods) {
      const ex = getExplainer(m.name);
      const e = await ex.explain(image, targets[k], ex.settings(m.settings), 0, { model });
      for (const { metric, settings } of metrics) await metric.compute({ image, target: { classIndex: targets[k].classIndex, score: 'probability' }, map: e.map, model }, settings, 0);
    }
  }
}

const percent = (estimate: number, measured: number) => `${((estimate / measured - 1) * 100).toFixed(1)}%`;

describe('cost planner', () => {
  let real: Classifier;
  let dir: string;
  beforeAll(async () => {
    real = await Classifier.load({ bytes: evidenceModelBytes(SIZE, SQ), name: 'evidence' });
    dir = mkdtempSync(path.join(tmpdir(), 'plan-'));
  });
  afterAll(async () => { await real?.dispose(); rmSync(dir, { recursive: true, force: true }); });

  it('estimates a 20-image job (LIME, RISE, deletion + insertion with controls) within 25% of its measured time, at a deterministic cost', async () => {
    const { model, clock, inputs } = withVirtualCost(real, MS_PER_INPUT);
    const methods = [{ name: 'lime', settings: { samples: 40, segments: 16, segmentation: 'grid' } }, { name: 'rise', settings: { masks: 48, cells: 4 } }];
    const metrics = planMetrics(['deletion', 'insertion'], { deletion: { steps: 8, controlSamples: 1 }, insertion: { steps: 8, controlSamples: 1 } });
    const images = Array.from({ length: 20 }, (_, i) => prepared(i + 1));
    const target: Target = { classIndex: 0, score: 'logit' };
    const store = openStore(path.join(dir, 'a.db'));
    const modelId = store.models.ensure(real.info).id;
    const spec = { methods, metrics, ensembles: 0, images: 20, clock };
    const plan = await planJob(model, images[0], target, spec, { stored: { repo: new ModelCostsRepo(store.db), modelId } });
    expect(plan.perEvaluation.source).toBe('measured');
    expect(plan.perEvaluation.ms).toBeCloseTo(MS_PER_INPUT, 9);
    expect(plan.lines.map((l) => l.name)).toEqual(['lime', 'rise', 'deletion', 'insertion']);
    expect(plan.lines[0]).toMatchObject({ kind: 'method', evaluations: 40, runs: 20, totalEvaluations: 800 });
    expect(plan.lines[2]).toMatchObject({ kind: 'metric', runs: 40 });

    const t0 = clock();
    const n0 = inputs();
    await runJob(model, images, images.map(() => target), methods, metrics);
    const seconds = (clock() - t0) / 1000;
    console.log(formatPlan(plan, 'deterministic-cost model (6 ms per input on a virtual clock)'));
    console.log(`measured: ${seconds.toFixed(1)} s (${inputs() - n0} evaluations); estimate ${plan.seconds.toFixed(1)} s (${plan.evaluations} evaluations): ${percent(plan.seconds, seconds)}`);
    expect(Math.abs(plan.seconds / seconds - 1)).toBeLessThan(0.25);

    // Measured once, stored with the model: the next plan reuses it.
    const again = await planJob(model, images[0], target, spec, { stored: { repo: new ModelCostsRepo(store.db), modelId } });
    expect(again.perEvaluation).toMatchObject({ source: 'stored', ms: plan.perEvaluation.ms });
    expect(again.evaluations).toBe(plan.evaluations);
    store.close();
  }, 600_000);

  it('plans LIME and KernelSHAP on the shared pool at the evaluations they cause together, as the job measures them', async () => {
    const { model, clock, inputs } = withVirtualCost(real, MS_PER_INPUT);
    const pool = { samples: 60, segments: 16, segmentation: 'grid', sharedPool: true };
    const methods = [{ name: 'lime', settings: pool }, { name: 'kernelshap', settings: { ...pool, samples: 80 } }];
    const images = Array.from({ length: 20 }, (_, i) => prepared(i + 1));
    const target: Target = { classIndex: 0, score: 'logit' };
    const plan = await planJob(model, images[0], target, { methods, metrics: [], ensembles: 0, images: 20, clock });
    // KernelSHAP's 80 rows include LIME's 60: it is planned at most at the 20 past them
    expect(plan.lines[1].evaluations).toBeLessThanOrEqual(20);
    const n0 = inputs();
    await runJob(model, images, images.map(() => target), methods, []);
    const measured = inputs() - n0;
    console.log(`shared pool, 20 images: planned ${plan.evaluations} evaluations, measured ${measured} (the rows used: ${20 * 140})`);
    expect(Math.abs(plan.evaluations / measured - 1)).toBeLessThan(0.1);
  }, NO_CLOCK);

  it.skipIf(!HAS_DATA)('prints the estimate and the measured wall time of a 20-image job on a real model (SqueezeNet)', async () => {
    const squeezenet = await Classifier.load(modelFile(MODELS.squeezenet), { batchSize: 8 });
    try {
      const rows = await manifest();
      const images: PreparedImage[] = [];
      const targets: Target[] = [];
      for (let i = 0; i < 20; i++) {
        const { prepared: image } = await prepareImageFile(sample(rows[i * 40].filename), squeezenet);
        const pred = await squeezenet.predict([image.input]);
        images.push(image);
        targets.push({ classIndex: argmax(pred.logits, 0, pred.numClasses), score: 'logit' });
      }
      const methods = [{ name: 'lime', settings: { samples: 30, segments: 25 } }, { name: 'rise', settings: { masks: 32 } }];
      const metrics = planMetrics(['deletion'], { deletion: { steps: 8, controlSamples: 1 } });
      const plan = await planJob(squeezenet, images[0], targets[0], { methods, metrics, ensembles: 0, images: 20 });
      const t0 = performance.now();
      await runJob(squeezenet, images, targets, methods, metrics);
      const seconds = (performance.now() - t0) / 1000;
      console.log(formatPlan(plan, 'SqueezeNet, 20 sample images'));
      console.log(`measured (wall clock, this machine's load): ${seconds.toFixed(1)} s; estimate ${plan.seconds.toFixed(1)} s: ${percent(plan.seconds, seconds)}`);
      expect(plan.evaluations).toBeGreaterThan(0);
      expect(seconds).toBeGreaterThan(0);
    } finally {
      await squeezenet.dispose();
    }
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
