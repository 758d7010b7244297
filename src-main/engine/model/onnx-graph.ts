// Reading and editing ONNX model files: decode, look up tensors and nodes, add graph outputs, re-encode.
import { ModelProtoType, DataType, AttrType } from './onnx-schema.ts';
import { SaliencyError } from '../types.ts';
import { halfToFloat } from './half.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Long = number | { toNumber(): number };
export const toNum = (v: Long | undefined | null): number => (v == null ? 0 : typeof v === 'number' ? v : v.toNumber());

export interface OnnxAttribute {
  name: string; type?: number; f?: number; i?: Long; s?: Uint8Array; t?: OnnxTensor;
  floats?: number[]; ints?: Long[]; strings?: Uint8Array[];
}
export interface OnnxNode {
  input: string[]; output: string[]; name?: string; op_type: string; domain?: string; attribute?: OnnxAttribute[];
}
export interface OnnxTensor {
  name?: string; dims?: Long[]; data_type?: number; raw_data?: Uint8Array; float_data?: number[];
  int32_data?: number[]; int64_data?: Long[]; double_data?: number[]; data_location?: number;
}
export interface OnnxDim { dim_value?: Long; dim_param?: string; value?: string }
export interface OnnxValueInfo {
  name: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: OnnxDim[] } } };
}
export interface OnnxGraph {
  node: OnnxNode[]; name?: string; initializer?: OnnxTensor[]; input?: OnnxValueInfo[]; output?: OnnxValueInfo[];
  value_info?: OnnxValueInfo[];
}
export interface OnnxModel {
  ir_version?: Long; producer_name?: string; producer_version?: string; graph: OnnxGraph;
  opset_import?: { domain?: string; version?: Long }[];
  metadata_props?: { key: string; value: string }[];
}

export function decodeModel(bytes: Uint8Array, fileLabel: string): OnnxModel {
  let model: OnnxModel;
  try {
    model = ModelProtoType.decode(bytes) as unknown as OnnxModel;
  } catch (e) {
    throw new SaliencyError(`${fileLabel}: not an ONNX model (${(e as Error).message})`, 'BAD_MODEL');
  }
  if (!model.graph || !model.graph.node || model.graph.node.length === 0) {
    throw new SaliencyError(`${fileLabel}: not an ONNX model (no graph nodes found)`, 'BAD_MODEL');
  }
  return model;
}

export function encodeModel(model: OnnxModel): Uint8Array {
  return ModelProtoType.encode(model as any).finish();
}

/** Indexes of a graph for analysis: who produces and who consumes each tensor. */
export class GraphIndex {
  readonly producer = new Map<string, OnnxNode>();
  readonly consumers = new Map<string, OnnxNode[]>();
  readonly initializers = new Map<string, OnnxTensor>();
  readonly valueInfo = new Map<string, OnnxValueInfo>();
  /** Constant node outputs, treated like initializers. */
  readonly constants = new Map<string, OnnxTensor>();

  constructor(readonly graph: OnnxGraph) {
    for (const t of graph.initializer ?? []) if (t.name) this.initializers.set(t.name, t);
    for (const v of [...(graph.value_info ?? []), ...(graph.input ?? []), ...(graph.output ?? [])]) {
      this.valueInfo.set(v.name, v);
    }
    for (const n of graph.node) {
      for (const o of n.output) this.producer.set(o, n);
      for (const i of n.input) {
        if (!i) continue;
        const list = this.consumers.get(i) ?? [];
        list.push(n);
        this.consumers.set(i, list);
      }
      if (n.op_type === 'Constant') {
        const value = n.attribute?.find((a) => a.name === 'value')?.t;
        if (value) this.constants.set(n.output[0], value);
      }
    }
  }

  /** The constant tensor behind a name (initializer or Constant node), or undefined. */
  constant(name: string): OnnxTensor | undefined {
    return this.initializers.get(name) ?? this.constants.get(name);
  }

  /** Graph inputs that are real inputs (not initializers listed as inputs, as older exporters do). */
  realInputs(): OnnxValueInfo[] {
    return (this.graph.input ?? []).filter((i) => !this.initializers.has(i.name));
  }

  /** True if `name` is computed from the tensor `ancestor` (or is it). */
  dependsOn(name: string, ancestor: string, seen = new Set<string>()): boolean {
    if (name === ancestor) return true;
    if (seen.has(name)) return false;
    seen.add(name);
    const p = this.producer.get(name);
    return !!p && p.input.some((i) => i && this.dependsOn(i, ancestor, seen));
  }
}

export function attr(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attribute?.find((a) => a.name === name);
}
export function attrInt(node: OnnxNode, name: string, fallback: number): number {
  const a = attr(node, name);
  return a ? toNum(a.i) : fallback;
}
export function attrFloat(node: OnnxNode, name: string, fallback: number): number {
  const a = attr(node, name);
  return a && a.f != null ? a.f : fallback;
}
export function attrInts(node: OnnxNode, name: string): number[] | undefined {
  const a = attr(node, name);
  return a?.ints ? a.ints.map(toNum) : undefined;
}

export function tensorDims(t: OnnxTensor): number[] {
  return (t.dims ?? []).map(toNum);
}

/** Reads a constant tensor as numbers (float64 array), whatever its storage type. */
export function tensorValues(t: OnnxTensor): Float64Array {
  const count = tensorDims(t).reduce((a, b) => a * b, 1);
  const type = t.data_type ?? 0;
  if (t.data_location === 1) throw new SaliencyError(`tensor ${t.name}: external data is not supported`, 'BAD_MODEL');
  const raw = t.raw_data && t.raw_data.length > 0 ? t.raw_data : undefined;
  const out = new Float64Array(count);
  if (raw) {
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < count; i++) {
      switch (type) {
        case DataType.FLOAT: out[i] = dv.getFloat32(i * 4, true); break;
        case DataType.DOUBLE: out[i] = dv.getFloat64(i * 8, true); break;
        case DataType.FLOAT16: out[i] = halfToFloat(dv.getUint16(i * 2, true)); break;
        case DataType.UINT8: case DataType.BOOL: out[i] = dv.getUint8(i); break;
        case DataType.INT8: out[i] = dv.getInt8(i); break;
        case DataType.INT16: out[i] = dv.getInt16(i * 2, true); break;
        case DataType.UINT16: out[i] = dv.getUint16(i * 2, true); break;
        case DataType.INT32: out[i] = dv.getInt32(i * 4, true); break;
        case DataType.UINT32: out[i] = dv.getUint32(i * 4, true); break;
        case DataType.INT64: out[i] = Number(dv.getBigInt64(i * 8, true)); break;
        default: throw new SaliencyError(`tensor ${t.name}: unsupported data type ${type}`, 'BAD_MODEL');
      }
    }
    return out;
  }
  const typed: ArrayLike<Long> | undefined =
    type === DataType.FLOAT ? t.float_data
      : type === DataType.DOUBLE ? t.double_data
        : type === DataType.INT64 ? t.int64_data
          : t.int32_data;
  if (!typed) return out;
  for (let i = 0; i < count; i++) {
    const v = toNum(typed[i]);
    out[i] = type === DataType.FLOAT16 ? halfToFloat(v) : v;
  }
  return out;
}

/** Writes int64 values into a constant tensor in place (raw_data form). */
export function setInt64Values(t: OnnxTensor, values: number[]): void {
  const buf = new Uint8Array(values.length * 8);
  const dv = new DataView(buf.buffer);
  values.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
  t.raw_data = buf;
  t.int64_data = [];
}

/** The static shape of a value, with -1 for unknown or symbolic dimensions; undefined if not recorded. */
export function valueShape(v: OnnxValueInfo | undefined): number[] | undefined {
  const dims = v?.type?.tensor_type?.shape?.dim;
  if (!dims) return undefined;
  return dims.map((d) => (d.dim_value != null && toNum(d.dim_value) > 0 ? toNum(d.dim_value) : -1));
}

export function addGraphOutput(model: OnnxModel, name: string, elemType: number): void {
  const outputs = model.graph.output ?? (model.graph.output = []);
  if (outputs.some((o) => o.name === name)) return;
  outputs.push({ name, type: { tensor_type: { elem_type: elemType } } });
}

export function metadata(model: OnnxModel, key: string): string | undefined {
  return model.metadata_props?.find((p) => p.key === key)?.value;
}

export { AttrType, DataType };
