// A small builder for ONNX models made by the project itself (the trained demo CNN, the hand-built
// known-evidence model): inputs, initializers, nodes with attributes, metadata, encoded with the same schema
// the runtime decodes with.
import { SaliencyError } from '../types.ts';
import { AttrType, DataType, encodeModel, type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnx-graph.ts';

/** A float attribute whose value happens to be an integer (plain integer numbers become INT attributes). */
export class FloatAttr {
  constructor(readonly value: number) {}
}
export const float = (v: number) => new FloatAttr(v);

/** Attribute values: integer -> INT, other number or FloatAttr -> FLOAT, string -> STRING, number[] -> INTS. */
export type AttrValue = number | FloatAttr | string | number[];

/** A dimension: a size, or a name for a dynamic dimension (e.g. 'batch'). */
export type Dim = number | string;

export interface BuilderOptions {
  producer: string;
  producerVersion?: string;
  graphName: string;
  /** Default opset 13: every operator used here is stable since. */
  opset?: number;
  docString?: string;
}

export function toAttribute(name: string, v: AttrValue): OnnxAttribute {
  if (v instanceof FloatAttr) return { name, type: AttrType.FLOAT, f: v.value };
  if (typeof v === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) {
    if (!v.every(Number.isInteger)) throw new SaliencyError(`attribute ${name}: only integer lists are supported`);
    return { name, type: AttrType.INTS, ints: v };
  }
  if (Number.isInteger(v)) return { name, type: AttrType.INT, i: v };
  return { name, type: AttrType.FLOAT, f: v };
}

function valueInfo(name: string, elemType: number, dims: Dim[]): OnnxValueInfo {
  return {
    name,
    type: { tensor_type: { elem_type: elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  };
}

export class OnnxBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers: OnnxTensor[] = [];
  private readonly inputs: OnnxValueInfo[] = [];
  private readonly outputs: OnnxValueInfo[] = [];
  private readonly meta = new Map<string, string>();
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(private readonly opts: BuilderOptions) {}

  private claim(name: string): string {
    if (this.names.has(name)) throw new SaliencyError(`ONNX builder: the name "${name}" is already used`);
    this.names.add(name);
    return name;
  }

  /** A fresh tensor name with the given prefix. */
  fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`; while (this.names.has(name));
    return name;
  }

  input(name: string, dims: Dim[], elemType: number = DataType.FLOAT): string {
    this.inputs.push(valueInfo(this.claim(name), elemType, dims));
    return name;
  }

  /** Declares an existing tensor as a graph output. */
  output(name: string, dims: Dim[], elemType: number = DataType.FLOAT): void {
    if (!this.names.has(name)) throw new SaliencyError(`ONNX builder: output "${name}" is not produced by the graph`);
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  /** A float32 constant, stored little-endian in raw_data. */
  initializer(name: string, values: ArrayLike<number>, dims: number[]): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (values.length !== count) {
      throw new SaliencyError(`ONNX builder: initializer "${name}" has ${values.length} values for shape [${dims.join(',')}] (${count} expected)`);
    }
    const raw = new Uint8Array(count * 4);
    const dv = new DataView(raw.buffer);
    for (let i = 0; i < count; i++) dv.setFloat32(i * 4, values[i], true);
    this.initializers.push({ name: this.claim(name), dims, data_type: DataType.FLOAT, raw_data: raw });
    return name;
  }

  /** An int64 constant (shapes, axes). */
  int64Initializer(name: string, values: number[], dims: number[] = [values.length]): string {
    const raw = new Uint8Array(values.length * 8);
    const dv = new DataView(raw.buffer);
    values.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
    this.initializers.push({ name: this.claim(name), dims, data_type: DataType.INT64, raw_data: raw });
    return name;
  }

  /** Adds a node; returns its first output (named `output`, or a fresh name from the op type). */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, output?: string, extraOutputs = 0): string {
    for (const i of inputs) {
      if (i && !this.names.has(i)) throw new SaliencyError(`ONNX builder: ${op} reads "${i}", which nothing produces`);
    }
    const out = this.claim(output ?? this.fresh(op.toLowerCase()));
    const outs = [out];
    for (let k = 0; k < extraOutputs; k++) outs.push(this.claim(this.fresh(`${out}_extra`)));
    this.nodes.push({
      op_type: op, name: `${op}_${this.nodes.length}`, input: inputs, output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => toAttribute(k, v)),
    });
    return out;
  }

  // Shorthands for the operators the built-in models use.
  conv(x: string, w: string, b: string | undefined, attrs: { kernel: [number, number]; pads?: number[]; strides?: number[] }, output?: string): string {
    return this.node('Conv', b ? [x, w, b] : [x, w], {
      kernel_shape: attrs.kernel, pads: attrs.pads ?? [0, 0, 0, 0], strides: attrs.strides ?? [1, 1],
    }, output);
  }
  relu(x: string, output?: string): string { return this.node('Relu', [x], {}, output); }
  maxPool(x: string, size: number, stride = size, output?: string): string {
    return this.node('MaxPool', [x], { kernel_shape: [size, size], strides: [stride, stride], pads: [0, 0, 0, 0] }, output);
  }
  globalAveragePool(x: string, output?: string): string { return this.node('GlobalAveragePool', [x], {}, output); }
  flatten(x: string, output?: string): string { return this.node('Flatten', [x], { axis: 1 }, output); }
  /** y = x W^T + b with W stored [out, in] (transB=1, as PyTorch's Linear). */
  gemm(x: string, w: string, b: string, output?: string): string {
    return this.node('Gemm', [x, w, b], { alpha: float(1), beta: float(1), transB: 1 }, output);
  }
  softmax(x: string, output?: string): string { return this.node('Softmax', [x], { axis: 1 }, output); }

  metadata(key: string, value: string): void {
    this.meta.set(key, value);
  }

  build(): OnnxModel {
    if (this.inputs.length === 0 || this.outputs.length === 0) throw new SaliencyError('ONNX builder: the graph needs an input and an output');
    return {
      ir_version: 8,
      producer_name: this.opts.producer,
      producer_version: this.opts.producerVersion ?? '',
      opset_import: [{ domain: '', version: this.opts.opset ?? 13 }],
      ...(this.opts.docString ? { doc_string: this.opts.docString } : {}),
      graph: {
        name: this.opts.graphName, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs,
      },
      metadata_props: [...this.meta].map(([key, value]) => ({ key, value })),
    } as OnnxModel;
  }

  toBytes(): Uint8Array {
    return encodeModel(this.build());
  }
}

/** TensorFlow conv kernel [kh, kw, in, out] (HWIO) -> ONNX Conv weight [out, in, kh, kw] (OIHW). */
export function hwioToOihw(kernel: ArrayLike<number>, kh: number, kw: number, cin: number, cout: number): Float32Array {
  if (kernel.length !== kh * kw * cin * cout) throw new SaliencyError(`kernel has ${kernel.length} values, ${kh}x${kw}x${cin}x${cout} expected`);
  const out = new Float32Array(kernel.length);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) {
    out[((o * cin + i) * kh + y) * kw + x] = kernel[((y * kw + x) * cin + i) * cout + o];
  }
  return out;
}

/** A dense kernel [in, out] (TensorFlow) -> [out, in] for Gemm with transB=1. */
export function transposeDense(kernel: ArrayLike<number>, cin: number, cout: number): Float32Array {
  if (kernel.length !== cin * cout) throw new SaliencyError(`dense kernel has ${kernel.length} values, ${cin}x${cout} expected`);
  const out = new Float32Array(kernel.length);
  for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) out[o * cin + i] = kernel[i * cout + o];
  return out;
}
