// One interface for every explanation method (in the spirit of Captum's attribute()):
// an image prepared for the model, a target, settings and a seed in; a map on the model-input grid out.
import type { Classifier } from '../model/classifier.ts';
import type { ImageTransform, Map2D, PlanarImage, Target } from '../types.ts';

/** An image ready for explanation: the model input plus where it came from. */
export interface PreparedImage {
  /** Stable identity (content hash or path), used for caching model evaluations. */
  id: string;
  input: PlanarImage;
  transform: ImageTransform;
}

export interface ExplainContext {
  model: Classifier;
  /** Reports progress in [0,1] and, for sampling methods, intermediate maps. */
  onProgress?: (p: { fraction: number; partial?: Map2D; note?: string }) => void;
  signal?: AbortSignal;
}

export interface Explanation {
  method: string;
  target: Target;
  /** On the model-input grid (input.width x input.height). Higher = more evidence for the target. */
  map: Map2D;
  /** The map at its native resolution (e.g. the 8x8 CAM grid, or one value per superpixel), when different. */
  native?: Map2D;
  /** Number of model evaluations the method used. */
  evaluations: number;
  settings: Record<string, unknown>;
  seed: number;
  /** Method-specific results: per-segment weights, fit quality, convergence, ... */
  extras: Record<string, unknown>;
  /** Wall time in ms. */
  millis: number;
}

export interface Explainer<S extends Record<string, unknown> = Record<string, unknown>> {
  readonly name: string;
  readonly description: string;
  /** Fills in defaults and validates; throws SaliencyError naming the bad setting. */
  settings(partial: Partial<S>): S;
  /** Opt-in boolean settings (e.g. auto, controlVariate): in the settings only when true, so runs without them
   *  keep the stored settings they had before the switch existed; false is accepted and stored as absent. */
  readonly switches?: readonly string[];
  explain(image: PreparedImage, target: Target, settings: S, seed: number, ctx: ExplainContext): Promise<Explanation>;
}
