// Every adjoint rule alone against central finite differences (float64 accumulation), relative error < 1e-3.
import { describe, expect, it } from 'vitest';
import { float, type OnnxBuilder } from '../../src-main/engine/model/onnx-builder.ts';
import { GradientGraph } from '../../src-main/engine/model/autodiff/gradient-graph.ts';
import { OnnxBuilder as Builder } from '../../src-main/engine/model/onnx-builder.ts';
import { checkOp, type OpCase } from './op-check.ts';

const TOL = 1e-3;
let counter = 0;
const weights = (b: OnnxBuilder, dims: number[], scale = 0.5) => {
  const n = dims.reduce((a, d) => a * d, 1);
  return b.initializer(`w${counter++}`, Array.from({ length: n }, (_, i) => scale * Math.sin(1.7 * i + counter)), dims);
};
const scalar = (b: OnnxBuilder, v: number) => b.initializer(`s${counter++}`, [v], []);
const ints = (b: OnnxBuilder, v: number[]) => b.int64Initializer(`i${counter++}`, v);
/** Distinct, well-separated values (ties and kinks make finite differences meaningless for max and ReLU). */
const spread = (_: unknown, n: number) => Float32Array.from({ length: n }, (_, i) => ((i * 7919) % n) / n * 4 - 2 + 0.013);

const CASES: Record<string, OpCase> = {
  'Conv 3x3 pad 1 (stride 1: Conv with the flipped kernel)': {
    dims: [2, 5, 5], build: (b, x) => b.conv(x, weights(b, [3, 2, 3, 3]), weights(b, [3]), { kernel: [3, 3], pads: [1, 1, 1, 1] }),
  },
  'Conv stride 2, asymmetric pads (ConvTranspose with output padding)': {
    dims: [2, 6, 7], build: (b, x) => b.node('Conv', [x, weights(b, [3, 2, 3, 3])], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 0, 0, 1] }),
  },
  'Conv groups 2, dilation 2': {
    dims: [4, 7, 7], build: (b, x) => b.node('Conv', [x, weights(b, [4, 2, 3, 3])], { kernel_shape: [3, 3], group: 2, dilations: [2, 2], pads: [2, 2, 2, 2] }),
  },
  'Conv auto_pad SAME_UPPER stride 2, 1x3 kernel': {
    dims: [2, 5, 6], build: (b, x) => b.node('Conv', [x, weights(b, [2, 2, 1, 3])], { kernel_shape: [1, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' }),
  },
  Relu: { dims: [3, 4, 4], build: (b, x) => b.relu(x) },
  LeakyRelu: { dims: [3, 4], build: (b, x) => b.node('LeakyRelu', [x], { alpha: float(0.2) }) },
  'Clip (ReLU6)': { dims: [40], values: (_, n) => Float32Array.from({ length: n }, (_, i) => -2.05 + i * 0.25), build: (b, x) => b.node('Clip', [x, scalar(b, 0), scalar(b, 6)]) },
  Sigmoid: { dims: [3, 4], h: 1e-3, build: (b, x) => b.node('Sigmoid', [x]) },
  Tanh: { dims: [3, 4], h: 1e-3, build: (b, x) => b.node('Tanh', [x]) },
  'MaxPool 3x3 stride 2 (overlapping windows)': { dims: [2, 7, 7], values: spread, build: (b, x) => b.maxPool(x, 3, 2) },
  'MaxPool with pads and ceil_mode': { dims: [2, 6, 6], values: spread, build: (b, x) => b.node('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }) },
  'AveragePool 3x3 stride 1 pad 1, count_include_pad 0': { dims: [2, 5, 5], build: (b, x) => b.node('AveragePool', [x], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }) },
  'AveragePool 3x3 stride 2 pad 1, count_include_pad 1': { dims: [2, 6, 6], build: (b, x) => b.node('AveragePool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 }) },
  GlobalAveragePool: { dims: [3, 4, 5], build: (b, x) => b.globalAveragePool(x) },
  'BatchNormalization (inference)': {
    dims: [3, 4, 4],
    build: (b, x) => b.node('BatchNormalization', [x, weights(b, [3]), weights(b, [3]), weights(b, [3]), b.initializer(`v${counter++}`, [0.5, 1.5, 2], [3])], { epsilon: float(1e-3) }),
  },
  'Concat of two branches, then Split': {
    dims: [3, 4],
    build: (b, x) => {
      const cat = b.node('Concat', [b.relu(x), b.node('Sigmoid', [x]), x], { axis: 1 });
      const first = b.node('Split', [cat, ints(b, [4, 5])], { axis: 1 }, undefined, 1);
      return b.node('Mul', [first, first]);
    },
  },
  'Split with an output no gradient reaches': {
    dims: [6, 3], build: (b, x) => b.node('Split', [x, ints(b, [2, 4])], { axis: 1 }, undefined, 1),
  },
  'Slice (unit steps, negative end)': {
    dims: [4, 6], build: (b, x) => b.node('Slice', [x, ints(b, [1, 2]), ints(b, [3, -1]), ints(b, [1, 2])]),
  },
  'Pad (constant)': { dims: [2, 3, 3], build: (b, x) => b.node('Mul', [b.node('Pad', [x, ints(b, [0, 0, 1, 2, 0, 0, 2, 0])]), weights(b, [2, 6, 5])]) },
  'Add/Sub/Mul/Div with broadcasting (SE-style gate)': {
    dims: [3, 4, 4], h: 1e-3,
    build: (b, x) => {
      const gate = b.node('Sigmoid', [b.globalAveragePool(x)]); // [N,3,1,1]
      const scaled = b.node('Mul', [x, gate]);
      const shifted = b.node('Sub', [b.node('Add', [scaled, weights(b, [3, 1, 1])]), b.node('Mul', [gate, scalar(b, 2)])]);
      return b.node('Div', [shifted, b.node('Add', [b.node('Sigmoid', [x]), scalar(b, 1)])]);
    },
  },
  'Gemm transB=1 (Linear)': { dims: [6], build: (b, x) => b.gemm(x, weights(b, [4, 6]), weights(b, [4])) },
  'Gemm transA=1 (of a transposed input), transB=0, alpha 0.5, beta 2': {
    dims: [6], build: (b, x) => b.node('Gemm', [b.node('Transpose', [x], { perm: [1, 0] }), weights(b, [6, 3]), weights(b, [3])], { alpha: float(0.5), beta: float(2), transA: 1 }),
  },
  'MatMul of two computed operands (batched)': {
    dims: [4, 6], h: 1e-3,
    build: (b, x) => b.node('MatMul', [x, b.node('Transpose', [b.node('Sigmoid', [x])], { perm: [0, 2, 1] })]),
  },
  'Flatten, Reshape, Transpose, Squeeze, Unsqueeze, Identity, Dropout': {
    dims: [2, 3, 4],
    build: (b, x) => {
      let y = b.node('Transpose', [x], { perm: [0, 3, 1, 2] });
      y = b.node('Unsqueeze', [b.node('Identity', [y]), ints(b, [1])]);
      y = b.node('Squeeze', [b.node('Dropout', [y]), ints(b, [1])]);
      y = b.node('Reshape', [b.flatten(y), ints(b, [0, 6, 4])]);
      return b.node('Mul', [y, weights(b, [6, 4])]);
    },
  },
  'Softmax axis 1 (logit seed)': { dims: [5, 3], h: 1e-3, build: (b, x) => b.node('Softmax', [x], { axis: 1 }) },
  'probability seed (softmax of the output carried back)': { dims: [6], h: 1e-3, probability: true, build: (b, x) => b.gemm(x, weights(b, [5, 6]), weights(b, [5])) },
  'ReduceMean keepdims 0, ReduceSum': {
    dims: [3, 4, 5],
    build: (b, x) => {
      const first = b.node('Mul', [b.node('ReduceMean', [x], { axes: [2, 3], keepdims: 0 }), b.node('ReduceSum', [x, ints(b, [2, 3])], { keepdims: 0 })]);
      const gated = b.node('Mul', [x, b.node('ReduceSum', [x, ints(b, [1])], { keepdims: 1 })]);
      return b.node('Add', [first, b.node('ReduceMean', [gated], { axes: [2, 3], keepdims: 0 })]);
    },
  },
};

describe('adjoint rules against central finite differences', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(name, async () => {
      const r = await checkOp(c);
      console.log(`${name}: max relative error ${r.relError.toExponential(2)} over ${r.numeric.length} coordinates`);
      expect(r.numeric.some((v) => Math.abs(v) > 1e-6), 'the gradient is not identically zero').toBe(true);
      expect(r.relError).toBeLessThan(TOL);
    });
  }
});

describe('unsupported and quantized ops', () => {
  it('names the op and node for an op without a rule', async () => {
    const b = new Builder({ producer: 'test', graphName: 'op' });
    const x = b.input('x', ['batch', 4]);
    b.output(b.node('Erf', [x], {}, 'erf_out'), ['batch', 4]);
    await expect(GradientGraph.compile(b.toBytes(), { input: 'x', output: 'erf_out', wrt: ['x'], label: 'tiny' }))
      .rejects.toThrow(/Erf \(node "Erf_0"\) has no gradient rule/);
  });
  it('says a quantized model needs a float model', async () => {
    const b = new Builder({ producer: 'test', graphName: 'op' });
    const x = b.input('x', ['batch', 4]);
    const q = b.node('QuantizeLinear', [x, b.initializer('sc', [0.1], [])]);
    b.output(b.node('DequantizeLinear', [q, 'sc'], {}, 'dq'), ['batch', 4]);
    await expect(GradientGraph.compile(b.toBytes(), { input: 'x', output: 'dq', wrt: ['x'], label: 'tiny-q' }))
      .rejects.toThrow(/gradient methods need a float model: model tiny-q is quantized \(QuantizeLinear/);
  });
});
