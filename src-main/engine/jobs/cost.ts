// What a study (methods + ensembles + metrics over N images) will cost, measured on this model rather than
// guessed: each method and metric runs once on a probe image while its model evaluations are counted, and the
// model's time per evaluation is measured on batches of the probe image once warm. The estimate is
//   evaluations = N x (sum of method evaluations + maps per image x sum of metric evaluations per map)
//   seconds     = evaluations x measured ms per evaluation.
// A simple planner: it assumes every image costs what the probe cost (true for fixed-budget methods; CAM
// methods and the metrics' step counts do not depend on the image).
import type { Classifier } from '../model/classifier.ts';
import type { PreparedImage } from '../explain/types.ts';
import type { Map2D, Target } from '../types.ts';
import type { MetricPlan } from '../pipeline/evaluate-stored.ts';
import { explainerFor } from './methods.ts';

export interface CostLine { name: string; evaluations: number; millis: number }
export interface CostEstimate {
  images: number;
  /** Measured on batches of the probe image, after the probe runs (warm). */
  msPerEvaluation: number;
  /** Per image, measured on the probe. */
  methods: CostLine[];
  /** Per map, measured on the probe's first map. */
  metrics: CostLine[];
  /** Methods + ensembles. */
  mapsPerImage: number;
  evaluations: number;
  seconds: number;
}

/** The classifier with its predict() calls counted (the metrics report no evaluation count of their own). */
function counting(model: Classifier): { model: Classifier; count: () => number } {
  let n = 0;
  const proxy = new Proxy(model, {
    get(target, prop) {
      if (prop === 'predict') {
        return (images: unknown[], opts?: unknown) => { n += images.length; return (target.predict as (a: unknown, b: unknown) => unknown).call(target, images, opts); };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { model: proxy, count: () => n };
}

/** Milliseconds per model evaluation: a warm-up, then the best of two batches of the probe image. */
export async function msPerEvaluation(model: Classifier, image: PreparedImage, batch = 16): Promise<number> {
  const inputs = Array.from({ length: batch }, () => image.input);
  await model.predict(inputs.slice(0, 2));
  let best = Infinity;
  for (let r = 0; r < 2; r++) {
    const t0 = performance.now();
    await model.predict(inputs);
    best = Math.min(best, (performance.now() - t0) / batch);
  }
  return best;
}

export interface ProbeSpec {
  methods: { name: string; settings: Record<string, unknown> }[];
  metrics: MetricPlan[];
  /** Ensembles per image: each adds a map that the metrics judge. */
  ensembles: number;
  images: number;
  seed?: number;
  signal?: AbortSignal;
  /** Costs already measured (e.g. from stored explanations made with the same settings): no probe run for these methods. */
  known?: Record<string, CostLine>;
}

export async function estimateCost(model: Classifier, probe: PreparedImage, target: Target, spec: ProbeSpec): Promise<CostEstimate> {
  const seed = spec.seed ?? 0;
  const methods: CostLine[] = [];
  let firstMap: Map2D | null = null;
  for (const m of spec.methods) {
    const seen = spec.known?.[m.name];
    if (seen) { methods.push(seen); continue; }
    const explainer = explainerFor(m.name);
    const c = counting(model);
    const t0 = performance.now();
    const e = await explainer.explain(probe, target, explainer.settings(m.settings), seed, { model: c.model, signal: spec.signal });
    methods.push({ name: m.name, evaluations: Math.max(e.evaluations, c.count()), millis: performance.now() - t0 });
    firstMap ??= e.map;
  }
  const metrics: CostLine[] = [];
  // Without a method's map (an estimate of metrics alone), a flat map stands in: the step counts are the same.
  const map = firstMap ?? { width: probe.input.width, height: probe.input.height, data: new Float32Array(probe.input.width * probe.input.height).map((_, i) => i % 7) };
  for (const { metric, settings } of spec.metrics) {
    const c = counting(model);
    const t0 = performance.now();
    await metric.compute({ image: probe, target: { classIndex: target.classIndex, score: 'probability' }, map, model: c.model, signal: spec.signal }, settings, seed);
    metrics.push({ name: metric.name, evaluations: c.count(), millis: performance.now() - t0 });
  }
  const mapsPerImage = spec.methods.length + spec.ensembles;
  const sum = (xs: CostLine[], k: 'evaluations' | 'millis') => xs.reduce((a, x) => a + x[k], 0);
  const perImage = sum(methods, 'evaluations') + mapsPerImage * sum(metrics, 'evaluations');
  const evaluations = spec.images * perImage;
  // Measured after the probe (warm): the probe's own wall time over-counts first-call costs (measured on the
  // story's 8-image study: probe-based 7 min, batch-based 3 min, actual 3 min 45 s on a loaded 2-core machine).
  const perEval = await msPerEvaluation(model, probe);
  return { images: spec.images, msPerEvaluation: perEval, methods, metrics, mapsPerImage, evaluations, seconds: (evaluations * perEval) / 1000 };
}
