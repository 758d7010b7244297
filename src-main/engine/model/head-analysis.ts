// Graph analysis that finds, without relying on tensor names, the last spatial feature block feeding the
// global average pooling and the linear head after it. For such models Grad-CAM = CAM, computed exactly.
import type { Layout } from '../types.ts';
import { SaliencyError } from '../types.ts';
import {
  GraphIndex, attrFloat, attrInt, attrInts, tensorDims, tensorValues, type OnnxNode, DataType,
} from './onnx-graph.ts';

export interface LinearHead {
  /** K x C, row-major: logit_k = sum_c weights[k*C + c] * gap_c + bias[k]. */
  weights: Float32Array;
  bias: Float32Array;
  numClasses: number;
  channels: number;
}

export interface FeatureBlock {
  /** Tensor to expose as an extra graph output. */
  tensor: string;
  /** Element type of that tensor (FLOAT, or UINT8/INT8 for quantized blocks that we dequantize). */
  elemType: number;
  dequantize?: { scale: number; zeroPoint: number };
  /** Layout of the feature tensor ('NHWC' for Keras-style models pooled with ReduceMean over axes 1,2). */
  layout: Layout;
  channels: number;
}

export interface HeadAnalysis {
  feature: FeatureBlock;
  head: LinearHead;
  /** Human-readable account of what was found, shown to the user. */
  description: string;
}

const PASS_THROUGH = new Set(['Flatten', 'Reshape', 'Squeeze', 'Unsqueeze', 'Dropout', 'Identity',
  'QuantizeLinear', 'DequantizeLinear']);

interface Const { values: Float64Array; dims: number[] }

/** Finds the tensor holding pre-softmax scores: the output itself, or the input of a trailing Softmax. */
export function findLogits(g: GraphIndex, output: string): { logits: string; probabilities: boolean; note: string } {
  let name = output;
  for (let guard = 0; guard < 16; guard++) {
    const p = g.producer.get(name);
    if (!p) break;
    if (p.op_type === 'Softmax') {
      return { logits: p.input[0], probabilities: true, note: `output "${output}" is a Softmax; logits read from "${p.input[0]}"` };
    }
    if (['Flatten', 'Reshape', 'Squeeze', 'Identity'].includes(p.op_type)) { name = p.input[0]; continue; }
    break;
  }
  return { logits: output, probabilities: false, note: `output "${output}" holds logits (no trailing Softmax)` };
}

function constOf(g: GraphIndex, name: string): Const | undefined {
  const t = g.constant(name);
  if (t) return { values: tensorValues(t), dims: tensorDims(t) };
  const p = g.producer.get(name);
  if (!p) return undefined;
  if (p.op_type === 'Identity') return constOf(g, p.input[0]);
  if (p.op_type === 'DequantizeLinear') {
    const x = constOf(g, p.input[0]);
    const s = constOf(g, p.input[1]);
    const z = p.input[2] ? constOf(g, p.input[2]) : undefined;
    if (!x || !s) return undefined;
    return dequantizeConst(x, s, z, attrInt(p, 'axis', 1));
  }
  if (p.op_type === 'Transpose') {
    const x = constOf(g, p.input[0]);
    if (!x || x.dims.length !== 2) return undefined;
    return transpose2(x);
  }
  return undefined;
}

function dequantizeConst(x: Const, s: Const, z: Const | undefined, axis: number): Const {
  const out = new Float64Array(x.values.length);
  const perAxis = s.values.length > 1;
  const ax = axis < 0 ? axis + x.dims.length : axis;
  const inner = x.dims.slice(ax + 1).reduce((a, b) => a * b, 1);
  const axisLen = x.dims[ax] ?? 1;
  for (let i = 0; i < out.length; i++) {
    const c = perAxis ? Math.floor(i / inner) % axisLen : 0;
    out[i] = (x.values[i] - (z ? z.values[c] ?? z.values[0] : 0)) * s.values[c];
  }
  return { values: out, dims: x.dims };
}

function transpose2(x: Const): Const {
  const [r, c] = x.dims;
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = x.values[i * c + j];
  return { values: out, dims: [c, r] };
}

const scalarOf = (g: GraphIndex, name: string): number => {
  const c = constOf(g, name);
  if (!c) throw new SaliencyError(`expected a constant for "${name}"`);
  return c.values[0];
};

/** Is this node a global average pooling over the spatial axes? Returns the feature layout if so. */
function poolingLayout(g: GraphIndex, n: OnnxNode, inputLayout: Layout): Layout | undefined {
  if (n.op_type === 'GlobalAveragePool' || n.op_type === 'QLinearGlobalAveragePool') {
    return n.op_type === 'QLinearGlobalAveragePool' && attrInt(n, 'channels_last', 0) ? 'NHWC' : 'NCHW';
  }
  if (n.op_type === 'ReduceMean') {
    let axes = attrInts(n, 'axes');
    if (!axes && n.input[1]) axes = Array.from(constOf(g, n.input[1])?.values ?? []);
    if (!axes) return undefined;
    const norm = axes.map((a) => (a < 0 ? a + 4 : a)).sort().join(',');
    if (norm === '2,3') return 'NCHW';
    if (norm === '1,2') return 'NHWC';
    return undefined;
  }
  if (n.op_type === 'AveragePool') {
    // An AveragePool whose kernel covers the whole (known) feature map is a global pooling.
    const kernel = attrInts(n, 'kernel_shape');
    const shape = g.valueInfo.get(n.input[0])?.type?.tensor_type?.shape?.dim?.map((d) => Number(d.dim_value ?? 0));
    if (kernel && shape && shape.length === 4 && inputLayout === 'NCHW' && kernel[0] === shape[2] && kernel[1] === shape[3]) {
      return 'NCHW';
    }
  }
  return undefined;
}

/**
 * Finds the feature block and linear head between the global average pooling and `logits`.
 * Throws a SaliencyError that names what was found when the model has no such head.
 */
export function analyseHead(g: GraphIndex, logits: string, numClasses: number, inputLayout: Layout): HeadAnalysis {
  const pools = g.graph.node.filter((n) => poolingLayout(g, n, inputLayout) && g.dependsOn(logits, n.output[0]));
  if (pools.length === 0) {
    const ops = [...new Set(g.graph.node.slice(-6).map((n) => n.op_type))].join(', ');
    throw new SaliencyError(
      `no global average pooling feeds the output: Grad-CAM/CAM needs a global-average-pool -> linear head ` +
      `(the last operations found are: ${ops})`, 'NO_CAM_HEAD');
  }
  const pool = pools[pools.length - 1];
  const layout = poolingLayout(g, pool, inputLayout)!;

  // Walk forward from the pooled vector to the logits, composing every linear operation on the way.
  let W: Float64Array | null = null; // K x C, null = identity
  let b: Float64Array | null = null;
  let rows = -1; // current output size, -1 = unknown (identity so far)
  const steps: string[] = [];
  let current = pool.output[0];
  for (let guard = 0; current !== logits && guard < 64; guard++) {
    const next = (g.consumers.get(current) ?? []).find((c) => c.output.some((o) => g.dependsOn(logits, o)));
    if (!next) throw new SaliencyError(`the pooled features do not reach the logits "${logits}"`, 'NO_CAM_HEAD');
    const dataIdx = next.input.indexOf(current);
    const op = next.op_type;
    if (PASS_THROUGH.has(op) && dataIdx === 0) {
      // value-preserving (quantize/dequantize pairs only round)
    } else if (op === 'Gemm' || op === 'MatMul' || op === 'QLinearMatMul' || (op === 'Conv' && dataIdx === 0)) {
      let mat: Const | undefined;
      let alpha = 1;
      if (op === 'Gemm') {
        if (dataIdx !== 0 || attrInt(next, 'transA', 0)) throw new SaliencyError(`unsupported Gemm in the head (${next.name})`, 'NO_CAM_HEAD');
        mat = constOf(g, next.input[1]);
        if (mat && attrInt(next, 'transB', 0) === 0) mat = transpose2(mat);
        alpha = attrFloat(next, 'alpha', 1);
      } else if (op === 'MatMul') {
        if (dataIdx !== 0) throw new SaliencyError(`unsupported MatMul order in the head (${next.name})`, 'NO_CAM_HEAD');
        const m = constOf(g, next.input[1]);
        mat = m && transpose2(m);
      } else if (op === 'QLinearMatMul') {
        const q = constOf(g, next.input[3]);
        const s = constOf(g, next.input[4]);
        const z = constOf(g, next.input[5]);
        mat = q && s ? transpose2(dequantizeConst(q, s, z, 1)) : undefined;
      } else {
        const k = attrInts(next, 'kernel_shape');
        const w = constOf(g, next.input[1]);
        if (w && w.dims.length === 4 && w.dims[2] === 1 && w.dims[3] === 1 && (!k || k.every((v) => v === 1))) {
          mat = { values: w.values, dims: [w.dims[0], w.dims[1]] };
        }
      }
      if (!mat) throw new SaliencyError(`the head's ${op} (${next.name || next.output[0]}) has non-constant weights`, 'NO_CAM_HEAD');
      let bias: Float64Array | null = null;
      let beta = 1;
      if ((op === 'Gemm' || op === 'Conv') && next.input[2]) {
        bias = constOf(g, next.input[2])?.values ?? null;
        if (op === 'Gemm') beta = attrFloat(next, 'beta', 1);
      }
      ({ W, b } = compose(W, b, mat, bias, alpha, beta));
      rows = mat.dims[0];
      steps.push(`${op} ${mat.dims[1]}->${mat.dims[0]}`);
    } else if (op === 'Add' || op === 'Sub' || op === 'QLinearAdd') {
      const other = op === 'QLinearAdd' ? (dataIdx === 0 ? 3 : 0) : 1 - dataIdx;
      let c = constOf(g, next.input[other]);
      if (c && op === 'QLinearAdd') {
        const s = constOf(g, next.input[other + 1]);
        const z = constOf(g, next.input[other + 2]);
        if (!s) throw new SaliencyError(`QLinearAdd ${next.name}: scale not constant`, 'NO_CAM_HEAD');
        c = dequantizeConst(c, s, z, 0);
      }
      if (!c) throw new SaliencyError(`the head's ${op} (${next.name}) adds a non-constant tensor`, 'NO_CAM_HEAD');
      const sign = op === 'Sub' && dataIdx === 1 ? -1 : 1;
      if (sign === -1 && W) for (let i = 0; i < W.length; i++) W[i] = -W[i];
      const add = op === 'Sub' && dataIdx === 0 ? -1 : 1;
      const n = c.values.length;
      const len = Math.max(rows, n);
      const nb = new Float64Array(len);
      for (let i = 0; i < len; i++) nb[i] = sign * (b ? b[i] ?? 0 : 0) + add * c.values[n === 1 ? 0 : i];
      b = nb;
      steps.push(`${op} bias`);
    } else if (op === 'Mul') {
      const c = constOf(g, next.input[1 - dataIdx]);
      if (!c || c.values.length !== 1 || !W) {
        throw new SaliencyError(`the head's Mul (${next.name}) is not a constant scale of a linear layer`, 'NO_CAM_HEAD');
      }
      const k = c.values[0];
      W = W.map((v) => v * k);
      if (b) b = b.map((v) => v * k);
      steps.push(`scale ${k}`);
    } else {
      throw new SaliencyError(
        `the operation after the global average pooling is ${op} (${next.name || next.output[0]}), not a linear head ` +
        `(Gemm, MatMul+Add, 1x1 Conv, QLinearMatMul)`, 'NO_CAM_HEAD');
    }
    current = next.output.find((o) => g.dependsOn(logits, o))!;
  }
  if (current !== logits) throw new SaliencyError('could not follow the head to the logits', 'NO_CAM_HEAD');

  // The feature block: the pooling input, dequantized when the pooling runs on quantized values.
  let feature: FeatureBlock;
  const poolInput = pool.input[0];
  if (pool.op_type === 'QLinearGlobalAveragePool') {
    const dq = (g.consumers.get(poolInput) ?? []).find((c) => c.op_type === 'DequantizeLinear' && c.input[0] === poolInput);
    if (dq) {
      feature = { tensor: dq.output[0], elemType: DataType.FLOAT, layout, channels: 0 };
    } else {
      const zp = g.constant(pool.input[2]);
      feature = {
        tensor: poolInput, elemType: zp?.data_type ?? DataType.UINT8, layout, channels: 0,
        dequantize: { scale: scalarOf(g, pool.input[1]), zeroPoint: scalarOf(g, pool.input[2]) },
      };
    }
  } else {
    feature = { tensor: poolInput, elemType: DataType.FLOAT, layout, channels: 0 };
  }

  let channels: number;
  let weights: Float32Array;
  let bias: Float32Array;
  if (!W) {
    channels = numClasses;
    weights = new Float32Array(numClasses * numClasses);
    for (let i = 0; i < numClasses; i++) weights[i * numClasses + i] = 1;
    bias = Float32Array.from(b ?? new Float64Array(numClasses));
    steps.push('identity (the pooled block has one channel per class)');
  } else {
    channels = W.length / rows;
    weights = Float32Array.from(W);
    bias = Float32Array.from(b ?? new Float64Array(rows));
    if (rows !== numClasses) throw new SaliencyError(`the head gives ${rows} outputs but the model has ${numClasses} classes`, 'NO_CAM_HEAD');
  }
  feature.channels = channels;

  const before = g.producer.get(poolInput);
  const beforeConv = before?.op_type === 'Relu' ? g.producer.get(before.input[0]) : before;
  const classMap = !W && beforeConv?.op_type === 'Conv' && attrInts(beforeConv, 'kernel_shape')?.every((k) => k === 1);
  const description =
    `feature block "${feature.tensor}" (${channels} channels, ${layout}) -> ${pool.op_type} -> ` +
    `${steps.join(' -> ')}` + (classMap ? '; a 1x1 Conv before the pooling makes the block the class activation maps' : '') +
    (feature.dequantize ? `; dequantized with scale ${feature.dequantize.scale}, zero point ${feature.dequantize.zeroPoint}` : '');
  return { feature, head: { weights, bias, numClasses, channels }, description };
}

/** (W2, b2) o (W1, b1): y = alpha * W2 (W1 x + b1) + beta * bias. */
function compose(W1: Float64Array | null, b1: Float64Array | null, m: Const, bias: Float64Array | null, alpha: number, beta: number) {
  const [K, C] = m.dims;
  let W: Float64Array;
  if (!W1) {
    W = m.values.map((v) => v * alpha);
  } else {
    const inner = W1.length / C;
    W = new Float64Array(K * inner);
    for (let k = 0; k < K; k++) for (let c = 0; c < C; c++) {
      const w = alpha * m.values[k * C + c];
      if (w === 0) continue;
      for (let j = 0; j < inner; j++) W[k * inner + j] += w * W1[c * inner + j];
    }
  }
  const b = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let s = bias ? beta * (bias.length === 1 ? bias[0] : bias[k]) : 0;
    if (b1) for (let c = 0; c < C; c++) s += alpha * m.values[k * C + c] * b1[c];
    b[k] = s;
  }
  return { W, b };
}
