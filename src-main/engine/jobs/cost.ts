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

export interface CostLine {
  name: string;
  evaluations: number;
  /** Wall time of the timed probe run. */
  millis: number;
  /** Evaluations in that timed run, where they differ from `evaluations` (a metric's first map). */
  timedEvaluations?: number;
  /** An auto budget's cap (the method's result extras.auto.cap): other images may stop anywhere up to it. */
  cap?: number;
}
export interface CostEstimate {
  images: number;
  /** Measured on batches of the probe image, after the probe runs (warm). */
  msPerEvaluation: number;
  /** Per image, measured on the probe. */
  methods: CostLine[];
  /** Per map (mean over an image's maps: later maps share the first one's controls), counted on the probe. */
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

/** A time source in milliseconds: the wall clock, or a test's virtual clock (a deterministic cost). */
export type Clock = () => number;
const wallClock: Clock = () => performance.now();

/** Milliseconds per model evaluation: a warm-up, then the best of two batches of the probe image. */
export async function msPerEvaluation(model: Classifier, image: PreparedImage, batch = 16, clock: Clock = wallClock): Promise<number> {
  const inputs = Array.from({ length: batch }, () => image.input);
  await model.predict(inputs.slice(0, 2));
  let best = Infinity;
  for (let r = 0; r < 2; r++) {
    const t0 = clock();
    await model.predict(inputs);
    best = Math.min(best, (clock() - t0) / batch);
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
  /** Time source (default the wall clock). */
  clock?: Clock;
}

export async function estimateCost(model: Classifier, probe: PreparedImage, target: Target, spec: ProbeSpec): Promise<CostEstimate> {
  const seed = spec.seed ?? 0;
  const clock = spec.clock ?? wallClock;
  const methods: CostLine[] = [];
  let firstMap: Map2D | null = null;
  // Methods on the shared pool of coalitions (LIME, KernelSHAP with sharedPool) are probed on one counted model,
  // so that, as in a job, the scheduler's cache serves the second the rows the first scored: each is planned at
  // the evaluations it caused, not at the rows it used.
  let pooled: ReturnType<typeof counting> | null = null;
  for (const m of spec.methods) {
    const seen = spec.known?.[m.name];
    if (seen) { methods.push(seen); continue; }
    const explainer = explainerFor(m.name);
    const shared = m.settings.sharedPool === true;
    const c = shared ? (pooled ??= counting(model)) : counting(model);
    const before = c.count();
    const t0 = clock();
    const e = await explainer.explain(probe, target, explainer.settings(m.settings), seed, { model: c.model, signal: spec.signal });
    const cap = (e.extras.auto as { cap?: number } | undefined)?.cap;
    const caused = c.count() - before;
    methods.push({ name: m.name, evaluations: shared ? caused : Math.max(e.evaluations, caused), millis: clock() - t0, ...(cap === undefined ? {} : { cap }) });
    firstMap ??= e.map;
  }
  const mapsPerImage = spec.methods.length + spec.ensembles;
  const metrics: CostLine[] = [];
  // Without a method's map (an estimate of metrics alone), a flat map stands in: the step counts are the same.
  const map = firstMap ?? { width: probe.input.width, height: probe.input.height, data: new Float32Array(probe.input.width * probe.input.height).map((_, i) => i % 7) };
  // A second map of the same image shares the first one's random-map controls (and any identical step) through
  // the scheduler's cache: it is scored on the same counted model, and the image's later maps cost what it cost.
  // Without this a 20-image job of two maps per image was overestimated by 16% at a deterministic cost.
  const other: Map2D = { ...map, data: map.data.slice().reverse() };
  for (const { metric, settings } of spec.metrics) {
    const c = counting(model);
    const score = (m: Map2D) => metric.compute({ image: probe, target: { classIndex: target.classIndex, score: 'probability' }, map: m, model: c.model, signal: spec.signal }, settings, seed);
    const t0 = clock();
    await score(map);
    const millis = clock() - t0;
    const first = c.count();
    if (mapsPerImage > 1) await score(other);
    const later = c.count() - first;
    const evaluations = mapsPerImage > 1 ? (first + (mapsPerImage - 1) * later) / mapsPerImage : first;
    metrics.push({ name: metric.name, evaluations, millis, timedEvaluations: first });
  }
  const sum = (xs: CostLine[], k: 'evaluations' | 'millis') => xs.reduce((a, x) => a + x[k], 0);
  const perImage = sum(methods, 'evaluations') + mapsPerImage * sum(metrics, 'evaluations');
  const evaluations = Math.round(spec.images * perImage);
  // Measured after the probe (warm): the probe's own wall time over-counts first-call costs (measured on the
  // story's 8-image study: probe-based 7 min, batch-based 3 min, actual 3 min 45 s on a loaded 2-core machine).
  const perEval = await msPerEvaluation(model, probe, 16, clock);
  return { images: spec.images, msPerEvaluation: perEval, methods, metrics, mapsPerImage, evaluations, seconds: (evaluations * perEval) / 1000 };
}
