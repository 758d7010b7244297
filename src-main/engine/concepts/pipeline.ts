// The whole concept pipeline in two calls, shared by the CLI and scripts/eval-smer.ts: captions -> labels
// from the classifier -> embedding -> regression (+ fidelity check on every caption), then AOPC curves.
import type { Classifier } from '../model/classifier.ts';
import { compareAopc, type AopcCurve, limeLocalOrder, limeScoreTables, orderByScores, type PairedComparison, randomWordAopc, smerScoreTables, wordAopc } from './aopc.ts';
import { type ConceptFit, type ConceptFitOptions, fitConceptModel, type ConceptModel } from './concept-model.ts';
import { type LabelledCaptions, type LabelOptions, labelCaptions } from './dataset.ts';
import { IdentityEmbedding, VectorEmbedding, type WordEmbedding } from './embedding.ts';
import type { OpenAiEndpoint } from './endpoint.ts';
import { DEFAULT_LIME_TEXT, type LimeTextSettings } from './lime-text.ts';
import { FIDELITY_TOLERANCE, smerExplain } from './smer.ts';

export interface CaptionPipelineOptions extends LabelOptions, ConceptFitOptions {
  /** Word vectors: the offline one-hot identity (default) or an embeddings endpoint. */
  embedding?: 'identity' | OpenAiEndpoint;
}

export interface FidelityReport {
  /** Largest |mean per-word logit - caption logit| over every caption and output. */
  worst: number;
  checked: number;
  /** Captions over FIDELITY_TOLERANCE (should be none). */
  violations: string[];
}

export interface CaptionPipeline {
  set: LabelledCaptions;
  embedding: WordEmbedding;
  fit: ConceptFit;
  fidelity: FidelityReport;
}

export function checkFidelity(model: ConceptModel, docs: readonly { filename: string; words: string[] }[]): FidelityReport {
  let worst = 0;
  const violations: string[] = [];
  for (const d of docs) {
    const e = smerExplain(model, d.words).fidelityError;
    worst = Math.max(worst, e);
    if (!(e <= FIDELITY_TOLERANCE)) violations.push(d.filename);
  }
  return { worst, checked: docs.length, violations };
}

export async function fitCaptions(file: string, classifier: Classifier, opts: CaptionPipelineOptions = {}): Promise<CaptionPipeline> {
  return fitCaptionSet(await labelCaptions(file, classifier, opts), opts);
}

/** Embedding, regression and fidelity check for captions already labelled (from a file or the database). */
export async function fitCaptionSet(set: LabelledCaptions, opts: Omit<CaptionPipelineOptions, keyof LabelOptions> = {}): Promise<CaptionPipeline> {
  const words = set.docs.flatMap((d) => d.words);
  const embedding = !opts.embedding || opts.embedding === 'identity'
    ? new IdentityEmbedding(words)
    : await VectorEmbedding.fromEndpoint(opts.embedding, words);
  const fit = fitConceptModel(set.docs, set.classes, embedding, opts);
  return { set, embedding, fit, fidelity: checkFidelity(fit.model, set.docs) };
}

export interface AopcReport {
  maxK: number;
  lime: LimeTextSettings;
  smer: AopcCurve;
  limeCurve: AopcCurve;
  /** LIME ranking each caption's words by its own weights (not the seed's global protocol; for reference). */
  limeLocal: AopcCurve;
  random: AopcCurve;
  smerVsLime: PairedComparison;
}

export function aopcReport(model: ConceptModel, docs: readonly (readonly string[])[], opts: { seed?: number; maxK?: number; lime?: Partial<LimeTextSettings> } = {}): AopcReport {
  const seed = opts.seed ?? 0;
  const maxK = opts.maxK ?? 6;
  const lime: LimeTextSettings = { ...DEFAULT_LIME_TEXT, ...Object.fromEntries(Object.entries(opts.lime ?? {}).filter(([, v]) => v !== undefined)) };
  const smer = wordAopc(model, docs, orderByScores(smerScoreTables(model)), 'SMER', maxK);
  const limeCurve = wordAopc(model, docs, orderByScores(limeScoreTables(model, docs, seed, lime)), 'LIME', maxK);
  const limeLocal = wordAopc(model, docs, limeLocalOrder(model, docs, seed, lime), 'LIME-own', maxK);
  const random = randomWordAopc(model, docs, seed, 20, maxK);
  return { maxK, lime, smer, limeCurve, limeLocal, random, smerVsLime: compareAopc(smer, limeCurve, seed) };
}
