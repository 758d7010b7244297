// ApiService: the implementation of every method of contract.ts over the engine. Transports never call the
// engine themselves; they validate with the contract and call `call(method, request)`.
import { createHash } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { API, COLORMAP_NAMES, type ApiEvent, type Annotation, type ExplanationSummaryT, type ImageSummaryT, type Job,
  type Library, type MapDataT, type MethodName, type ParsedReq, type Res } from './contract.ts';
import { JobQueue, type JobItem } from './job-queue.ts';
import { guessClass, readManifest, scanFolder } from './library-scan.ts';
import { bradleyTerry, normaliseWeights } from './weights.ts';
import { SaliencyError, type ImageTransform, type Map2D, type Target } from '../engine/types.ts';
import { Classifier } from '../engine/model/classifier.ts';
import { prepareImageFile, type LoadedImage } from '../engine/image/prepare.ts';
import { mapToOriginal } from '../engine/image/upsample.ts';
import { EXPLAINER_NAMES, getExplainer } from '../engine/explain/registry.ts';
import { topK } from '../engine/util/math.ts';
import { scaleMap } from '../engine/image/colormap.ts';
import { deletionInsertion } from './curves.ts';
import { Random } from '../engine/util/random.ts';

export const APP_VERSION = '0.1.0';

export interface ServiceOptions {
  mode?: 'browser' | 'electron';
  /** Folder for exported reports and other files the app writes. */
  dataDir: string;
  /** Model loaded at start ("builtin:demo" or an .onnx path). */
  model?: string;
}

interface ModelHandle { id: string; spec: string; classifier: Classifier }
interface ImageRec {
  id: string; libraryId: string; path: string; relPath: string; name: string;
  groundTruth: number | null;
  predictions: Res<'image.get'>['predictions'] | null; predictedBy: string | null;
  transform: ImageTransform | null;
  error: string | null;
}
interface ExplRec extends ExplanationSummaryT { map: Map2D; transform: ImageTransform }
interface LibRec extends Library { imageIds: string[] }

const hashId = (prefix: string, s: string, n = 16) => `${prefix}-${createHash('sha1').update(s).digest('hex').slice(0, n)}`;

/** A small LRU of decoded images: explaining one image with several methods decodes it once. */
class ImageCache {
  private readonly map = new Map<string, LoadedImage>();
  constructor(private readonly size: number) {}
  get(key: string) { const v = this.map.get(key); if (v) { this.map.delete(key); this.map.set(key, v); } return v; }
  set(key: string, v: LoadedImage) { this.map.set(key, v); if (this.map.size > this.size) this.map.delete(this.map.keys().next().value!); }
}

export class ApiService {
  readonly jobs: JobQueue;
  private model: ModelHandle | null = null;
  private readonly libraries = new Map<string, LibRec>();
  private readonly images = new Map<string, ImageRec>();
  private readonly explanations = new Map<string, ExplRec>();
  /** imageId -> explanation ids, in creation order. */
  private readonly byImage = new Map<string, string[]>();
  private readonly likert: { explanationId: string; rater: string; score: number; blind: boolean; at: number }[] = [];
  private readonly pairwise: { a: string; b: string; winner: 'a' | 'b' | 'tie'; rater: string; blind: boolean; at: number }[] = [];
  private readonly annotations = new Map<string, Annotation>();
  private readonly ensembles: { id: string; name: string; source: string; weights: Record<string, number> }[] = [];
  private readonly listeners = new Set<(e: ApiEvent) => void>();
  private readonly cache = new ImageCache(16);
  private explCounter = 0;

  constructor(readonly options: ServiceOptions) {
    this.jobs = new JobQueue((job) => this.emit({ type: 'job', job }));
  }

  /** Loads the start-up model. */
  async init(): Promise<void> {
    if (this.options.model) await this.loadModel(this.options.model);
  }

  on(listener: (e: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: ApiEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** Runs one (already validated) method. */
  async call<M extends MethodName>(method: M, req: ParsedReq<M>): Promise<Res<M>> {
    const handler = (this.handlers as Record<string, (r: unknown) => Promise<unknown>>)[method];
    if (!handler) throw new SaliencyError(`API method "${method}" is not implemented`, 'NOT_AVAILABLE');
    return (await handler(req)) as Res<M>;
  }

  // ---- models ----

  private async loadModel(spec: string): Promise<ModelHandle> {
    let file = spec;
    if (spec.startsWith('builtin:')) {
      // The built-in models' module is written by another engineer; import it lazily so the app runs without it.
      const builtinModule = '../engine/model/builtin.ts';
      const mod = await import(builtinModule).catch(() => null) as { resolveModelSpec?: (s: string) => string | Promise<string> } | null;
      if (!mod?.resolveModelSpec) throw new SaliencyError(`built-in models are not available in this build (asked for "${spec}")`, 'NOT_AVAILABLE');
      file = await mod.resolveModelSpec(spec);
    } else if (!file.toLowerCase().endsWith('.onnx')) {
      throw new SaliencyError(`a model is "builtin:<name>" or a path to an .onnx file, not "${spec}"`, 'BAD_REQUEST');
    }
    const classifier = await Classifier.load(file, { name: spec.startsWith('builtin:') ? spec : undefined });
    this.model = { id: hashId('model', classifier.info.sha256, 12), spec, classifier };
    // Ground truth labels depend on the model's classes.
    for (const lib of this.libraries.values()) await this.assignGroundTruth(lib);
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

  private async assignGroundTruth(lib: LibRec): Promise<void> {
    if (!this.model) return;
    const manifest = await readManifest(lib.path);
    for (const id of lib.imageIds) {
      const rec = this.images.get(id)!;
      rec.groundTruth = guessClass(rec.relPath, this.model.classifier.labels, manifest);
    }
  }

  private image(id: string): ImageRec {
    const rec = this.images.get(id);
    if (!rec) throw new SaliencyError(`no image with id "${id}"`, 'NOT_FOUND');
    return rec;
  }

  private library(id: string): LibRec {
    const rec = this.libraries.get(id);
    if (!rec) throw new SaliencyError(`no library with id "${id}"`, 'NOT_FOUND');
    return rec;
  }

  /** The image file behind an id (for the file routes): only registered images can be read. */
  imagePath(id: string): string {
    return this.image(id).path;
  }

  private explanationsOf(imageId: string): ExplRec[] {
    const ids = this.byImage.get(imageId) ?? [];
    const modelId = this.model?.id;
    return ids.map((id) => this.explanations.get(id)!).filter((e) => e.modelId === modelId);
  }

  private summary(rec: ImageRec): ImageSummaryT {
    const top = rec.predictions?.[0] ?? null;
    const methods = [...new Set(this.explanationsOf(rec.id).map((e) => e.method))];
    const explIds = new Set(this.byImage.get(rec.id) ?? []);
    return {
      id: rec.id, libraryId: rec.libraryId, name: rec.name, relPath: rec.relPath,
      predicted: top,
      groundTruth: rec.groundTruth === null ? null : { classIndex: rec.groundTruth, label: this.label(rec.groundTruth) },
      correct: top && rec.groundTruth !== null ? top.classIndex === rec.groundTruth : null,
      methods,
      rated: this.likert.some((r) => explIds.has(r.explanationId)) || this.pairwise.some((r) => explIds.has(r.a)),
      error: rec.error,
    };
  }

  private async load(rec: ImageRec): Promise<LoadedImage> {
    const m = this.requireModel();
    const key = `${m.id}:${rec.id}`;
    let loaded = this.cache.get(key);
    if (!loaded) {
      loaded = await prepareImageFile(rec.path, m.classifier);
      this.cache.set(key, loaded);
      rec.transform = loaded.prepared.transform;
    }
    return loaded;
  }

  private async predict(recs: ImageRec[]): Promise<void> {
    const m = this.requireModel();
    const todo = recs.filter((r) => r.predictedBy !== m.id);
    if (!todo.length) return;
    const loaded: LoadedImage[] = [];
    const ok: ImageRec[] = [];
    for (const r of todo) {
      try { loaded.push(await this.load(r)); ok.push(r); r.error = null; } catch (e) { r.error = (e as Error).message; throw e; }
    }
    const out = await m.classifier.predict(loaded.map((l) => l.prepared.input));
    const K = out.numClasses;
    ok.forEach((r, i) => {
      r.predictions = topK(out.probabilities, 5, i * K, K).map((c) => ({
        classIndex: c, label: this.label(c), probability: out.probabilities[i * K + c], logit: out.logits[i * K + c],
      }));
      r.predictedBy = m.id;
    });
  }

  private predictJob(lib: LibRec): Job | null {
    if (!this.model || !lib.imageIds.length) return null;
    const batch = this.model.classifier.info.batch.size;
    const items: JobItem[] = [];
    for (let i = 0; i < lib.imageIds.length; i += batch) {
      const recs = lib.imageIds.slice(i, i + batch).map((id) => this.images.get(id)!);
      items.push({
        label: recs.length === 1 ? recs[0].relPath : `${recs[0].relPath} (+${recs.length - 1})`,
        run: async () => {
          try {
            await this.predict(recs);
          } catch {
            // One bad file must not spoil its batch: predict the rest one by one, recording the bad one.
            const failed: string[] = [];
            for (const r of recs) await this.predict([r]).catch((e: Error) => failed.push(`${r.relPath}: ${e.message}`));
            if (failed.length) throw new SaliencyError(failed.join('; '), 'BAD_IMAGE');
          }
          for (const r of recs) this.emit({ type: 'image', imageId: r.id });
        },
      });
    }
    return this.jobs.add(`Predict ${lib.imageIds.length} images of ${lib.name}`, items);
  }

  private async explain(rec: ImageRec, method: string, target: Target | undefined, seed: number, signal: AbortSignal): Promise<void> {
    const m = this.requireModel();
    const explainer = getExplainer(method);
    const loaded = await this.load(rec);
    await this.predict([rec]);
    const t = target ?? { classIndex: rec.predictions![0].classIndex, score: 'logit' as const };
    if (t.classIndex >= m.classifier.info.numClasses) {
      throw new SaliencyError(`target class ${t.classIndex} is out of range: the model has ${m.classifier.info.numClasses} classes`, 'BAD_REQUEST');
    }
    const settings = explainer.settings({});
    const e = await explainer.explain(loaded.prepared, t, settings, seed, { model: m.classifier, signal });
    const id = `exp-${Date.now().toString(36)}-${++this.explCounter}`;
    // A re-run of the same method and target replaces the older map.
    const list = (this.byImage.get(rec.id) ?? []).filter((x) => {
      const old = this.explanations.get(x)!;
      return !(old.modelId === m.id && old.method === method && old.target.classIndex === t.classIndex && old.target.score === t.score);
    });
    list.push(id);
    this.byImage.set(rec.id, list);
    this.explanations.set(id, {
      id, imageId: rec.id, modelId: m.id, method, target: t, targetLabel: this.label(t.classIndex), millis: e.millis,
      evaluations: e.evaluations, seed, settings: e.settings, map: e.map, transform: loaded.prepared.transform,
    });
    this.emit({ type: 'image', imageId: rec.id });
  }

  private explanation(id: string): ExplRec {
    const e = this.explanations.get(id);
    if (!e) throw new SaliencyError(`no explanation with id "${id}"`, 'NOT_FOUND');
    return e;
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

  /** Mean of min-max normalised maps weighted per method (the latest map of each method). */
  private ensembleMap(imageId: string, weights: Record<string, number>): { map: Map2D; transform: ImageTransform; used: string[] } {
    const latest = new Map<string, ExplRec>();
    for (const e of this.explanationsOf(imageId)) latest.set(e.method, e);
    const members = [...latest.values()].filter((e) => (weights[e.method] ?? 0) > 0);
    if (!members.length) {
      throw new SaliencyError(`the image has no map of a method with a weight above 0 (it has: ${[...latest.keys()].join(', ') || 'none'})`, 'NOT_FOUND');
    }
    const { width, height } = members[0].map;
    const sum = new Float32Array(width * height);
    let total = 0;
    for (const e of members) {
      const w = weights[e.method];
      const n = scaleMap(e.map.data, 'normalised');
      for (let i = 0; i < sum.length; i++) sum[i] += w * n[i];
      total += w;
    }
    for (let i = 0; i < sum.length; i++) sum[i] /= total;
    return { map: { width, height, data: sum }, transform: members[0].transform, used: members.map((e) => e.method) };
  }

  private ratingsSummary(libraryId?: string): Res<'ratings.summary'> {
    const inLib = (explId: string) => {
      const e = this.explanations.get(explId);
      return e && (!libraryId || this.images.get(e.imageId)?.libraryId === libraryId);
    };
    const methodOf = (id: string) => this.explanations.get(id)!.method;
    const methods = new Set<string>();
    const likert = new Map<string, number[]>();
    for (const r of this.likert.filter((r) => inLib(r.explanationId))) {
      const m = methodOf(r.explanationId);
      methods.add(m);
      likert.set(m, [...(likert.get(m) ?? []), r.score]);
    }
    const comparisons = this.pairwise.filter((r) => inLib(r.a) && inLib(r.b)).map((r) => ({ a: methodOf(r.a), b: methodOf(r.b), winner: r.winner }));
    for (const c of comparisons) { methods.add(c.a); methods.add(c.b); }
    const bt = bradleyTerry(comparisons);
    return [...methods].sort().map((method) => {
      const scores = likert.get(method) ?? [];
      const mine = comparisons.filter((c) => c.a === method || c.b === method);
      return {
        method,
        likertMean: scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null,
        likertCount: scores.length,
        pairwiseWins: mine.filter((c) => (c.winner === 'a' ? c.a : c.winner === 'b' ? c.b : null) === method).length,
        pairwiseCount: mine.length,
        bradleyTerry: bt.get(method) ?? null,
      };
    });
  }

  private readonly handlers: { [M in MethodName]: (req: ParsedReq<M>) => Promise<Res<M>> } = {
    'app.info': async () => ({
      version: APP_VERSION,
      mode: this.options.mode ?? 'browser',
      model: this.model ? this.modelSummary(this.model) : null,
      models: ['builtin:demo', 'builtin:known-evidence'],
      methods: EXPLAINER_NAMES,
      colormaps: [...COLORMAP_NAMES],
      features: { persistence: 'memory', metrics: true, ensembles: true, reports: false },
    }),

    'model.load': async ({ spec }) => this.modelSummary(await this.loadModel(spec)),

    'library.open': async ({ path: p }) => {
      let root: string;
      try {
        root = await realpath(path.resolve(p));
        if (!(await stat(root)).isDirectory()) throw new SaliencyError(`${p}: is a file, not a folder`, 'BAD_REQUEST');
      } catch (e) {
        if (e instanceof SaliencyError) throw e;
        throw new SaliencyError(`${p}: folder not found`, 'NOT_FOUND');
      }
      const id = hashId('lib', root, 12);
      const files = await scanFolder(root);
      const lib: LibRec = this.libraries.get(id) ?? { id, path: root, name: path.basename(root) || root, imageCount: 0, errors: [], imageIds: [] };
      lib.imageIds = files.map((f) => {
        const imgId = hashId('img', f.path);
        if (!this.images.has(imgId)) {
          this.images.set(imgId, { id: imgId, libraryId: id, path: f.path, relPath: f.relPath, name: f.name, groundTruth: null, predictions: null, predictedBy: null, transform: null, error: null });
        }
        return imgId;
      });
      lib.imageCount = lib.imageIds.length;
      this.libraries.set(id, lib);
      await this.assignGroundTruth(lib);
      this.predictJob(lib);
      const { imageIds: _, ...pub } = lib;
      this.emit({ type: 'library', library: pub });
      return pub;
    },

    'library.list': async () => [...this.libraries.values()].map(({ imageIds: _, ...pub }) => pub),

    'images.list': async ({ libraryId, offset, limit, filter }) => {
      const lib = this.library(libraryId);
      const text = filter.text?.toLowerCase();
      const items: ImageSummaryT[] = [];
      let total = 0;
      for (const id of lib.imageIds) {
        const rec = this.images.get(id)!;
        if (text && !rec.relPath.toLowerCase().includes(text)) continue;
        const needSummary = filter.predictedClass !== undefined || filter.correct || filter.method || filter.rated !== undefined;
        const s = needSummary || (total >= offset && items.length < limit) ? this.summary(rec) : null;
        if (s && filter.predictedClass !== undefined && s.predicted?.classIndex !== filter.predictedClass) continue;
        if (s && filter.correct && (filter.correct === 'unknown' ? s.correct !== null : s.correct !== (filter.correct === 'yes'))) continue;
        if (s && filter.method && !s.methods.includes(filter.method)) continue;
        if (s && filter.rated !== undefined && s.rated !== filter.rated) continue;
        if (total >= offset && items.length < limit) items.push(s!);
        total++;
      }
      return { total, offset, items };
    },

    'image.get': async ({ imageId }) => {
      const rec = this.image(imageId);
      await this.predict([rec]);
      const t = rec.transform!;
      return {
        image: this.summary(rec), width: t.originalWidth, height: t.originalHeight, crop: t.crop,
        predictions: rec.predictions!,
        explanations: this.explanationsOf(imageId).map(({ map: _m, transform: _t, ...s }) => s),
      };
    },

    'image.open': async ({ path: p }) => {
      let real: string;
      try { real = await realpath(path.resolve(p)); } catch { throw new SaliencyError(`${p}: file not found`, 'NOT_FOUND'); }
      const lib = [...this.libraries.values()].find((l) => real.startsWith(l.path + path.sep));
      if (!lib) throw new SaliencyError(`${p}: the path is outside every registered library; open its folder as a library first`, 'PATH_OUTSIDE_LIBRARY');
      const rec = this.images.get(hashId('img', real));
      if (!rec) throw new SaliencyError(`${p}: not an image of library "${lib.name}" (rescan the library if it is new)`, 'NOT_FOUND');
      return this.summary(rec);
    },

    'map.get': async ({ explanationId, maxSide }) => {
      const e = this.explanation(explanationId);
      return this.encodeMap(e.map, e.transform, maxSide);
    },

    'jobs.start': async ({ libraryId, imageIds, methods, target, seed }) => {
      const m = this.requireModel();
      const allowed = this.modelSummary(m).methods;
      for (const name of methods) {
        getExplainer(name); // unknown names: a clear error listing the known ones
        if (!allowed.includes(name)) throw new SaliencyError(`method "${name}" cannot run on ${m.classifier.info.name}: it needs a linear head the model does not have`, 'BAD_REQUEST');
      }
      if (target && target.classIndex >= m.classifier.info.numClasses) {
        throw new SaliencyError(`target class ${target.classIndex} is out of range: the model has ${m.classifier.info.numClasses} classes`, 'BAD_REQUEST');
      }
      const ids = libraryId ? this.library(libraryId).imageIds : imageIds!;
      const recs = ids.map((id) => this.image(id));
      const items: JobItem[] = recs.flatMap((rec) => methods.map((method) => ({
        label: `${rec.relPath} · ${method}`,
        run: (signal: AbortSignal) => this.explain(rec, method, target, seed, signal),
      })));
      const what = libraryId ? `library ${this.library(libraryId).name}` : recs.length === 1 ? recs[0].relPath : `${recs.length} images`;
      return this.jobs.add(`${methods.join(', ')} on ${what}`, items);
    },
    'jobs.list': async () => this.jobs.list(),
    'jobs.pause': async ({ jobId }) => this.jobs.pause(jobId),
    'jobs.resume': async ({ jobId }) => this.jobs.resume(jobId),
    'jobs.cancel': async ({ jobId }) => this.jobs.cancel(jobId),

    'ratings.queue': async ({ libraryId, rater, mode, blind, seed, limit }) => {
      const lib = this.library(libraryId);
      const random = new Random(seed);
      const rng = () => random.next();
      const items: Res<'ratings.queue'>['items'] = [];
      for (const imageId of lib.imageIds) {
        const expl = this.explanationsOf(imageId);
        if (mode === 'likert') {
          for (const e of expl) {
            const done = this.likert.some((r) => r.explanationId === e.id && r.rater === rater);
            items.push({ imageId, explanationIds: [e.id], labels: [blind ? 'Map' : e.method], done });
          }
        } else {
          for (let i = 0; i < expl.length; i++) for (let j = i + 1; j < expl.length; j++) {
            let [a, b] = [expl[i], expl[j]];
            if (blind && rng() < 0.5) [a, b] = [b, a];
            const done = this.pairwise.some((r) => r.rater === rater && ((r.a === a.id && r.b === b.id) || (r.a === b.id && r.b === a.id)));
            items.push({ imageId, explanationIds: [a.id, b.id], labels: blind ? ['Map A', 'Map B'] : [a.method, b.method], done });
          }
        }
      }
      if (blind) shuffle(items, rng);
      const sliced = items.slice(0, limit);
      return { items: sliced, done: sliced.filter((i) => i.done).length, total: sliced.length };
    },

    'ratings.likert': async ({ explanationId, rater, score, blind }) => {
      this.explanation(explanationId);
      const i = this.likert.findIndex((r) => r.explanationId === explanationId && r.rater === rater);
      const rec = { explanationId, rater, score, blind, at: Date.now() };
      if (i >= 0) this.likert[i] = rec; else this.likert.push(rec);
      this.emit({ type: 'image', imageId: this.explanation(explanationId).imageId });
      return { ok: true as const };
    },

    'ratings.pairwise': async ({ a, b, winner, rater, blind }) => {
      const ea = this.explanation(a);
      const eb = this.explanation(b);
      if (ea.imageId !== eb.imageId) throw new SaliencyError('a and b must be maps of the same image', 'BAD_REQUEST');
      const i = this.pairwise.findIndex((r) => r.rater === rater && ((r.a === a && r.b === b) || (r.a === b && r.b === a)));
      const rec = { a, b, winner, rater, blind, at: Date.now() };
      if (i >= 0) this.pairwise[i] = rec; else this.pairwise.push(rec);
      this.emit({ type: 'image', imageId: ea.imageId });
      return { ok: true as const };
    },

    'ratings.summary': async ({ libraryId }) => this.ratingsSummary(libraryId),

    'annotations.get': async ({ imageId }) => {
      this.image(imageId);
      return this.annotations.get(imageId) ?? { imageId, boxes: [], mask: null, caption: '', concepts: [], author: '' };
    },
    'annotations.save': async (a) => {
      const rec = this.image(a.imageId);
      this.annotations.set(rec.id, a);
      return { ok: true as const };
    },

    'ensemble.derive': async ({ source, manual, libraryId }) => {
      if (source === 'manual') {
        if (!manual || !Object.keys(manual).length) throw new SaliencyError('manual weights need a "manual" object of method -> weight', 'BAD_REQUEST');
        return { weights: normaliseWeights(manual), note: 'set by hand' };
      }
      if (source === 'metrics') {
        const expl = [...this.explanations.values()].filter((e) => e.modelId === this.model?.id && (!libraryId || this.images.get(e.imageId)?.libraryId === libraryId));
        // Faithfulness per method: mean (insertion AUC - deletion AUC) over up to 8 maps per method.
        const perMethod = new Map<string, ExplRec[]>();
        for (const e of expl) perMethod.set(e.method, [...(perMethod.get(e.method) ?? []), e].slice(0, 8));
        if (!perMethod.size) throw new SaliencyError('no explanations yet: run a job first', 'NOT_FOUND');
        const raw: Record<string, number> = {};
        for (const [method, list] of perMethod) {
          let s = 0;
          for (const e of list) {
            const c = await deletionInsertion(this.requireModel().classifier, (await this.load(this.image(e.imageId))).prepared, e.map, e.target, 16);
            s += c.insertionAuc - c.deletionAuc;
          }
          raw[method] = Math.max(0, s / list.length);
        }
        return { weights: normaliseWeights(raw), note: `mean (insertion AUC - deletion AUC) per method over up to 8 maps each, negatives set to 0` };
      }
      const summary = this.ratingsSummary(libraryId);
      if (source === 'likert') {
        const rated = summary.filter((s) => s.likertMean !== null);
        if (!rated.length) throw new SaliencyError('no Likert ratings yet: rate some maps first', 'NOT_FOUND');
        return { weights: normaliseWeights(Object.fromEntries(rated.map((s) => [s.method, s.likertMean! - 1]))), note: `mean Likert score - 1 from ${rated.reduce((a, s) => a + s.likertCount, 0)} ratings` };
      }
      const compared = summary.filter((s) => s.bradleyTerry !== null);
      if (!compared.length) throw new SaliencyError('no pairwise choices yet: compare some maps first', 'NOT_FOUND');
      return { weights: normaliseWeights(Object.fromEntries(compared.map((s) => [s.method, s.bradleyTerry!]))), note: `Bradley-Terry strengths from ${this.pairwise.length} choices` };
    },

    'ensemble.preview': async ({ imageId, weights, maxSide }) => {
      this.image(imageId);
      const { map, transform, used } = this.ensembleMap(imageId, weights);
      return { ...this.encodeMap(map, transform, maxSide), used };
    },

    'ensemble.save': async ({ name, weights, source }) => {
      const id = hashId('ens', name, 10);
      const i = this.ensembles.findIndex((e) => e.id === id);
      const rec = { id, name, source, weights: normaliseWeights(weights) };
      if (i >= 0) this.ensembles[i] = rec; else this.ensembles.push(rec);
      return { id, name };
    },
    'ensemble.list': async () => this.ensembles.map((e) => ({ ...e })),

    'metrics.curves': async ({ explanationIds, steps }) => {
      const m = this.requireModel();
      const out: Res<'metrics.curves'> = [];
      for (const id of explanationIds) {
        const e = this.explanation(id);
        const loaded = await this.load(this.image(e.imageId));
        out.push({ explanationId: id, method: e.method, ...(await deletionInsertion(m.classifier, loaded.prepared, e.map, e.target, steps)) });
      }
      return out;
    },

    'reports.export': async () => {
      throw new SaliencyError('report export is not available yet: the report generator is still being written', 'NOT_AVAILABLE');
    },
  };
}

function shuffle<T>(a: T[], rng: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
}

