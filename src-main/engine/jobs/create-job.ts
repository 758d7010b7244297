// Creating a batch job: every readable image of a library x every method spec, each method's settings
// validated and recorded as a run (model, method, settings, seed, app version).
import { Classifier } from '../model/classifier.ts';
import type { Store } from '../store/store.ts';
import type { JobParams, JobRecord } from '../store/jobs-repo.ts';
import type { ScoreKind } from '../types.ts';
import { SaliencyError } from '../types.ts';
import { explainerFor, parseMethodSpec } from './methods.ts';

export interface ExplainJobSpec {
  libraryId: number;
  modelPath: string;
  /** e.g. ['gradcam', 'gradcam:probability'] */
  methods: string[];
  score?: ScoreKind;
  seed?: number;
  /** Partial settings per method name. */
  settings?: Record<string, Record<string, unknown>>;
  /** Only these images (default: every readable image of the library). */
  imageIds?: number[];
}

export async function createExplainJob(store: Store, spec: ExplainJobSpec): Promise<JobRecord> {
  const library = store.libraries.find(spec.libraryId);
  const score = spec.score ?? 'logit';
  const seed = spec.seed ?? 0;
  if (spec.methods.length === 0) throw new SaliencyError('a job needs at least one method', 'BAD_METHOD');
  const methods = spec.methods.map((m) => parseMethodSpec(m, score));
  const dup = methods.find((m, i) => methods.findIndex((o) => o.name === m.name && o.score === m.score) !== i);
  if (dup) throw new SaliencyError(`method "${dup.spec}" is listed twice`, 'BAD_METHOD');
  // Loading the model checks it before anything is stored, and gives the info its row records.
  const model = await Classifier.load(spec.modelPath, { threads: 1 });
  const info = model.info;
  await model.dispose();
  const images = spec.imageIds ?? store.images.allOf(library.id).filter((i) => !i.missing && !i.error).map((i) => i.id);
  if (images.length === 0) throw new SaliencyError(`library ${library.root} has no readable images (scan it first: saliency library scan ${library.id})`, 'EMPTY_LIBRARY');
  const params: JobParams = { methods: methods.map((m) => m.spec), score, seed, settings: spec.settings ?? {} };
  return store.transaction(() => {
    const modelRow = store.models.ensure(info);
    const runs = new Map(methods.map((m) => {
      const settings = explainerFor(m.name).settings(spec.settings?.[m.name] ?? {});
      return [m.spec, store.runs.ensure({ modelId: modelRow.id, method: m.name, settings, seed })];
    }));
    const items = images.flatMap((imageId) => methods.map((m) => ({ imageId, method: m.spec, runId: runs.get(m.spec)!.id })));
    return store.jobs.create({ libraryId: library.id, modelId: modelRow.id, modelPath: info.path ?? spec.modelPath, params, items });
  });
}
