// Builds a Metric from its core computation: validation of the map, timing, and (for faithfulness metrics)
// the random-map control computed by the very same code on a seeded random map.
import { SaliencyError } from '../types.ts';
import type { Map2D } from '../types.ts';
import type { Metric, MetricInput, MetricResult, MetricTags, MetricValue } from './types.ts';
import { checkMapOnImage, randomMap } from './perturb.ts';
import { Random } from '../util/random.ts';

export interface MetricDefinition<S extends Record<string, unknown>> {
  name: string;
  description: string;
  tags: MetricTags;
  /** Fills defaults; faithfulness metrics get the control settings added by defineMetric. */
  settings(partial: Partial<S>): Omit<S, keyof ControlSettings>;
  /** The metric of one map. */
  run(input: MetricInput, map: Map2D, settings: S, seed: number): Promise<MetricValue>;
}

/**
 * Faithfulness metrics also score seeded random maps (control=false to skip), `controlGrain` cells wide. The
 * control is the mean over `controlSamples` random maps: chance is an expectation, and one random map can fall
 * on the object by luck. The maps depend only on the seed and the image size, so every method of an image
 * shares them and the scheduler's score cache pays for them once per image.
 */
export type ControlSettings = { control: boolean; controlGrain: number; controlSamples: number };

export const DEFAULT_CONTROL_SAMPLES = 4;

function controlSettings(p: Record<string, unknown>): ControlSettings {
  return {
    control: boolSetting(p.control, true, 'control'),
    controlGrain: intSetting(p.controlGrain, 7, 'controlGrain', 0),
    controlSamples: intSetting(p.controlSamples, DEFAULT_CONTROL_SAMPLES, 'controlSamples', 1, 256),
  };
}

/** The k-th random control map of a seed (k = 0 is the map of earlier versions, which used one). */
export function controlMap(width: number, height: number, seed: number, k: number, grain: number): Map2D {
  return randomMap(width, height, Random.derive(seed, k === 0 ? 'random-map' : `random-map-${k}`), grain);
}

/** Mean value and pointwise mean curve of several runs on random maps, with their spread. */
function meanOfControls(runs: MetricValue[]): MetricValue {
  const values = runs.map((r) => r.value);
  const value = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - value) ** 2, 0) / (values.length - 1)) : null;
  const first = runs[0].curve;
  const curve = first && runs.every((r) => r.curve && r.curve.y.length === first.y.length)
    ? { ...first, y: first.y.map((_, i) => runs.reduce((a, r) => a + r.curve!.y[i], 0) / runs.length) }
    : first;
  return { value, curve, extras: { samples: runs.length, values, sd } };
}

export function defineMetric<S extends Record<string, unknown>>(def: MetricDefinition<S>): Metric<S> {
  return {
    name: def.name,
    description: def.description,
    tags: def.tags,
    settings: (partial) => (def.tags.category === 'faithfulness' ? { ...def.settings(partial), ...controlSettings(partial) } : def.settings(partial)) as S,
    async compute(input, settings, seed): Promise<MetricResult> {
      const t0 = performance.now();
      if (!Number.isInteger(seed)) throw new SaliencyError(`seed ${seed} must be an integer`, 'BAD_SETTING');
      checkMapOnImage(input.map, input.image.input, def.name);
      if (def.tags.needs.model && !input.model) throw new SaliencyError(`${def.name} needs the model`, 'BAD_INPUT');
      if (def.tags.needs.annotations && !input.annotation) throw new SaliencyError(`${def.name} needs annotation boxes or masks for this image`, 'NO_ANNOTATION');
      if (def.tags.needs.referenceMap && !input.reference) throw new SaliencyError(`${def.name} needs a second map to compare with`, 'BAD_INPUT');
      if (def.tags.needs.explainerReruns && !input.explainer) throw new SaliencyError(`${def.name} needs the explainer that made the map (it re-runs it)`, 'BAD_INPUT');
      const main = await def.run(input, input.map, settings, seed);
      let control: MetricValue | undefined;
      const cs = settings as Partial<ControlSettings>;
      if (def.tags.category === 'faithfulness' && cs.control !== false) {
        const { width, height } = input.map;
        const n = cs.controlSamples ?? DEFAULT_CONTROL_SAMPLES;
        // Concurrently, so that the scheduler batches their curves together.
        control = meanOfControls(await Promise.all(Array.from({ length: n }, (_, k) => def.run(input, controlMap(width, height, seed, k, cs.controlGrain ?? 7), settings, seed))));
      }
      return {
        metric: def.name, higherIsBetter: def.tags.higherIsBetter, ...main, control,
        settings, seed, millis: performance.now() - t0,
      };
    },
  };
}

export const TAGS = {
  faithfulness: (higherIsBetter: boolean): MetricTags => ({
    higherIsBetter, category: 'faithfulness', needs: { model: true, annotations: false, explainerReruns: false, referenceMap: false },
  }),
};

/** Settings helpers: a positive integer, a number in a range, a boolean. */
export function intSetting(v: unknown, fallback: number, name: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return fallback;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new SaliencyError(`setting ${name}=${String(v)} must be an integer in ${min}..${max === Number.MAX_SAFE_INTEGER ? 'inf' : max}`, 'BAD_SETTING');
  }
  return n;
}
export function numSetting(v: unknown, fallback: number, name: string, min: number, max: number): number {
  if (v === undefined) return fallback;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) {
    throw new SaliencyError(`setting ${name}=${String(v)} must be a number in [${min}, ${max}]`, 'BAD_SETTING');
  }
  return n;
}
export function boolSetting(v: unknown, fallback: boolean, name: string): boolean {
  if (v === undefined) return fallback;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  throw new SaliencyError(`setting ${name}=${String(v)} must be true or false`, 'BAD_SETTING');
}
