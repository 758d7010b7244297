// Compiles a model file's backward graph and runs it with ONNX Runtime: decode -> opset upgrade -> dynamic
// batch -> plan (prune, find the path, refuse quantized ops) -> probe the path's shapes at batch 2 -> emit the
// backward graph -> one session.
import * as ort from 'onnxruntime-node';
import { SaliencyError } from '../../types.ts';
import { GraphIndex, decodeModel, encodeModel, toNum, valueShape, type OnnxModel } from '../onnx-graph.ts';
import { makeBatchDynamic } from '../classifier.ts';
import { Emitter } from './emitter.ts';
import { upgradeOpset } from './upgrade.ts';
import type { BackwardGraphCache, CompiledBackward } from './disk-cache.ts';
import { OUTPUT_FLAT, SEED_LOGIT, SEED_PROBABILITY, emitBackward, gradName, planGradient } from './compile.ts';

export interface GradientGraphOptions {
  input: string;
  /** The tensor differentiated (the logits). */
  output: string;
  /** Tensors to differentiate with respect to (the input and/or intermediate tensors). */
  wrt: string[];
  label: string;
  threads?: number;
}

export interface GradientRun {
  /** The output, [n, M]. */
  output: Float32Array;
  /** Per wrt tensor: its gradient and (for intermediate tensors) its forward value, both [n, ...dims]. */
  grads: Record<string, Float32Array>;
  values: Record<string, Float32Array>;
}

export class GradientGraph {
  private constructor(
    readonly opts: GradientGraphOptions,
    private readonly session: ort.InferenceSession,
    /** Per-example dims (without the batch) of the input and each wrt tensor. */
    readonly dims: Map<string, number[]>,
    readonly outputSize: number,
    /** The compiled graph's size in bytes (for reports). */
    readonly bytes: number,
  ) {}

  /**
   * The backward graph of a model: from `cache` when it holds a valid file for this key, else compiled (and then
   * written to `cache`). A cached graph ONNX Runtime refuses is rebuilt like a corrupt file.
   */
  static async compile(modelBytes: Uint8Array, opts: GradientGraphOptions, cache?: BackwardGraphCache): Promise<GradientGraph> {
    const hit = cache?.load();
    if (hit) {
      try {
        const session = await createSession(hit.bytes, opts);
        compileStats.loaded++;
        return new GradientGraph(opts, session, hit.dims, hit.outputSize, hit.bytes.length);
      } catch (e) {
        cache!.reject((e as Error).message.split('\n')[0]);
      }
    }
    const built = await build(modelBytes, opts);
    const session = await createSession(built.bytes, opts);
    compileStats.compiled++;
    cache?.store(built);
    return new GradientGraph(opts, session, built.dims, built.outputSize, built.bytes.length);
  }

  /**
   * One batch: x is the model input [n, ...], seeds are [n, M] cotangents on the output (logit part) and on
   * its softmax (probability part).
   */
  private active = 0;
  private disposing = false;

  async run(x: Float32Array, n: number, seedLogit: Float32Array, seedProbability: Float32Array): Promise<GradientRun> {
    this.active++;
    try {
      return await this.runNow(x, n, seedLogit, seedProbability);
    } finally {
      if (--this.active === 0 && this.disposing) await this.session.release();
    }
  }

  private async runNow(x: Float32Array, n: number, seedLogit: Float32Array, seedProbability: Float32Array): Promise<GradientRun> {
    const { input, wrt } = this.opts;
    const feeds = {
      [input]: new ort.Tensor('float32', x, [n, ...this.dims.get(input)!]),
      [SEED_LOGIT]: new ort.Tensor('float32', seedLogit, [n, this.outputSize]),
      [SEED_PROBABILITY]: new ort.Tensor('float32', seedProbability, [n, this.outputSize]),
    };
    const fetches = [OUTPUT_FLAT, ...wrt.map(gradName), ...wrt.filter((w) => w !== input)];
    const result = await this.session.run(feeds, fetches);
    const read = (name: string) => result[name].data as Float32Array;
    const grads: Record<string, Float32Array> = {};
    const values: Record<string, Float32Array> = {};
    for (const w of wrt) {
      grads[w] = read(gradName(w));
      if (w !== input) values[w] = read(w);
    }
    return { output: read(OUTPUT_FLAT), grads, values };
  }

  /** Releases the session now, or after the runs in flight. */
  async dispose(): Promise<void> {
    if (this.disposing) return;
    this.disposing = true;
    if (this.active === 0) await this.session.release();
  }
}

/** Counts of backward graphs compiled and loaded from the disk cache in this process (tests, reports). */
export const compileStats = { compiled: 0, loaded: 0 };

/** decode -> opset upgrade -> dynamic batch -> plan -> probe shapes -> emit. */
async function build(modelBytes: Uint8Array, opts: GradientGraphOptions): Promise<CompiledBackward> {
  const model = decodeModel(modelBytes, `model ${opts.label}`);
  const input = (model.graph.input ?? []).find((i) => i.name === opts.input);
  const inShape = valueShape(input);
  if (!input || !inShape) throw new SaliencyError(`gradients: model ${opts.label} has no input "${opts.input}" with a known shape`, 'BAD_MODEL');
  if (input.type?.tensor_type?.elem_type !== 1) throw new SaliencyError(`gradient methods need a float32 model: the input of model ${opts.label} is not float32`, 'NO_GRADIENT');
  const before = new GraphIndex(model.graph);
  const taken = new Set<string>(model.graph.node.flatMap((n) => [...n.input, ...n.output]));
  const up = new Emitter(taken, 'upgrade');
  upgradeOpset(model, up, (name) => (before.consumers.get(name) ?? []).length > 0 || (model.graph.output ?? []).some((o) => o.name === name));
  model.graph.initializer = [...(model.graph.initializer ?? []), ...up.initializers];
  model.ir_version = Math.max(8, toNum(model.ir_version));
  if (inShape[0] !== -1) makeBatchDynamic(model, new GraphIndex(model.graph), opts.input);
  model.graph.value_info = [];

  const plan = planGradient(model, opts.input, opts.output, opts.wrt, opts.label);
  const shapes = await probeShapes(plan.model, opts.input, inShape, plan.path, opts.threads ?? 0, opts.label);
  const outShape = shapes.get(opts.output)!;
  const outputSize = outShape.slice(1).reduce((a, b) => a * b, 1);
  const compiled = encodeModel(emitBackward(plan, shapes, outputSize));
  const dims = new Map<string, number[]>([[opts.input, inShape.slice(1)]]);
  for (const w of opts.wrt) dims.set(w, shapes.get(w)?.slice(1) ?? inShape.slice(1));
  return { bytes: compiled, dims, outputSize };
}

async function createSession(bytes: Uint8Array, opts: GradientGraphOptions): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'], intraOpNumThreads: opts.threads ?? 0, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3,
    });
  } catch (e) {
    throw new SaliencyError(`gradients: ONNX Runtime rejected the backward graph of model ${opts.label} (${String((e as Error).message).split('\n')[0]})`, 'NO_GRADIENT');
  }
}

/** Runs the forward graph once at batch 2 with every path tensor as an output and records the shapes. */
async function probeShapes(model: OnnxModel, input: string, inShape: number[], tensors: string[], threads: number, label: string): Promise<Map<string, number[]>> {
  const probe = decodeModel(encodeModel(model), label);
  probe.graph.output = tensors.map((name) => ({ name, type: { tensor_type: { elem_type: 1 } } }));
  const dims = [2, ...inShape.slice(1)];
  if (dims.some((d) => d <= 0)) throw new SaliencyError(`gradients: the input of model ${label} has unknown dimensions [${inShape.join(',')}]`, 'BAD_MODEL');
  const count = dims.reduce((a, b) => a * b, 1);
  const x = new Float32Array(count);
  for (let i = 0; i < count; i++) x[i] = Math.sin(i * 0.37) * 0.5;
  let session: ort.InferenceSession | undefined;
  try {
    session = await ort.InferenceSession.create(encodeModel(probe), { executionProviders: ['cpu'], intraOpNumThreads: threads, graphOptimizationLevel: 'basic', logSeverityLevel: 3 });
    const out = await session.run({ [input]: new ort.Tensor('float32', x, dims) });
    const shapes = new Map<string, number[]>([[input, dims]]);
    for (const t of tensors) {
      shapes.set(t, out[t].dims.map(Number));
      if (out[t].type !== 'float32') throw new SaliencyError(`gradients: tensor "${t}" of model ${label} is ${out[t].type}, not float32`, 'NO_GRADIENT');
    }
    for (const v of Object.values(out)) v.dispose?.();
    return shapes;
  } catch (e) {
    if (e instanceof SaliencyError) throw e;
    throw new SaliencyError(`gradients: model ${label} did not run at batch 2 (${String((e as Error).message).split('\n')[0]}); gradients need a batch dimension that can be made dynamic`, 'NO_GRADIENT');
  } finally {
    await session?.release();
  }
}
