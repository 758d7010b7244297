// Ensembles of stored explanations, saved as explanations of their own (method "ensemble:<combiner>"), so
// that they are evaluated, rated and reported like any single method.
import type { Store } from '../store/store.ts';
import type { Explanation } from '../explain/types.ts';
import type { StoredExplanation } from '../store/results-repo.ts';
import { buildEnsemble } from '../ensemble/index.ts';
import type { EnsembleSpec } from '../ensemble/types.ts';
import { referenceScore } from '../protocol.ts';
import { SaliencyError } from '../types.ts';

export interface EnsembleStoredOptions {
  modelId: number;
  imageIds: number[];
  /** Ensemble specs, e.g. [{ combiner: 'mean' }, { combiner: 'borda' }]. */
  specs: EnsembleSpec[];
  /** Member methods (default: every single method the image has for the model). */
  members?: string[];
  /** Only maps of these runs (e.g. a batch job's), default any run of the model. */
  runIds?: number[];
}

export function asExplanation(e: StoredExplanation): Explanation {
  return {
    method: e.method, target: { classIndex: e.targetClass, score: e.scoreKind }, map: e.map, native: e.native ?? undefined,
    evaluations: e.evaluations, settings: e.settings, seed: e.seed, extras: e.extras, millis: e.millis,
  };
}

export interface BuiltEnsemble {
  imageId: number;
  spec: EnsembleSpec;
  /** What runs.ensure needs (the run depends on the member methods). */
  run: { modelId: number; method: string; settings: Record<string, unknown>; seed: number };
  imageSha256: string | null;
  explanation: Explanation;
}

/** Builds the ensembles of each image from its stored maps without saving them (a batch job saves each one
 *  with its metrics and its item status in one transaction). */
export function buildStoredEnsembles(store: Store, opts: EnsembleStoredOptions): { built: BuiltEnsemble[]; skipped: { imageId: number; reason: string }[] } {
  const built: BuiltEnsemble[] = [];
  const skipped: { imageId: number; reason: string }[] = [];
  for (const imageId of opts.imageIds) {
    const all = store.explanations.list({ imageId, modelId: opts.modelId })
      .filter((e) => !e.method.startsWith('ensemble') && (!opts.runIds || opts.runIds.includes(e.runId)));
    // One member per method, all explaining the same class: the image's top-1 class when it has maps of it, else
    // the most explained one; per method its map on the protocol's reference score when there is one, else the
    // latest (two maps of one method are never both members: docs/protocol.md).
    const counts = new Map<number, number>();
    for (const e of all) counts.set(e.targetClass, (counts.get(e.targetClass) ?? 0) + 1);
    const top1 = store.predictions.get(imageId, opts.modelId)?.topClass;
    const target = top1 !== undefined && counts.has(top1) ? top1 : [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
    const latest = new Map<string, { id: number; reference: boolean }>();
    for (const e of all) {
      if (e.targetClass !== target || (opts.members && !opts.members.includes(e.method))) continue;
      const reference = e.scoreKind === referenceScore(e.method);
      if (!latest.get(e.method)?.reference || reference) latest.set(e.method, { id: e.id, reference });
    }
    if (latest.size < 2) {
      skipped.push({ imageId, reason: `needs maps of at least two methods for one class (has: ${[...latest.keys()].join(', ') || 'none'})` });
      continue;
    }
    // members in the job's method order (not storage order), so the combination is reproducible bit for bit
    const order = (m: string) => opts.members?.indexOf(m) ?? 0;
    const members = [...latest].sort((x, y) => order(x[0]) - order(y[0])).map(([, { id }]) => store.explanations.get(id)!);
    for (const spec of opts.specs) {
      const ens = buildEnsemble(members.map(asExplanation), spec);
      built.push({
        imageId, spec, imageSha256: members[0].imageSha256, explanation: ens,
        run: { modelId: opts.modelId, method: ens.method, settings: { ...ens.settings, members: members.map((m) => m.method) }, seed: ens.seed },
      });
    }
  }
  return { built, skipped };
}

/** Saves a built ensemble (an upsert: building the same one again keeps its id); returns the explanation id. */
export function saveBuiltEnsemble(store: Store, b: BuiltEnsemble): number {
  const run = store.runs.ensure(b.run);
  return store.explanations.save({ imageId: b.imageId, runId: run.id, imageSha256: b.imageSha256, explanation: b.explanation });
}

/** Builds and saves the ensembles for each image; returns the new explanation ids (per image, per spec). */
export function ensembleStored(store: Store, opts: EnsembleStoredOptions): { ids: number[]; skipped: { imageId: number; reason: string }[] } {
  const { built, skipped } = buildStoredEnsembles(store, opts);
  const ids = built.map((b) => saveBuiltEnsemble(store, b));
  if (ids.length === 0 && skipped.length) throw new SaliencyError(`no ensemble could be built: ${skipped[0].reason}`, 'NOT_FOUND');
  return { ids, skipped };
}
