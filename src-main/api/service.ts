// ApiService: the implementation of every method of contract.ts over the engine and the SQLite store.
// Transports never call the engine themselves; they validate with the contract and call `call(method, req)`.
// Ids on the wire are the store's row ids as strings. The handlers live per domain in handlers/<domain>.ts; this
// class keeps construction, the active model, caches, events and the helpers they share (public for them).
import path from 'node:path';
import { API, describeIssues, type ApiEvent, type ImageSummaryT, type Job, type Library, type MapDataT, type MethodName,
  type ParsedReq, type Req, type Res } from './contract.ts';
import { JobQueue, type JobItem, type RunnerControl } from './job-queue.ts';
import { JobRunner, resumableJobs } from '../engine/jobs/runner.ts';
import { guessClass } from './ground-truth-guess.ts';
import { asExplanation } from '../engine/pipeline/ensemble-stored.ts';
import { ConceptCache } from './concepts.ts';
import { APP_VERSION, asId, type HandlerMap, type StoredExplanationSummary } from './context.ts';
import { modelHandlers } from './handlers/models.ts';
import { libraryHandlers } from './handlers/libraries.ts';
import { imageHandlers } from './handlers/images.ts';
import { explanationHandlers } from './handlers/explanations.ts';
import { jobHandlers } from './handlers/jobs.ts';
import { ratingHandlers } from './handlers/ratings.ts';
import { annotationHandlers } from './handlers/annotations.ts';
import { ensembleHandlers } from './handlers/ensembles.ts';
import { metricHandlers } from './handlers/metrics.ts';
import { conceptHandlers } from './handlers/concepts.ts';
import { reportHandlers } from './handlers/reports.ts';
import { studyHandlers } from './handlers/study.ts';
import { planHandlers } from './handlers/plan.ts';
import { methodSettingsHandlers } from './handlers/method-settings.ts';
import { progressReporter } from './explain-progress.ts';
import { SaliencyError, type ImageTransform, type Map2D, type ScoreKind, type Target } from '../engine/types.ts';
import { Classifier, type ModelInfo } from '../engine/model/classifier.ts';
import { isBuiltinSpec, resolveModelSpec } from '../engine/model/builtin.ts';
import type { LoadedImage } from '../engine/image/prepare.ts';
import { ImagePrep } from './image-prep.ts';
import { planTransform } from '../engine/image/load-image.ts';
import { mapToOriginal } from '../engine/image/upsample.ts';
import { EXPLAINER_NAMES, getExplainer } from '../engine/explain/registry.ts';
import { resolveSettings } from '../engine/explain/check-settings.ts';
import { topK } from '../engine/util/math.ts';
import { openStore, type Store } from '../engine/store/store.ts';
import type { ImageListItem, ImageQuery, ImageRecord } from '../engine/store/images-repo.ts';
import type { StoredExplanation } from '../engine/store/results-repo.ts';
import { buildEnsemble } from '../engine/ensemble/index.ts';
import { isEnsemble, referenceScore } from '../engine/protocol.ts';
import { seriesOf } from '../engine/report/series.ts';

export { APP_VERSION } from './context.ts';

export interface ServiceOptions {
  mode?: 'browser' | 'electron';
  /** Folder for the database (studio.db) and files the app writes. */
  dataDir: string;
  /** Database file (default: <dataDir>/studio.db). */
  dbFile?: string;
  /** Model loaded at start ("builtin:demo" or an .onnx path). */
  model?: string;
}

export interface ExplanationIndexEntry {
  method: string; imageId: number; targetClass: number; targetLabel: string; scoreKind: ScoreKind; series: string; seriesLabel: string; isDefault: boolean;
}

export interface ModelHandle { id: string; dbId: number; spec: string; classifier: Classifier }

/** A small LRU of decoded images: explaining one image with several methods decodes it once. */
class ImageCache {
  private readonly map = new Map<string, LoadedImage>();
  constructor(private readonly size: number) {}
  get(key: string) { const v = this.map.get(key); if (v) { this.map.delete(key); this.map.set(key, v); } return v; }
  set(key: string, v: LoadedImage) { this.map.set(key, v); if (this.map.size > this.size) this.map.delete(this.map.keys().next().value!); }
}

export class ApiService {
  readonly jobs: JobQueue;
  readonly store: Store;
  model: ModelHandle | null = null;
  private readonly listeners = new Set<(e: ApiEvent) => void>();
  private readonly cache = new ImageCache(16);
  /** Decoding and resampling in a worker thread: no file stalls the other requests. */
  private readonly prep = new ImagePrep();
  readonly concepts: ConceptCache;
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
  batchRunner(jobId: number): RunnerControl {
    let runner: JobRunner | null = null;
    return {
      run: async (report) => {
        runner = new JobRunner(this.store, jobId, {
          onEvent: (e) => {
            if (e.type === 'progress') {
              report({ done: e.counts.done + e.counts.error, failed: e.counts.error, itemId: e.itemId });
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
    void this.prep.close();
  }

  on(listener: (e: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(e: ApiEvent): void {
    for (const l of this.listeners) l(e);
  }

  changed(imageId?: number): void {
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

  async loadModel(spec: string): Promise<ModelHandle> {
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

  requireModel(): ModelHandle {
    if (!this.model) throw new SaliencyError('no model is loaded: load one first (model.load with "builtin:demo" or an .onnx path)', 'NO_MODEL');
    return this.model;
  }

  modelSummary(m: ModelHandle): Res<'model.load'> {
    const { info, head } = m.classifier;
    return {
      id: m.id, spec: m.spec, name: info.name, inputWidth: info.input.width, inputHeight: info.input.height,
      numClasses: info.numClasses, preset: info.preset.name,
      head: info.head.found ? info.head.description : `no linear head found: ${info.head.reason}`,
      // CAM methods read the linear head; without one only model-agnostic methods can run.
      methods: EXPLAINER_NAMES.filter((n) => head || !n.includes('cam')),
    };
  }

  label(classIndex: number): string {
    return this.model?.classifier.labels[classIndex]?.label ?? `class ${classIndex}`;
  }

  /** What an explanation explains, named: target class and label, score kind, and its series (top-1 or a fixed
   *  class, from the image's stored prediction by the explanation's model). */
  identity(e: { imageId: number; modelId: number; method: string; targetClass: number; scoreKind: ScoreKind }) {
    const top1 = this.store.predictions.get(e.imageId, e.modelId)?.topClass;
    const { series, seriesLabel } = seriesOf(e, top1, (c) => this.label(c));
    return { targetClass: e.targetClass, targetLabel: this.label(e.targetClass), scoreKind: e.scoreKind, series, seriesLabel };
  }

  // ---- libraries and images ----

  image(id: string | number): ImageRecord {
    const rec = this.store.images.get(typeof id === 'number' ? id : asId('image', id));
    if (!rec) throw new SaliencyError(`no image with id "${id}"`, 'NOT_FOUND');
    return rec;
  }

  libraryInfo(id: number): Library {
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

  groundTruth(rec: ImageRecord): number | null {
    if (rec.trueClass !== null) return rec.trueClass;
    return this.model ? guessClass(rec.relPath, this.model.classifier.labels) : null;
  }

  explanationsOf(imageId: number): StoredExplanationSummary[] {
    if (!this.model) return [];
    return this.store.explanations.list({ imageId, modelId: this.model.dbId }) as StoredExplanationSummary[];
  }

  prediction(imageId: number) {
    if (!this.model) return null;
    const p = this.store.predictions.get(imageId, this.model.dbId);
    return p ? p.topK.map((t) => ({ ...t, label: this.label(t.classIndex) })) : null;
  }

  summary(rec: ImageRecord): ImageSummaryT {
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
  listing(q: ImageQuery): ImageListItem[] {
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

  async load(rec: ImageRecord): Promise<LoadedImage> {
    const m = this.requireModel();
    const key = `${m.id}:${rec.id}:${rec.sha256}`; // a changed file (new content hash) is decoded again
    let loaded = this.cache.get(key);
    if (!loaded) {
      loaded = await this.prep.prepare(rec.path, m.classifier, this.store.libraries.get(rec.libraryId)?.root);
      this.cache.set(key, loaded);
    }
    return loaded;
  }

  async predict(recs: ImageRecord[]): Promise<void> {
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

  predictJob(libraryId: number): Job | null {
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

  /** Explains one image; the default target is its top-1 class on the method's reference score (the protocol). */
  async explain(rec: ImageRecord, method: string, target: { classIndex: number; score?: ScoreKind } | undefined, seed: number, signal: AbortSignal, partial: Record<string, unknown> = {}): Promise<void> {
    const m = this.requireModel();
    const explainer = getExplainer(method);
    const loaded = await this.load(rec);
    await this.predict([rec]);
    const t: Target = { classIndex: target?.classIndex ?? this.prediction(rec.id)![0].classIndex, score: target?.score ?? referenceScore(method) };
    const settings = resolveSettings(explainer, partial); // the CLI's check of --set values
    const onProgress = progressReporter(this, rec, method, t);
    onProgress({ fraction: 0 });
    const e = await explainer.explain(loaded.prepared, t, settings, seed, { model: m.classifier, signal, onProgress });
    const run = this.store.runs.ensure({ modelId: m.dbId, method, settings: e.settings, seed, appVersion: APP_VERSION });
    this.store.explanations.save({ imageId: rec.id, runId: run.id, imageSha256: loaded.prepared.id, explanation: e });
    this.changed(rec.id);
  }

  storedExplanation(id: string): StoredExplanation {
    const e = this.store.explanations.get(asId('explanation', id));
    if (!e) throw new SaliencyError(`no explanation with id "${id}"`, 'NOT_FOUND');
    return e;
  }

  /** Where a map made by a model lies on an image (from the stored model info and image size). */
  transformOf(imageId: number, modelId: number): ImageTransform {
    const img = this.image(imageId);
    const info = this.store.models.get(modelId)?.info as unknown as ModelInfo | undefined;
    if (!info || img.width === null || img.height === null) throw new SaliencyError(`image ${img.relPath} or its model is not fully recorded`, 'NOT_FOUND');
    return planTransform(img.width, img.height, info.input.width, info.input.height, info.resize);
  }

  encodeMap(map: Map2D, t: ImageTransform, maxSide: number): MapDataT {
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

  /** The weighted ensemble of an image's maps of its top-1 class, one per method: the method's reference score
   *  when it has that map, else its latest (never two maps of one method). */
  ensembleOf(imageId: number, weights: Record<string, number>): { map: Map2D; used: string[]; modelId: number } {
    const expl = this.explanationsOf(imageId);
    const top = this.prediction(imageId)?.[0]?.classIndex;
    const latest = new Map<string, StoredExplanationSummary>();
    for (const e of expl) {
      if (top !== undefined && e.targetClass !== top) continue;
      const have = latest.get(e.method);
      if (!have || have.scoreKind !== referenceScore(e.method) || e.scoreKind === referenceScore(e.method)) latest.set(e.method, e);
    }
    const members = [...latest.values()].filter((e) => (weights[e.method] ?? 0) > 0);
    if (!members.length) {
      throw new SaliencyError(`the image has no map of a method with a weight above 0 (it has: ${[...latest.keys()].join(', ') || 'none'})`, 'NOT_FOUND');
    }
    const stored = members.map((e) => this.store.explanations.get(e.id)!);
    const ens = buildEnsemble(stored.map(asExplanation), { combiner: 'weighted', weights: Object.fromEntries(members.map((e) => [e.method, weights[e.method]])) });
    return { map: ens.map, used: members.map((e) => e.method), modelId: stored[0].modelId };
  }

  /** Every explanation of the active model in a library (or everywhere), with its series. `isDefault`: the
   *  protocol's default selection (the image's top-1 class on the method's reference score; ensembles: top-1). */
  explanationIndex(libraryId?: string): Map<number, ExplanationIndexEntry> {
    const inLib = libraryId ? new Set(this.store.images.allOf(asId('library', libraryId)).map((r) => r.id)) : null;
    const out = new Map<number, ExplanationIndexEntry>();
    for (const e of this.store.explanations.list({ modelId: this.model?.dbId })) {
      if (inLib && !inLib.has(e.imageId)) continue;
      const id = this.identity(e);
      const top1 = id.series.split('|')[1] === 'top1';
      out.set(e.id, { ...id, method: e.method, imageId: e.imageId, isDefault: top1 && (isEnsemble(e.method) || e.scoreKind === referenceScore(e.method)) });
    }
    return out;
  }

  /** Ratings of a library's maps keyed by series (never merging two targets or score kinds of a method), or, for
   *  ensemble weights ('method'), by method over the default series only. */
  ratingRows(libraryId?: string, by: 'series' | 'method' = 'series') {
    const index = this.explanationIndex(libraryId);
    const keyOf = (id: number) => {
      const x = index.get(id);
      return !x || (by === 'method' && !x.isDefault) ? undefined : by === 'method' ? x.method : x.series;
    };
    const likert = this.store.ratings.list().filter((r) => keyOf(r.explanationId) !== undefined)
      .map((r) => ({ method: keyOf(r.explanationId)!, explanationId: r.explanationId, score: r.likert }));
    const pairwise = this.store.ratings.choices()
      .filter((c) => keyOf(c.explanationA) !== undefined && keyOf(c.explanationB) !== undefined)
      .map((c) => {
        const a = keyOf(c.explanationA)!;
        const b = keyOf(c.explanationB)!;
        return { a, b, winner: c.winner === 'a' ? a : c.winner === 'b' ? b : 'tie', explanationIds: [c.explanationA, c.explanationB] };
      })
      .filter((r) => r.a !== r.b);
    return { likert, pairwise, index };
  }

  private readonly handlers: HandlerMap = {
    ...modelHandlers(this), ...libraryHandlers(this), ...imageHandlers(this), ...explanationHandlers(this),
    ...jobHandlers(this), ...ratingHandlers(this), ...annotationHandlers(this), ...ensembleHandlers(this),
    ...metricHandlers(this), ...conceptHandlers(this), ...reportHandlers(this), ...studyHandlers(this),
    ...planHandlers(this), ...methodSettingsHandlers(this),
  };
}

