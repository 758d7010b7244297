// ApiService: the implementation of every method of contract.ts over the engine and the SQLite store.
// Transports never call the engine themselves; they validate with the contract and call `call(method, req)`.
// Ids on the wire are the store's row ids as strings.
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { API, COLORMAP_NAMES, describeIssues, type ApiEvent, type ExplanationSummaryT, type ImageSummaryT, type Job, type Library,
  type MapDataT, type MethodName, type ParsedReq, type Req, type Res } from './contract.ts';
import { JobQueue, type JobItem, type RunnerControl } from './job-queue.ts';
import { createExplainJob } from '../engine/jobs/create-job.ts';
import { JobRunner, resumableJobs } from '../engine/jobs/runner.ts';
import type { JobRecord } from '../engine/store/jobs-repo.ts';
import { guessClass } from './ground-truth-guess.ts';
import { deletionInsertion } from './curves.ts';
import { asExplanation } from '../engine/pipeline/ensemble-stored.ts';
import type { ClassGroups } from '../engine/concepts/captions-file.ts';
import { decodeRuns, encodeRuns } from './mask-runs.ts';
import { ConceptCache } from './concepts.ts';
import { SaliencyError, type ImageTransform, type Map2D, type Target } from '../engine/types.ts';
import { Classifier, type ModelInfo } from '../engine/model/classifier.ts';
import { BUILTIN_MODELS, isBuiltinSpec, resolveModelSpec } from '../engine/model/builtin.ts';
import { prepareImageFile, type LoadedImage } from '../engine/image/prepare.ts';
import { planTransform } from '../engine/image/load-image.ts';
import { mapToOriginal } from '../engine/image/upsample.ts';
import { EXPLAINER_NAMES, getExplainer } from '../engine/explain/registry.ts';
import type { Explanation } from '../engine/explain/types.ts';
import { topK } from '../engine/util/math.ts';
import { Random } from '../engine/util/random.ts';
import { openStore, type Store } from '../engine/store/store.ts';
import type { ImageListItem, ImageQuery, ImageRecord } from '../engine/store/images-repo.ts';
import type { StoredExplanation } from '../engine/store/results-repo.ts';
import { importFolder } from '../engine/library/scan.ts';
import { makeReport } from '../engine/report/make-report.ts';
import { normaliseWeights } from '../engine/ensemble/weights/weight-set.ts';
import { ENSEMBLE_NAMES, buildEnsemble, fitBradleyTerry, manualWeights, weightsFromLikert, weightsFromMetrics, weightsFromPairwise,
  type WeightSet } from '../engine/ensemble/index.ts';

export const APP_VERSION = '0.1.0';

export interface ServiceOptions {
  mode?: 'browser' | 'electron';
  /** Folder for the database (studio.db) and files the app writes. */
  dataDir: string;
  /** Database file (default: <dataDir>/studio.db). */
  dbFile?: string;
  /** Model loaded at start ("builtin:demo" or an .onnx path). */
  model?: string;
}

interface ModelHandle { id: string; dbId: number; spec: string; classifier: Classifier }

/** A small LRU of decoded images: explaining one image with several methods decodes it once. */
class ImageCache {
  private readonly map = new Map<string, LoadedImage>();
  constructor(private readonly size: number) {}
  get(key: string) { const v = this.map.get(key); if (v) { this.map.delete(key); this.map.set(key, v); } return v; }
  set(key: string, v: LoadedImage) { this.map.set(key, v); if (this.map.size > this.size) this.map.delete(this.map.keys().next().value!); }
}

const asId = (what: string, id: string): number => {
  if (!/^\d{1,15}$/.test(id)) throw new SaliencyError(`no ${what} with id "${id}"`, 'NOT_FOUND');
  return Number(id);
};

export class ApiService {
  readonly jobs: JobQueue;
  readonly store: Store;
  private model: ModelHandle | null = null;
  private readonly listeners = new Set<(e: ApiEvent) => void>();
  private readonly cache = new ImageCache(16);
  private readonly concepts: ConceptCache;
  /** Bumped on every write that can change a listing; cached listings older than it are rebuilt. */
  private revision = 0;
  private readonly listings = new Map<string, { revision: number; items: ImageListItem[] }>();

  constructor(readonly options: ServiceOptions) {
    this.store = openStore(options.dbFile ?? path.join(options.dataDir, 'studio.db'));
    this.concepts = new ConceptCache(this.store);
    this.jobs = new JobQueue((job) => this.emit({ type: 'job', job }));
  }

  /** Loads the start-up model. */
  async init(): Promise<void> {
    if (this.options.model) await this.loadModel(this.options.model);
    this.listResumableJobs();
  }

  /** Batch jobs left unfinished by an earlier run (paused, or killed half-way): listed as paused, to resume. */
  listResumableJobs(): void {
    for (const j of resumableJobs(this.store)) {
      const id = `batch-${j.id}`;
      if (this.jobs.list().some((x) => x.id === id)) continue;
      this.jobs.addRunner(`${j.params.methods.join(', ')} on ${this.store.libraries.get(j.libraryId ?? 0)?.name ?? 'library'} (left unfinished)`, j.counts.total,
        this.batchRunner(j.id), { id, done: j.counts.done + j.counts.error, failed: j.counts.error, state: 'paused' });
    }
  }

  /** The engine's resumable batch job (worker threads, results in the store) behind the app's job queue. */
  private batchRunner(jobId: number): RunnerControl {
    let runner: JobRunner | null = null;
    return {
      run: async (report) => {
        runner = new JobRunner(this.store, jobId, {
          onEvent: (e) => {
            if (e.type === 'progress') {
              report({ done: e.counts.done + e.counts.error, failed: e.counts.error });
              this.changed();
              this.emit({ type: 'changed' });
            } else if (e.type === 'item-error') {
              const img = this.store.images.get(e.imageId);
              report({ done: -1, failed: -1, error: { item: `${img?.relPath ?? e.imageId} · ${e.method}`, message: e.error } });
            }
          },
        });
        const job = await runner.run();
        return job.status === 'done' ? 'done' : job.status === 'cancelled' ? 'cancelled' : 'paused';
      },
      pause: () => runner?.pause(),
      cancel: () => runner?.cancel(),
    };
  }

  close(): void {
    for (const j of this.jobs.list()) if (['running', 'queued', 'paused'].includes(j.state)) this.jobs.cancel(j.id);
    this.store.close();
  }

  on(listener: (e: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: ApiEvent): void {
    for (const l of this.listeners) l(e);
  }

  private changed(imageId?: number): void {
    this.revision++;
    if (imageId !== undefined) this.emit({ type: 'image', imageId: String(imageId) });
  }

  /** Runs one method for in-process callers (CLI, tests): validated with the contract like any transport's. */
  async call<M extends MethodName>(method: M, req: Req<M>): Promise<Res<M>> {
    const parsed = API[method].request.safeParse(req);
    if (!parsed.success) throw new SaliencyError(`${method}: ${describeIssues(parsed.error)}`, 'BAD_REQUEST');
    return this.run(method, parsed.data as ParsedReq<M>);
  }

  /** Runs one method whose request the dispatcher has already validated. */
  async run<M extends MethodName>(method: M, req: ParsedReq<M>): Promise<Res<M>> {
    const handler = (this.handlers as Record<string, (r: unknown) => Promise<unknown>>)[method];
    if (!handler) throw new SaliencyError(`API method "${method}" is not implemented`, 'NOT_AVAILABLE');
    return (await handler(req)) as Res<M>;
  }

  // ---- models ----

  private async loadModel(spec: string): Promise<ModelHandle> {
    if (!isBuiltinSpec(spec) && !spec.toLowerCase().endsWith('.onnx')) {
      throw new SaliencyError(`a model is "builtin:<name>" or a path to an .onnx file, not "${spec}"`, 'BAD_REQUEST');
    }
    const file = resolveModelSpec(spec);
    const classifier = await Classifier.load(file, { name: isBuiltinSpec(spec) ? spec : undefined });
    const rec = this.store.models.ensure(classifier.info);
    this.model = { id: String(rec.id), dbId: rec.id, spec, classifier };
    this.changed();
    return this.model;
  }

  private requireModel(): ModelHandle {
    if (!this.model) throw new SaliencyError('no model is loaded: load one first (model.load with "builtin:demo" or an .onnx path)', 'NO_MODEL');
    return this.model;
  }

  private modelSummary(m: ModelHandle): Res<'model.load'> {
    const { info, head } = m.classifier;
    return {
      id: m.id, spec: m.spec, name: info.name, inputWidth: info.input.width, inputHeight: info.input.height,
      numClasses: info.numClasses, preset: info.preset.name,
      head: info.head.found ? info.head.description : `no linear head found: ${info.head.reason}`,
      // CAM methods read the linear head; without one only model-agnostic methods can run.
      methods: EXPLAINER_NAMES.filter((n) => head || !n.includes('cam')),
    };
  }

  private label(classIndex: number): string {
    return this.model?.classifier.labels[classIndex]?.label ?? `class ${classIndex}`;
  }

  // ---- libraries and images ----

  private image(id: string | number): ImageRecord {
    const rec = this.store.images.get(typeof id === 'number' ? id : asId('image', id));
    if (!rec) throw new SaliencyError(`no image with id "${id}"`, 'NOT_FOUND');
    return rec;
  }

  private libraryInfo(id: number): Library {
    const lib = this.store.libraries.list().find((l) => l.id === id);
    if (!lib) throw new SaliencyError(`no library with id "${id}"`, 'NOT_FOUND');
    return {
      id: String(lib.id), path: lib.root, name: lib.name, imageCount: lib.images,
      errors: [...(lib.errors ? [`${lib.errors} file(s) could not be read`] : []), ...(lib.missing ? [`${lib.missing} file(s) have vanished`] : [])],
    };
  }

  /** An exported report's file, by its id in the store (for the file routes). */
  reportPath(id: string): string {
    const r = this.store.reports.list().find((x) => String(x.id) === id);
    if (!r) throw new SaliencyError(`no report with id "${id}"`, 'NOT_FOUND');
    return r.path;
  }

  /** The image file behind an id (for the file routes): only images of registered libraries can be read. */
  imagePath(id: string): string {
    return this.image(id).path;
  }

  private groundTruth(rec: ImageRecord): number | null {
    if (rec.trueClass !== null) return rec.trueClass;
    return this.model ? guessClass(rec.relPath, this.model.classifier.labels) : null;
  }

  private explanationsOf(imageId: number): StoredExplanationSummary[] {
    if (!this.model) return [];
    return this.store.explanations.list({ imageId, modelId: this.model.dbId }) as StoredExplanationSummary[];
  }

  private prediction(imageId: number) {
    if (!this.model) return null;
    const p = this.store.predictions.get(imageId, this.model.dbId);
    return p ? p.topK.map((t) => ({ ...t, label: this.label(t.classIndex) })) : null;
  }

  private summary(rec: ImageRecord): ImageSummaryT {
    const preds = this.prediction(rec.id);
    const top = preds?.[0] ?? null;
    const expl = this.explanationsOf(rec.id);
    const truth = this.groundTruth(rec);
    return {
      id: String(rec.id), libraryId: String(rec.libraryId), name: path.posix.basename(rec.relPath), relPath: rec.relPath,
      predicted: top,
      groundTruth: truth === null ? null : { classIndex: truth, label: this.label(truth) },
      correct: top && truth !== null ? top.classIndex === truth : null,
      methods: [...new Set(expl.map((e) => e.method))],
      rated: expl.some((e) => this.store.ratings.list({ explanationId: e.id }).length > 0),
      error: rec.error ?? (rec.missing ? 'the file has vanished' : null),
    };
  }

  /** Every image of a query, in id order, cached until the next write. */
  private listing(q: ImageQuery): ImageListItem[] {
    const key = JSON.stringify(q);
    const hit = this.listings.get(key);
    if (hit && hit.revision === this.revision) return hit.items;
    const items: ImageListItem[] = [];
    let afterId: number | undefined;
    do {
      const page = this.store.images.page({ ...q, afterId, limit: 1000 });
      items.push(...page.items);
      afterId = page.nextAfterId ?? undefined;
    } while (afterId !== undefined);
    if (this.listings.size > 20) this.listings.clear();
    this.listings.set(key, { revision: this.revision, items });
    return items;
  }

  private async load(rec: ImageRecord): Promise<LoadedImage> {
    const m = this.requireModel();
    const key = `${m.id}:${rec.id}`;
    let loaded = this.cache.get(key);
    if (!loaded) {
      loaded = await prepareImageFile(rec.path, m.classifier);
      this.cache.set(key, loaded);
    }
    return loaded;
  }

  private async predict(recs: ImageRecord[]): Promise<void> {
    const m = this.requireModel();
    const todo = recs.filter((r) => !this.store.predictions.get(r.id, m.dbId));
    if (!todo.length) return;
    const loaded: LoadedImage[] = [];
    for (const r of todo) {
      try {
        loaded.push(await this.load(r));
      } catch (e) {
        this.store.images.recordError(r.id, (e as Error).message);
        throw e;
      }
    }
    const out = await m.classifier.predict(loaded.map((l) => l.prepared.input));
    const K = out.numClasses;
    this.store.transaction(() => todo.forEach((r, i) => {
      this.store.predictions.save({
        imageId: r.id, modelId: m.dbId,
        topK: topK(out.probabilities, 5, i * K, K).map((c) => ({ classIndex: c, probability: out.probabilities[i * K + c], logit: out.logits[i * K + c] })),
      });
    }));
    this.changed();
  }

  private predictJob(libraryId: number): Job | null {
    if (!this.model) return null;
    const m = this.model;
    const recs = this.store.images.allOf(libraryId).filter((r) => !r.error && !r.missing && !this.store.predictions.get(r.id, m.dbId));
    if (!recs.length) return null;
    const batch = m.classifier.info.batch.size;
    const items: JobItem[] = [];
    for (let i = 0; i < recs.length; i += batch) {
      const group = recs.slice(i, i + batch);
      items.push({
        label: group.length === 1 ? group[0].relPath : `${group[0].relPath} (+${group.length - 1})`,
        run: async () => {
          try {
            await this.predict(group);
          } catch {
            // One bad file must not spoil its batch: predict the rest one by one, recording the bad one.
            const failed: string[] = [];
            for (const r of group) await this.predict([r]).catch((e: Error) => failed.push(`${r.relPath}: ${e.message}`));
            if (failed.length) throw new SaliencyError(failed.join('; '), 'BAD_IMAGE');
          }
          for (const r of group) this.emit({ type: 'image', imageId: String(r.id) });
        },
      });
    }
    return this.jobs.add(`Predict ${recs.length} images of ${this.store.libraries.get(libraryId)?.name ?? 'library'}`, items);
  }

  private async explain(rec: ImageRecord, method: string, target: Target | undefined, seed: number, signal: AbortSignal): Promise<void> {
    const m = this.requireModel();
    const explainer = getExplainer(method);
    const loaded = await this.load(rec);
    await this.predict([rec]);
    const t = target ?? { classIndex: this.prediction(rec.id)![0].classIndex, score: 'logit' as const };
    const settings = explainer.settings({});
    const e = await explainer.explain(loaded.prepared, t, settings, seed, { model: m.classifier, signal });
    const run = this.store.runs.ensure({ modelId: m.dbId, method, settings: e.settings, seed, appVersion: APP_VERSION });
    this.store.explanations.save({ imageId: rec.id, runId: run.id, imageSha256: rec.sha256, explanation: e });
    this.changed(rec.id);
  }

  private storedExplanation(id: string): StoredExplanation {
    const e = this.store.explanations.get(asId('explanation', id));
    if (!e) throw new SaliencyError(`no explanation with id "${id}"`, 'NOT_FOUND');
    return e;
  }

  /** Where a map made by a model lies on an image (from the stored model info and image size). */
  private transformOf(imageId: number, modelId: number): ImageTransform {
    const img = this.image(imageId);
    const info = this.store.models.get(modelId)?.info as unknown as ModelInfo | undefined;
    if (!info || img.width === null || img.height === null) throw new SaliencyError(`image ${img.relPath} or its model is not fully recorded`, 'NOT_FOUND');
    return planTransform(img.width, img.height, info.input.width, info.input.height, info.resize);
  }

  private encodeMap(map: Map2D, t: ImageTransform, maxSide: number): MapDataT {
    const projected = mapToOriginal(map, t, maxSide);
    let min = Infinity;
    let max = -Infinity;
    for (const v of projected.data) if (!Number.isNaN(v)) { if (v < min) min = v; if (v > max) max = v; }
    return {
      width: projected.width, height: projected.height,
      data: Buffer.from(projected.data.buffer, projected.data.byteOffset, projected.data.byteLength).toString('base64'),
      min: Number.isFinite(min) ? min : 0, max: Number.isFinite(max) ? max : 0,
    };
  }

  /** The weighted ensemble of an image's latest map per method (for the top-1 class when maps disagree on the target). */
  private ensembleOf(imageId: number, weights: Record<string, number>): { map: Map2D; used: string[]; modelId: number } {
    const expl = this.explanationsOf(imageId);
    const top = this.prediction(imageId)?.[0]?.classIndex;
    const latest = new Map<string, StoredExplanationSummary>();
    for (const e of expl) if (top === undefined || e.targetClass === top) latest.set(e.method, e);
    const members = [...latest.values()].filter((e) => (weights[e.method] ?? 0) > 0);
    if (!members.length) {
      throw new SaliencyError(`the image has no map of a method with a weight above 0 (it has: ${[...latest.keys()].join(', ') || 'none'})`, 'NOT_FOUND');
    }
    const stored = members.map((e) => this.store.explanations.get(e.id)!);
    const ens = buildEnsemble(stored.map(asExplanation), { combiner: 'weighted', weights: Object.fromEntries(members.map((e) => [e.method, weights[e.method]])) });
    return { map: ens.map, used: members.map((e) => e.method), modelId: stored[0].modelId };
  }

  /** Method of every explanation of the active model in a library (or everywhere). */
  private methodsById(libraryId?: string): Map<number, { method: string; imageId: number }> {
    const inLib = libraryId ? new Set(this.store.images.allOf(asId('library', libraryId)).map((r) => r.id)) : null;
    const out = new Map<number, { method: string; imageId: number }>();
    for (const e of this.store.explanations.list({ modelId: this.model?.dbId })) {
      if (!inLib || inLib.has(e.imageId)) out.set(e.id, { method: e.method, imageId: e.imageId });
    }
    return out;
  }

  private ratingRows(libraryId?: string) {
    const methods = this.methodsById(libraryId);
    const likert = this.store.ratings.list().filter((r) => methods.has(r.explanationId)).map((r) => ({ method: methods.get(r.explanationId)!.method, score: r.likert }));
    const pairwise = this.store.ratings.choices()
      .filter((c) => methods.has(c.explanationA) && methods.has(c.explanationB))
      .map((c) => {
        const a = methods.get(c.explanationA)!.method;
        const b = methods.get(c.explanationB)!.method;
        return { a, b, winner: c.winner === 'a' ? a : c.winner === 'b' ? b : 'tie' };
      })
      .filter((r) => r.a !== r.b);
    return { likert, pairwise };
  }

  private readonly handlers: { [M in MethodName]: (req: ParsedReq<M>) => Promise<Res<M>> } = {
    'app.info': async () => ({
      version: APP_VERSION,
      mode: this.options.mode ?? 'browser',
      model: this.model ? this.modelSummary(this.model) : null,
      models: BUILTIN_MODELS.map((b) => b.spec),
      methods: EXPLAINER_NAMES,
      // 'weighted' needs a weight set and 'learned' annotation-fitted weights: not for a plain batch.
      ensembles: ENSEMBLE_NAMES.filter((n) => n !== 'weighted' && n !== 'learned'),
      colormaps: [...COLORMAP_NAMES],
      features: { persistence: this.store.path, metrics: true, ensembles: true, reports: true },
    }),

    'model.load': async ({ spec }) => this.modelSummary(await this.loadModel(spec)),

    'library.open': async ({ path: p }) => {
      let root: string;
      try {
        root = await realpath(path.resolve(p));
      } catch {
        throw new SaliencyError(`${p}: folder not found`, 'NOT_FOUND');
      }
      if (!(await stat(root)).isDirectory()) throw new SaliencyError(`${p}: is a file, not a folder`, 'BAD_REQUEST');
      // Thumbnails are made on demand by the file routes: opening 10,000 images stays quick.
      const { library } = await importFolder(this.store, root, { thumbnails: false });
      this.changed();
      this.predictJob(library.id);
      const info = this.libraryInfo(library.id);
      this.emit({ type: 'library', library: info });
      return info;
    },

    'library.list': async () => this.store.libraries.list().map((l) => this.libraryInfo(l.id)),

    'images.list': async ({ libraryId, offset, limit, filter }) => {
      const lib = this.libraryInfo(asId('library', libraryId));
      const modelId = this.model?.dbId;
      const q: ImageQuery = { libraryId: Number(lib.id), modelId, method: filter.method, metric: filter.metric, rated: filter.rated };
      if (modelId !== undefined && filter.predictedClass !== undefined) q.predictedClass = filter.predictedClass;
      if (modelId !== undefined && (filter.correct === 'yes' || filter.correct === 'no')) q.correct = filter.correct === 'yes';
      let items = this.listing(q);
      const text = filter.text?.toLowerCase();
      if (text) items = items.filter((i) => i.relPath.toLowerCase().includes(text));
      if (filter.correct === 'unknown') items = items.filter((i) => i.predictedClass === null || this.groundTruth(i) === null);
      return { total: items.length, offset, items: items.slice(offset, offset + limit).map((r) => this.summary(r)) };
    },

    'image.get': async ({ imageId }) => {
      const rec = this.image(imageId);
      const loaded = await this.load(rec);
      await this.predict([rec]);
      const t = loaded.prepared.transform;
      return {
        image: this.summary(rec), width: t.originalWidth, height: t.originalHeight, crop: t.crop,
        predictions: this.prediction(rec.id)!,
        explanations: this.explanationsOf(rec.id).map((e): ExplanationSummaryT => {
          const run = this.store.runs.get(e.runId);
          return {
            id: String(e.id), imageId: String(e.imageId), modelId: String(e.modelId), method: e.method,
            target: { classIndex: e.targetClass, score: e.scoreKind }, targetLabel: this.label(e.targetClass),
            millis: e.millis, evaluations: e.evaluations, seed: run?.seed ?? 0, settings: run?.settings ?? {},
          };
        }),
      };
    },

    'image.open': async ({ path: p }) => {
      let real: string;
      try { real = await realpath(path.resolve(p)); } catch { throw new SaliencyError(`${p}: file not found`, 'NOT_FOUND'); }
      const lib = this.store.libraries.list().find((l) => real.startsWith(l.root + path.sep));
      if (!lib) throw new SaliencyError(`${p}: the path is outside every registered library; open its folder as a library first`, 'PATH_OUTSIDE_LIBRARY');
      const rel = path.relative(lib.root, real).split(path.sep).join('/');
      const rec = this.store.images.allOf(lib.id).find((r) => r.relPath === rel);
      if (!rec) throw new SaliencyError(`${p}: not an image of library "${lib.name}" (open the library again to rescan it)`, 'NOT_FOUND');
      return this.summary(rec);
    },

    'map.get': async ({ explanationId, maxSide }) => {
      const e = this.storedExplanation(explanationId);
      return this.encodeMap(e.map, this.transformOf(e.imageId, e.modelId), maxSide);
    },

    'jobs.start': async ({ libraryId, imageIds, methods, target, seed, ensembles }) => {
      const m = this.requireModel();
      const allowed = this.modelSummary(m).methods;
      for (const name of methods) {
        getExplainer(name); // unknown names: a clear error listing the known ones
        if (!allowed.includes(name)) throw new SaliencyError(`method "${name}" cannot run on ${m.classifier.info.name}: it needs a linear head the model does not have`, 'BAD_REQUEST');
      }
      if (target && target.classIndex >= m.classifier.info.numClasses) {
        throw new SaliencyError(`target class ${target.classIndex} is out of range: the model has ${m.classifier.info.numClasses} classes`, 'BAD_REQUEST');
      }
      const recs = libraryId
        ? this.store.images.allOf(asId('library', libraryId)).filter((r) => !r.error && !r.missing)
        : imageIds!.map((id) => this.image(id));
      // A library job skips maps that already exist (same method and target); a job on chosen images re-runs them.
      const exists = (rec: ImageRecord, method: string) => Boolean(libraryId) && this.explanationsOf(rec.id)
        .some((e) => e.method === method && (target ? e.targetClass === target.classIndex && e.scoreKind === target.score : e.targetClass === this.prediction(rec.id)?.[0]?.classIndex));
      const what = libraryId ? `library ${this.libraryInfo(Number(libraryId)).name}` : recs.length === 1 ? recs[0].relPath : `${recs.length} images`;
      if (libraryId && !target) {
        // A library batch: the engine's job runner (worker threads; resumable after a crash or a kill).
        const todo = recs.filter((rec) => methods.some((method) => !exists(rec, method)) || ensembles.some((c) => !exists(rec, `ensemble:${c}`)));
        if (!todo.length) return this.jobs.add(`${methods.join(', ')} on ${what} (nothing new to do)`, []);
        await this.predict(todo).catch(() => undefined); // the runner explains each image's top-1 class
        const rec = await createExplainJob(this.store, { libraryId: Number(libraryId), modelPath: m.classifier.info.path!, methods, seed, imageIds: todo.map((r) => r.id), ensembles });
        return this.jobs.addRunner(`${[...methods, ...ensembles.map((c) => `ensemble:${c}`)].join(', ')} on ${what}`, rec.counts.total, this.batchRunner(rec.id), { id: `batch-${rec.id}` });
      }
      const items: JobItem[] = recs.flatMap((rec) => methods.filter((method) => !exists(rec, method)).map((method) => ({
        label: `${rec.relPath} · ${method}`,
        run: (signal: AbortSignal) => this.explain(rec, method, target, seed, signal),
      })));
      return this.jobs.add(`${methods.join(', ')} on ${what}`, items);
    },
    'jobs.list': async () => this.jobs.list(),
    'jobs.pause': async ({ jobId }) => this.jobs.pause(jobId),
    'jobs.resume': async ({ jobId }) => this.jobs.resume(jobId),
    'jobs.cancel': async ({ jobId }) => this.jobs.cancel(jobId),

    'ratings.queue': async ({ libraryId, rater, mode, blind, seed, limit }) => {
      const random = new Random(seed);
      const rng = () => random.next();
      const items: Res<'ratings.queue'>['items'] = [];
      const likertDone = new Set(this.store.ratings.list({ rater }).map((r) => r.explanationId));
      const pairDone = new Set(this.store.ratings.choices({ rater }).flatMap((c) => [`${c.explanationA}:${c.explanationB}`, `${c.explanationB}:${c.explanationA}`]));
      for (const img of this.store.images.allOf(asId('library', libraryId))) {
        const expl = this.explanationsOf(img.id);
        if (mode === 'likert') {
          for (const e of expl) items.push({ imageId: String(img.id), explanationIds: [String(e.id)], labels: [blind ? 'Map' : e.method], done: likertDone.has(e.id) });
        } else {
          for (let i = 0; i < expl.length; i++) for (let j = i + 1; j < expl.length; j++) {
            let [a, b] = [expl[i], expl[j]];
            if (a.method === b.method) continue;
            if (blind && rng() < 0.5) [a, b] = [b, a];
            items.push({ imageId: String(img.id), explanationIds: [String(a.id), String(b.id)], labels: blind ? ['Map A', 'Map B'] : [a.method, b.method], done: pairDone.has(`${a.id}:${b.id}`) });
          }
        }
      }
      if (blind) shuffle(items, rng);
      const sliced = items.slice(0, limit);
      return { items: sliced, done: sliced.filter((i) => i.done).length, total: sliced.length };
    },

    'ratings.likert': async ({ explanationId, rater, score, blind }) => {
      const e = this.storedExplanation(explanationId);
      this.store.ratings.rate({ rater, explanationId: e.id, likert: score, comment: blind ? 'blind' : undefined });
      this.changed(e.imageId);
      return { ok: true as const };
    },

    'ratings.pairwise': async ({ a, b, winner, rater }) => {
      const ea = this.storedExplanation(a);
      const eb = this.storedExplanation(b);
      if (ea.imageId !== eb.imageId) throw new SaliencyError('a and b must be maps of the same image', 'BAD_REQUEST');
      this.store.ratings.choose({ rater, explanationA: ea.id, explanationB: eb.id, winner });
      this.changed(ea.imageId);
      return { ok: true as const };
    },

    'ratings.summary': async ({ libraryId }) => {
      const { likert, pairwise } = this.ratingRows(libraryId);
      const bt = pairwise.length ? fitBradleyTerry(pairwise) : null;
      const methods = [...new Set([...likert.map((r) => r.method), ...pairwise.flatMap((r) => [r.a, r.b])])].sort();
      return methods.map((method) => {
        const scores = likert.filter((r) => r.method === method).map((r) => r.score);
        const mine = pairwise.filter((r) => r.a === method || r.b === method);
        const k = bt ? bt.methods.indexOf(method) : -1;
        return {
          method,
          likertMean: scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null,
          likertCount: scores.length,
          pairwiseWins: mine.filter((r) => r.winner === method).length,
          pairwiseCount: mine.length,
          bradleyTerry: bt && k >= 0 ? bt.strengths[k] : null,
        };
      });
    },

    'annotations.get': async ({ imageId }) => {
      const rec = this.image(imageId);
      const out: Res<'annotations.get'> = { imageId, boxes: [], mask: null, caption: '', concepts: [], author: '' };
      const W = rec.width ?? 1;
      const H = rec.height ?? 1;
      for (const a of this.store.annotations.list(rec.id)) {
        out.author = a.author;
        if (a.kind === 'box') {
          // Stored in original-image pixels (what metrics and reports use); the UI works in fractions.
          for (const b of a.data as { x: number; y: number; width: number; height: number; label?: string }[]) {
            out.boxes.push({ x: b.x / W, y: b.y / H, w: b.width / W, h: b.height / H, label: b.label ?? '' });
          }
        } else if (a.kind === 'mask' && a.blob) {
          const { width, height } = a.data as { width: number; height: number };
          out.mask = { width, height, runs: encodeRuns(a.blob) };
        } else if (a.kind === 'caption') out.caption = (a.data as { text: string }).text;
        else if (a.kind === 'concepts') out.concepts = (a.data as { words: string[] }).words;
      }
      return out;
    },
    'annotations.save': async (a) => {
      const rec = this.image(a.imageId);
      const W = rec.width ?? 1;
      const H = rec.height ?? 1;
      this.store.transaction(() => {
        for (const old of this.store.annotations.list(rec.id)) this.store.annotations.remove(old.id);
        const author = a.author;
        if (a.boxes.length) {
          this.store.annotations.add({ imageId: rec.id, kind: 'box', author, data: a.boxes.map((b) => ({ x: b.x * W, y: b.y * H, width: b.w * W, height: b.h * H, label: b.label })) });
        }
        if (a.mask) {
          this.store.annotations.add({ imageId: rec.id, kind: 'mask', author, data: { width: a.mask.width, height: a.mask.height }, blob: decodeRuns(a.mask.runs, a.mask.width * a.mask.height) });
        }
        if (a.caption.trim()) this.store.annotations.add({ imageId: rec.id, kind: 'caption', author, data: { text: a.caption } });
        if (a.concepts.length) this.store.annotations.add({ imageId: rec.id, kind: 'concepts', author, data: { words: a.concepts } });
      });
      return { ok: true as const };
    },

    'ensemble.derive': async ({ source, manual, libraryId }) => {
      let set: WeightSet;
      if (source === 'manual') {
        if (!manual || !Object.keys(manual).length) throw new SaliencyError('manual weights need a "manual" object of method -> weight', 'BAD_REQUEST');
        set = manualWeights(manual);
      } else if (source === 'metrics') {
        // Faithfulness per method: deletion and insertion AUC over up to 8 maps per method.
        const m = this.requireModel();
        const perMethod = new Map<string, number[]>();
        for (const [id, { method }] of this.methodsById(libraryId)) {
          const ids = perMethod.get(method) ?? [];
          if (ids.length < 8) ids.push(id);
          perMethod.set(method, ids);
        }
        if (!perMethod.size) throw new SaliencyError('no explanations yet: run a job first', 'NOT_FOUND');
        const rows = [];
        for (const [method, ids] of perMethod) {
          for (const id of ids) {
            const e = this.store.explanations.get(id)!;
            const c = await deletionInsertion(m.classifier, (await this.load(this.image(e.imageId))).prepared, e.map, { classIndex: e.targetClass, score: e.scoreKind }, 16);
            rows.push({ method, value: c.deletionAuc, higherIsBetter: false, metric: 'deletion' }, { method, value: c.insertionAuc, higherIsBetter: true, metric: 'insertion' });
          }
        }
        set = weightsFromMetrics(rows);
      } else {
        const { likert, pairwise } = this.ratingRows(libraryId);
        if (source === 'likert') {
          if (!likert.length) throw new SaliencyError('no Likert ratings yet: rate some maps first', 'NOT_FOUND');
          set = weightsFromLikert(likert);
        } else {
          if (!pairwise.length) throw new SaliencyError('no pairwise choices yet: compare some maps first', 'NOT_FOUND');
          set = weightsFromPairwise(pairwise);
        }
      }
      const p = set.provenance as { kind?: string; ratings?: number; comparisons?: number };
      const note = source === 'likert' ? `mean Likert score above 1, from ${p.ratings} ratings`
        : source === 'bradley-terry' ? `Bradley-Terry strengths from ${p.comparisons} choices`
        : source === 'metrics' ? 'deletion and insertion AUC per method (up to 8 maps each)' : 'set by hand';
      return { weights: set.weights, note };
    },

    'ensemble.preview': async ({ imageId, weights, maxSide }) => {
      const rec = this.image(imageId);
      const { map, used, modelId } = this.ensembleOf(rec.id, weights);
      return { ...this.encodeMap(map, this.transformOf(rec.id, modelId), maxSide), used };
    },

    'ensemble.save': async ({ name, weights, source }) => {
      const id = this.store.weightSets.save({
        name, source: source === 'likert' || source === 'bradley-terry' ? 'ratings' : source, weights: normaliseWeights(weights),
        provenance: { from: source, savedBy: 'app', createdAt: new Date().toISOString() },
      });
      return { id: String(id), name };
    },
    'ensemble.list': async () => this.store.weightSets.list().map((w) => ({ id: String(w.id), name: w.name, source: w.source, weights: w.weights })),

    'metrics.curves': async ({ explanationIds, steps }) => {
      const m = this.requireModel();
      const out: Res<'metrics.curves'> = [];
      for (const id of explanationIds) {
        const e = this.storedExplanation(id);
        const loaded = await this.load(this.image(e.imageId));
        const c = await deletionInsertion(m.classifier, loaded.prepared, e.map, { classIndex: e.targetClass, score: e.scoreKind }, steps);
        this.store.transaction(() => {
          this.store.metrics.save({ explanationId: e.id, name: 'deletion', value: c.deletionAuc, curve: c.deletion, settings: { steps } });
          this.store.metrics.save({ explanationId: e.id, name: 'insertion', value: c.insertionAuc, curve: c.insertion, settings: { steps } });
        });
        out.push({ explanationId: id, method: e.method, ...c });
      }
      this.changed();
      return out;
    },

    'metrics.list': async ({ explanationIds }) => explanationIds.flatMap((id) => {
      const e = this.store.explanations.get(asId('explanation', id));
      if (!e) throw new SaliencyError(`no explanation with id "${id}"`, 'NOT_FOUND');
      return this.store.metrics.list({ explanationId: e.id }).map((m) => ({
        explanationId: id, method: e.method, metric: m.name, value: m.value, randomControl: m.randomValue, seed: m.seed,
      }));
    }),

    'concepts.image': async ({ imageId, groups }) => {
      const m = this.requireModel();
      const rec = this.image(imageId);
      await this.predict([rec]);
      const stored = this.store.libraries.get(rec.libraryId)?.conceptGroups as ClassGroups | null | undefined;
      return this.concepts.image(rec, m.dbId, m.classifier.labels, groups ?? stored ?? undefined);
    },

    'reports.export': async ({ libraryId, format }) => {
      const m = this.requireModel();
      const lib = this.libraryInfo(asId('library', libraryId));
      const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
      const result = await makeReport(this.store, { libraryId: Number(lib.id), modelId: m.dbId, title: `${lib.name}: ${m.classifier.info.name}` },
        { outDir: path.join(this.options.dataDir, 'reports'), formats: [format], name: `${lib.name}-${stamp}`, labels: m.classifier.labels });
      const file = result.files[format]!;
      const record = this.store.reports.list().reverse().find((r) => r.path === path.resolve(file));
      return { path: file, bytes: (await stat(file)).size, reportId: String(record?.id ?? '') };
    },
  };
}

type StoredExplanationSummary = ReturnType<Store['explanations']['list']>[number];


function shuffle<T>(a: T[], rng: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
}
