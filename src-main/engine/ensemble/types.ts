// Types shared by the ensemble module: normalisers, combiners, weight sets and the ensemble spec.
import type { Map2D } from '../types.ts';

export const NORMALISER_NAMES = ['minmax', 'percentile', 'zscore', 'robust', 'rank', 'second-moment', 'none'] as const;
export type NormaliserName = (typeof NORMALISER_NAMES)[number];

/** What to do with negative evidence (LIME, SHAP) before normalising. */
export const SIGN_POLICIES = ['signed', 'positive', 'absolute'] as const;
export type SignPolicy = (typeof SIGN_POLICIES)[number];

export interface NormaliseOptions {
  sign?: SignPolicy;
  /** Percentile clipping bounds, in percent (default 1 and 99). */
  lowPercentile?: number;
  highPercentile?: number;
}

/** Where a weight set came from. 'annotations' = fitted on human masks by the learned combiner. */
export type WeightSource = 'metrics' | 'ratings' | 'manual' | 'annotations';

/** A named set of non-negative method weights and the record of how it was made. */
export interface WeightSet {
  name: string;
  source: WeightSource;
  weights: Record<string, number>;
  provenance: Record<string, unknown>;
}

/** The member maps after resampling to one grid and normalising, aligned with their method names. */
export interface MemberStack {
  width: number;
  height: number;
  methods: string[];
  maps: Float32Array[];
  /** Non-negative, sum to 1, one per member. */
  weights: number[];
}

export interface Combiner {
  readonly name: string;
  readonly description: string;
  /** True when the combiner reads stack.weights (others treat members equally). */
  readonly usesWeights: boolean;
  /** Fills in defaults and validates the combiner's own options; throws SaliencyError naming a bad one. */
  options(partial: Record<string, unknown>): Record<string, unknown>;
  combine(stack: MemberStack, options: Record<string, unknown>): Float32Array;
}

export interface EnsembleSpec {
  /** A name from ENSEMBLE_NAMES. */
  combiner: string;
  normaliser?: NormaliserName;
  sign?: SignPolicy;
  lowPercentile?: number;
  highPercentile?: number;
  /** A weight set (with provenance) or plain method -> weight; uniform when absent. */
  weights?: WeightSet | Record<string, number>;
  /** Common grid; default: the first member's map size. */
  grid?: { width: number; height: number };
  /** Combiner-specific options (eps, trim, cell, k, coarse, gate, ...). */
  options?: Record<string, unknown>;
}

export type { Map2D };
