// The model runtime: one ONNX Runtime session per model, reused; batched inference; the analysed head.
import { readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelOutputs, PlanarImage, PresetName, ResizePolicy, TensorData } from '../types.ts';
import { SaliencyError } from '../types.ts';
import { softmaxRow } from '../util/math.ts';
import {
  DataType, GraphIndex, addGraphOutput, decodeModel, encodeModel, metadata, setInt64Values, tensorValues,
  attrInt, type OnnxModel,
} from './onnx-graph.ts';
import { readInput, readOutput, type InputContract } from './io-analysis.ts';
import { analyseHead, findLogits, type HeadAnalysis } from './head-analysis.ts';
import { PRESETS, presetByName, toModelTensor, type Preset } from './presets.ts';
import { labelsFor, type ClassLabel } from './labels.ts';
import { halfToFloat, toHalfArray } from './half.ts';

export type Provider = 'cpu' | 'cuda' | 'dml' | 'coreml';
export const PROVIDERS: Provider[] = ['cpu', 'cuda', 'dml', 'coreml'];

export interface ClassifierOptions {
  preset?: PresetName | 'auto';
  resize?: ResizePolicy | 'auto';
  /** Images per ONNX Runtime call (default 8; 1 where the graph's batch cannot be made dynamic). */
  batchSize?: number;
  threads?: number;
  provider?: Provider;
  labelsFile?: string;
  /** Display name used in messages instead of the file path. */
  name?: string;
}

export interface ModelInfo {
  name: string;
  path: string | null;
  sha256: string;
  bytes: number;
  producer: string;
  input: InputContract;
  outputName: string;
  outputKind: 'logits' | 'probabilities';
  logitsTensor: string;
  numClasses: number;
  preset: Preset;
  presetReason: string;
  resize: ResizePolicy;
  batch: { size: number; dynamic: boolean; note: string };
  provider: Provider;
  providerNote: string;
  /** Description of the feature block and linear head, or why there is none. */
  head: { found: true; description: string; featureTensor: string; channels: number } | { found: false; reason: string };
  notes: string[];
}

export interface PredictOptions {
  /** Also return the last feature block (needed by CAM methods). */
  features?: boolean;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function choosePreset(model: OnnxModel, input: InputContract): { preset: PresetName; reason: string } {
  const declared = metadata(model, 'saliency.preset');
  if (declared && declared in PRESETS) return { preset: declared as PresetName, reason: 'declared in the model metadata' };
  if (input.channels === 1) return { preset: 'unit', reason: 'single-channel input' };
  if ((model.producer_name ?? '').toLowerCase().includes('caffe')) {
    return { preset: 'caffe', reason: `the model was produced by ${model.producer_name}` };
  }
  if (input.layout === 'NHWC') return { preset: 'inception', reason: 'channels-last input, as Keras models use' };
  return { preset: 'torchvision', reason: 'channels-first input, as torchvision and most ONNX zoo models use' };
}

/** Rewrites a batch-1 graph to a dynamic batch (the caller checks the result by running it). */
export function makeBatchDynamic(model: OnnxModel, g: GraphIndex, inputName: string): void {
  const fixed = (vi: { type?: { tensor_type?: { shape?: { dim?: { dim_value?: unknown; dim_param?: string }[] } } } }) => {
    const d0 = vi.type?.tensor_type?.shape?.dim?.[0];
    if (d0) { delete d0.dim_value; d0.dim_param = 'batch'; }
  };
  for (const v of model.graph.input ?? []) if (v.name === inputName) fixed(v);
  for (const v of model.graph.output ?? []) fixed(v);
  model.graph.value_info = [];
  // Reshapes to a constant shape that starts with the batch size 1: 0 copies the input's batch instead.
  for (const n of model.graph.node) {
    if (n.op_type !== 'Reshape' || attrInt(n, 'allowzero', 0) === 1 || !n.input[1]) continue;
    const t = g.constant(n.input[1]);
    if (!t) continue;
    const values = Array.from(tensorValues(t));
    const shared = (g.consumers.get(n.input[1]) ?? []).every((c) => c.op_type === 'Reshape');
    if (values[0] === 1 && values.length > 1 && shared) setInt64Values(t, [0, ...values.slice(1)]);
  }
}

async function createSession(bytes: Uint8Array, provider: Provider, threads: number, quiet = false): Promise<{ session: ort.InferenceSession; provider: Provider; note: string }> {
  // A trial session (the dynamic-batch rewrite) fails by design on some graphs: keep ONNX Runtime's log quiet.
  const options = (ep: Provider): ort.InferenceSession.SessionOptions => ({
    executionProviders: [ep], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all',
    logSeverityLevel: quiet ? 4 : 2,
  });
  if (provider !== 'cpu') {
    try {
      // A missing provider library is reported in the note below, not on the console.
      const session = await ort.InferenceSession.create(bytes, { ...options(provider), logSeverityLevel: 4 });
      return { session, provider, note: `running on ${provider}` };
    } catch (e) {
      const session = await ort.InferenceSession.create(bytes, options('cpu'));
      return { session, provider: 'cpu', note: `execution provider "${provider}" is not available here (${firstLine(e)}); fell back to cpu` };
    }
  }
  return { session: await ort.InferenceSession.create(bytes, options('cpu')), provider: 'cpu', note: 'running on cpu' };
}

/** Most ONNX Runtime threads per session: more than a few per core only adds contention (1000 never finished). */
export const maxThreads = () => Math.min(64, 4 * availableParallelism());
export const MAX_BATCH = 1024;
/** Largest input batch tensor (float32) a batch may make. */
const MAX_BATCH_BYTES = 1 << 30;

/** Threads and batch size, validated (0 threads = ONNX Runtime's default: one per core). */
function checkResources(opts: ClassifierOptions, input: InputContract): { threads: number; batchSize: number } {
  const threads = opts.threads ?? 0;
  if (!Number.isInteger(threads) || threads < 0 || threads > maxThreads()) {
    throw new SaliencyError(`threads must be a whole number from 1 to ${maxThreads()} on this machine (${availableParallelism()} cores), not ${threads}`, 'BAD_SETTING');
  }
  const perImage = input.channels * input.width * input.height * 4;
  const maxBatch = Math.max(1, Math.min(MAX_BATCH, Math.floor(MAX_BATCH_BYTES / perImage)));
  const batchSize = opts.batchSize ?? Math.min(8, maxBatch);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > maxBatch) {
    throw new SaliencyError(`batch size must be a whole number from 1 to ${maxBatch} for this model's ${input.width}x${input.height} input, not ${batchSize}`, 'BAD_SETTING');
  }
  return { threads, batchSize };
}

const firstLine = (e: unknown) => String((e as Error)?.message ?? e).split('\n')[0].slice(0, 200);

export class Classifier {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly info: ModelInfo,
    readonly labels: ClassLabel[],
    readonly head: HeadAnalysis | null,
    private session: ort.InferenceSession,
    /** Outputs to read: the model output, exposed logits, the feature block. */
    private readonly fetches: string[],
  ) {}

  static async load(source: string | { bytes: Uint8Array; name: string }, opts: ClassifierOptions = {}): Promise<Classifier> {
    let bytes: Uint8Array;
    let file: string | null = null;
    if (typeof source === 'string') {
      file = path.resolve(source);
      let size: number;
      try {
        const s = statSync(file);
        if (s.isDirectory()) throw new SaliencyError(`model ${source}: is a folder, not an .onnx file`, 'BAD_MODEL');
        size = s.size;
      } catch (e) {
        if (e instanceof SaliencyError) throw e;
        throw new SaliencyError(`model ${source}: file not found`, 'NOT_FOUND');
      }
      if (size === 0) throw new SaliencyError(`model ${source}: the file is empty`, 'BAD_MODEL');
      try {
        bytes = readFileSync(file);
      } catch (e) {
        throw new SaliencyError(`model ${source}: cannot be read (${(e as Error).message.split('\n')[0]})`, 'BAD_MODEL');
      }
    } else {
      bytes = source.bytes;
    }
    const label = opts.name ?? (typeof source === 'string' ? source : source.name);
    const model = decodeModel(bytes, `model ${label}`);
    const g = new GraphIndex(model.graph);
    const input = readInput(g, `model ${label}`);
    const output = readOutput(g, `model ${label}`);
    const notes: string[] = [];
    const logits = findLogits(g, output.name);
    notes.push(logits.note);

    let head: HeadAnalysis | null = null;
    let headInfo: ModelInfo['head'];
    try {
      head = analyseHead(g, logits.logits, output.numClasses, input.layout);
      headInfo = { found: true, description: head.description, featureTensor: head.feature.tensor, channels: head.feature.channels };
    } catch (e) {
      if (!(e instanceof SaliencyError)) throw e;
      headInfo = { found: false, reason: e.message };
    }

    const presetChoice = opts.preset && opts.preset !== 'auto'
      ? { preset: presetByName(opts.preset).name, reason: 'chosen by the user' }
      : choosePreset(model, input);
    const declaredResize = metadata(model, 'saliency.resize') as ResizePolicy | undefined;
    const resize: ResizePolicy = opts.resize && opts.resize !== 'auto' ? opts.resize : declaredResize ?? 'crop';

    // Expose logits (under a Softmax) and the feature block as extra outputs.
    const fetches = [output.name];
    if (logits.logits !== output.name) { addGraphOutput(model, logits.logits, output.elemType); fetches.push(logits.logits); }
    if (head) {
      // Float feature blocks have the model's float type (float16 models compute in half precision).
      const elemType = head.feature.elemType === DataType.FLOAT ? input.elemType : head.feature.elemType;
      addGraphOutput(model, head.feature.tensor, elemType);
      fetches.push(head.feature.tensor);
    }

    const { threads, batchSize: wantBatch } = checkResources(opts, input);
    let batch = { size: wantBatch, dynamic: input.fixedBatch === null, note: 'dynamic batch dimension' };
    let sessionBytes: Uint8Array;
    let created: Awaited<ReturnType<typeof createSession>>;
    const originalBytes = encodeModel(model);
    if (input.fixedBatch !== null && wantBatch > 1) {
      makeBatchDynamic(model, g, input.name);
      sessionBytes = encodeModel(model);
      try {
        created = await createSession(sessionBytes, opts.provider ?? 'cpu', threads, true);
        await verifyBatching(created.session, input, fetches[0]);
        batch = { size: wantBatch, dynamic: true, note: `batch dimension was fixed at ${input.fixedBatch}; made dynamic (checked: batched and single outputs agree)` };
      } catch (e) {
        created = await createSession(originalBytes, opts.provider ?? 'cpu', threads);
        batch = { size: input.fixedBatch, dynamic: false, note: `batch dimension is fixed at ${input.fixedBatch} and could not be made dynamic (${firstLine(e)}); running one batch of ${input.fixedBatch} at a time` };
      }
    } else {
      created = await createSession(originalBytes, opts.provider ?? 'cpu', threads);
      if (input.fixedBatch !== null) batch = { size: input.fixedBatch, dynamic: false, note: `batch dimension fixed at ${input.fixedBatch}` };
    }

    const embedded = metadata(model, 'saliency.labels');
    const info: ModelInfo = {
      name: label, path: file, sha256: sha256(bytes), bytes: bytes.length, producer: model.producer_name ?? '',
      input, outputName: output.name, outputKind: logits.probabilities ? 'probabilities' : 'logits',
      logitsTensor: logits.logits, numClasses: output.numClasses,
      preset: presetByName(presetChoice.preset), presetReason: presetChoice.reason, resize,
      batch, provider: created.provider, providerNote: created.note, head: headInfo, notes,
    };
    const labels = labelsFor(output.numClasses, { labelsFile: opts.labelsFile, embedded: embedded ? JSON.parse(embedded) as string[] : undefined });
    return new Classifier(info, labels, head, created.session, fetches);
  }

  /** Runs the model on images already at its input size (planar RGB 0..255). */
  predict(images: PlanarImage[], opts: PredictOptions = {}): Promise<ModelOutputs> {
    const run = this.queue.then(() => this.predictNow(images, opts));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async predictNow(images: PlanarImage[], opts: PredictOptions): Promise<ModelOutputs> {
    const { input, numClasses } = this.info;
    for (const img of images) {
      if (img.width !== input.width || img.height !== input.height) {
        throw new SaliencyError(`image is ${img.width}x${img.height}, the model expects ${input.width}x${input.height}`);
      }
    }
    if (opts.features && !this.head) {
      throw new SaliencyError(`model ${this.info.name}: ${this.info.head.found ? '' : this.info.head.reason}`, 'NO_CAM_HEAD');
    }
    const n = images.length;
    const logits = new Float32Array(n * numClasses);
    const probabilities = new Float32Array(n * numClasses);
    let features: TensorData | undefined;
    const step = this.info.batch.size;
    for (let start = 0; start < n; start += step) {
      const chunk = images.slice(start, start + step);
      const real = chunk.length;
      if (!this.info.batch.dynamic) while (chunk.length < step) chunk.push(chunk[0]);
      const out = await this.runBatch(chunk, opts.features === true);
      logits.set(out.logits.subarray(0, real * numClasses), start * numClasses);
      probabilities.set(out.probabilities.subarray(0, real * numClasses), start * numClasses);
      if (out.features) {
        const per = out.features.data.length / chunk.length;
        features ??= { data: new Float32Array(n * per), dims: [n, ...out.features.dims.slice(1)] };
        features.data.set(out.features.data.subarray(0, real * per), start * per);
      }
    }
    return { n, numClasses, logits, probabilities, features };
  }

  private async runBatch(images: PlanarImage[], withFeatures: boolean) {
    const { input, numClasses } = this.info;
    const n = images.length;
    const data = toModelTensor(images, this.info.preset, input.layout, input.channels);
    const dims = input.layout === 'NCHW' ? [n, input.channels, input.height, input.width] : [n, input.height, input.width, input.channels];
    const tensor = input.elemType === DataType.FLOAT16 ? new ort.Tensor('float16', toHalfArray(data), dims) : new ort.Tensor('float32', data, dims);
    const fetches = withFeatures ? this.fetches : this.fetches.filter((f) => f !== this.head?.feature.tensor);
    const result = await this.session.run({ [input.name]: tensor }, fetches);
    const read = (name: string) => toFloat32(result[name]);
    let logits: Float32Array;
    const probabilities = new Float32Array(n * numClasses);
    if (this.info.outputKind === 'probabilities') {
      probabilities.set(read(this.info.outputName));
      logits = read(this.info.logitsTensor);
    } else {
      logits = read(this.info.outputName);
      for (let i = 0; i < n; i++) softmaxRow(logits, i * numClasses, numClasses, probabilities);
    }
    let features: TensorData | undefined;
    if (withFeatures && this.head) {
      const t = result[this.head.feature.tensor];
      let f = toFloat32(t);
      const dq = this.head.feature.dequantize;
      if (dq) f = f.map((v) => (v - dq.zeroPoint) * dq.scale);
      let fd = t.dims.map(Number);
      if (this.head.feature.layout === 'NHWC') ({ data: f, dims: fd } = nhwcToNchw(f, fd));
      features = { data: f, dims: fd };
    }
    for (const t of Object.values(result)) t.dispose?.();
    return { logits, probabilities, features };
  }

  /** Logits rebuilt from the pooled feature block with the analysed head (checks the head is right). */
  headLogits(features: TensorData, index: number): Float32Array {
    if (!this.head) throw new SaliencyError('no linear head', 'NO_CAM_HEAD');
    const [, C, h, w] = features.dims;
    const { weights, bias, numClasses } = this.head.head;
    const plane = h * w;
    const gap = new Float64Array(C);
    const base = index * C * plane;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let p = 0; p < plane; p++) s += features.data[base + c * plane + p];
      gap[c] = s / plane;
    }
    const out = new Float32Array(numClasses);
    for (let k = 0; k < numClasses; k++) {
      let s = bias[k];
      for (let c = 0; c < C; c++) s += weights[k * C + c] * gap[c];
      out[k] = s;
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

function toFloat32(t: ort.Tensor): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') return Float32Array.from(t.data as Uint16Array, halfToFloat);
  return Float32Array.from(t.data as ArrayLike<number>, Number);
}

function nhwcToNchw(data: Float32Array, dims: number[]): TensorData {
  const [n, h, w, c] = dims;
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) {
    out[((b * c + k) * h + y) * w + x] = data[((b * h + y) * w + x) * c + k];
  }
  return { data: out, dims: [n, c, h, w] };
}

/** Runs two different inputs as one batch and one at a time; the outputs must agree. */
async function verifyBatching(session: ort.InferenceSession, input: InputContract, output: string): Promise<void> {
  const per = input.channels * input.width * input.height;
  const dims = (n: number) => (input.layout === 'NCHW' ? [n, input.channels, input.height, input.width] : [n, input.height, input.width, input.channels]);
  const data = new Float32Array(2 * per);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.001 + (i >= per ? 1 : 0)) * 1.5;
  const mk = (d: Float32Array, n: number) => (input.elemType === DataType.FLOAT16 ? new ort.Tensor('float16', toHalfArray(d), dims(n)) : new ort.Tensor('float32', d, dims(n)));
  const both = toFloat32((await session.run({ [input.name]: mk(data, 2) }, [output]))[output]);
  const k = both.length / 2;
  for (let i = 0; i < 2; i++) {
    const one = toFloat32((await session.run({ [input.name]: mk(data.slice(i * per, (i + 1) * per), 1) }, [output]))[output]);
    let scale = 0;
    let diff = 0;
    for (let j = 0; j < k; j++) { scale = Math.max(scale, Math.abs(one[j])); diff = Math.max(diff, Math.abs(one[j] - both[i * k + j])); }
    if (!(diff <= 1e-3 * scale + 1e-5)) throw new Error(`batched output differs from single output by ${diff.toExponential(2)}`);
  }
}
