// The whole concept pipeline in two calls, shared by the CLI and scripts/eval-smer.ts: captions -> labels
// from the classifier -> embedding -> regression (+ fidelity check on every caption), then AOPC curves.
import type { Classifier } from '../model/classifier.ts';
import {
  type AopcCurve, compareAopcs, globalTopWords, limeImportance, limeLocalOrder, limeScoreTables, listOrder, orderByScores,
  type PairedComparison, randomListAopc, randomWordAopc, smerImportance, smerScoreTables, wordAopc,
} from './aopc.ts';
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

export type AopcProtocol = 'per-class' | 'global-top';
export const AOPC_PROTOCOLS: AopcProtocol[] = ['per-class', 'global-top'];

export interface AopcReport {
  protocol: AopcProtocol;
  /** global-top: the list length N; with it, each method's list. */
  top?: number;
  lists?: { smer: string[]; lime: string[] };
  /** Captions the word rankings were built from (the scored ones, or the training split). */
  rankingDocuments: number;
  maxK: number;
  lime: LimeTextSettings;
  smer: AopcCurve;
  limeCurve: AopcCurve;
  /** LIME ranking each caption's words by its own weights (a per-caption reference, not either protocol). */
  limeLocal: AopcCurve;
  /** Random orders (per-class) or random global lists of N words (global-top): the chance control. */
  random: AopcCurve;
  smerVsLime: PairedComparison;
  /** Each method against the random control (Holm-adjusted over these two). */
  smerVsRandom: PairedComparison;
  limeVsRandom: PairedComparison;
}

export interface AopcOptions {
  seed?: number;
  maxK?: number;
  lime?: Partial<LimeTextSettings>;
  protocol?: AopcProtocol;
  /** global-top list length (default 10). */
  top?: number;
  /** Captions the rankings are built from (default: the scored captions, as the original work). */
  rankingDocs?: readonly (readonly string[])[];
}

/** AOPC of SMER, LIME, LIME's own per-caption order and a random control on `docs`, with paired verdicts. */
export function aopcReport(model: ConceptModel, docs: readonly (readonly string[])[], opts: AopcOptions = {}): AopcReport {
  const seed = opts.seed ?? 0;
  const maxK = opts.maxK ?? 6;
  const protocol = opts.protocol ?? 'per-class';
  const rank = opts.rankingDocs ?? docs;
  const lime: LimeTextSettings = { ...DEFAULT_LIME_TEXT, ...Object.fromEntries(Object.entries(opts.lime ?? {}).filter(([, v]) => v !== undefined)) };
  const limeLocal = wordAopc(model, docs, limeLocalOrder(model, docs, seed, lime), 'LIME-own', maxK);
  let smer: AopcCurve, limeCurve: AopcCurve, random: AopcCurve;
  let extra: Pick<AopcReport, 'top' | 'lists'> = {};
  if (protocol === 'global-top') {
    const top = opts.top ?? 10;
    const lists = { smer: globalTopWords(model, rank, smerImportance(model), top), lime: globalTopWords(model, rank, limeImportance(model, seed, lime), top) };
    smer = wordAopc(model, docs, listOrder(lists.smer), 'SMER', maxK);
    limeCurve = wordAopc(model, docs, listOrder(lists.lime), 'LIME', maxK);
    random = randomListAopc(model, docs, [...new Set(rank.flat())].sort(), top, seed, 20, maxK);
    extra = { top, lists };
  } else {
    smer = wordAopc(model, docs, orderByScores(smerScoreTables(model)), 'SMER', maxK);
    limeCurve = wordAopc(model, docs, orderByScores(limeScoreTables(model, rank, seed, lime)), 'LIME', maxK);
    random = randomWordAopc(model, docs, seed, 20, maxK);
  }
  // Two families: the claim (SMER vs LIME) and the controls (each method vs random, Holm over the two).
  const [smerVsLime] = compareAopcs([[smer, limeCurve]], seed);
  const [smerVsRandom, limeVsRandom] = compareAopcs([[smer, random], [limeCurve, random]], seed);
  return { protocol, ...extra, rankingDocuments: rank.length, maxK, lime, smer, limeCurve, limeLocal, random, smerVsLime, smerVsRandom, limeVsRandom };
}
