// The shape of an evaluation metric. Each metric declares, as Quantus does, whether higher is better, its
// category and what it needs, so that tables and ensembles can treat every metric the same way.
import type { Classifier } from '../model/classifier.ts';
import type { Explainer, PreparedImage } from '../explain/types.ts';
import type { Map2D, Target } from '../types.ts';

export type MetricCategory = 'faithfulness' | 'localisation' | 'robustness' | 'complexity' | 'randomisation' | 'agreement';

export interface MetricNeeds {
  /** Calls the model (always through the shared scheduler). */
  model: boolean;
  /** Needs ground-truth boxes or masks. */
  annotations: boolean;
  /** Re-runs the explainer (robustness, randomisation). */
  explainerReruns: boolean;
  /** Compares against a second map (agreement). */
  referenceMap: boolean;
}

export interface MetricTags {
  higherIsBetter: boolean;
  category: MetricCategory;
  needs: MetricNeeds;
}

/** Ground truth for localisation metrics, on the model-input grid. Boxes are [x0, y0, x1, y1), in pixels. */
export interface Annotation {
  boxes?: [number, number, number, number][];
  /** Non-zero = object. */
  mask?: Map2D;
}

/** A curve kept with the number it summarises (x in [0,1] = fraction perturbed, y = target score). */
export interface Curve {
  x: number[];
  y: number[];
  xLabel: string;
  yLabel: string;
}

export interface MetricInput {
  image: PreparedImage;
  target: Target;
  /** The explanation to judge, on the model-input grid. */
  map: Map2D;
  model?: Classifier;
  annotation?: Annotation;
  /** Second map for agreement metrics. */
  reference?: Map2D;
  /** How the map was made, for metrics that re-run the explainer. */
  explainer?: { explainer: Explainer; settings: Record<string, unknown>; seed: number };
  /** The model file, for the randomisation check when the model was not loaded from a path. */
  modelBytes?: Uint8Array;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

export interface MetricValue {
  value: number;
  curve?: Curve;
  extras?: Record<string, unknown>;
}

export interface MetricResult extends MetricValue {
  metric: string;
  higherIsBetter: boolean;
  /** The same metric on a seeded random map (faithfulness metrics), so users see what chance looks like. */
  control?: MetricValue;
  settings: Record<string, unknown>;
  seed: number;
  millis: number;
}

export interface Metric<S extends Record<string, unknown> = Record<string, unknown>> {
  readonly name: string;
  readonly description: string;
  readonly tags: MetricTags;
  /** Fills in defaults and validates; throws SaliencyError naming the bad setting. */
  settings(partial: Partial<S>): S;
  /** Every random choice derives from `seed`. */
  compute(input: MetricInput, settings: S, seed: number): Promise<MetricResult>;
}
