// Adjoints of convolution, pooling, reductions and inference-mode batch normalisation.
import { attrFloat, attrInt, attrInts } from '../onnx-graph.ts';
import { attrString, g0, needConst, unsupported, type AdjointRule, type RuleContext } from './rule-types.ts';

interface Window { kernel: number[]; strides: number[]; dilations: number[]; pads: number[] }

/** Kernel, strides, dilations and explicit pads of a Conv/pool node (auto_pad resolved with the probed shapes). */
function windowOf(c: RuleContext, kernel: number[]): Window {
  const { node } = c;
  const n = kernel.length;
  const strides = attrInts(node, 'strides') ?? new Array<number>(n).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array<number>(n).fill(1);
  let pads = attrInts(node, 'pads') ?? new Array<number>(2 * n).fill(0);
  const auto = attrString(node, 'auto_pad', 'NOTSET');
  if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    const xs = c.shape(node.input[0]).slice(2);
    const ys = c.shape(node.output[0]).slice(2);
    pads = new Array<number>(2 * n).fill(0);
    for (let i = 0; i < n; i++) {
      const total = Math.max(0, (ys[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - xs[i]);
      const small = Math.floor(total / 2);
      pads[i] = auto === 'SAME_UPPER' ? small : total - small;
      pads[n + i] = total - pads[i];
    }
  } else if (auto === 'VALID') {
    pads = new Array<number>(2 * n).fill(0);
  }
  return { kernel, strides, dilations, pads };
}

/**
 * The adjoint of a (grouped) sliding-window linear map with weights `w`: ConvTranspose with the same window,
 * output padding chosen so the result has the input's shape. Stride-1 ungrouped windows use a Conv with the
 * flipped, transposed kernel instead (ONNX Runtime's Conv is much faster than its ConvTranspose); the flip
 * and transpose act on a constant and are folded when the session is created.
 */
function windowAdjoint(c: RuleContext, g: string, w: string, win: Window, group: number, symmetricKernel = false): string {
  const { e, node } = c;
  const xs = c.shape(node.input[0]).slice(2);
  const ys = c.shape(node.output[0]).slice(2);
  const n = win.kernel.length;
  const reach = win.kernel.map((k, i) => (k - 1) * win.dilations[i]);
  const convPads = [...reach.map((r, i) => r - win.pads[i]), ...reach.map((r, i) => r - win.pads[n + i])];
  const unitStride = win.strides.every((s) => s === 1);
  const same = xs.every((x, i) => ys[i] + convPads[i] + convPads[n + i] - reach[i] === x);
  if (unitStride && (group === 1 || symmetricKernel) && convPads.every((p) => p >= 0) && same) {
    let wt = w;
    if (!symmetricKernel) {
      const axes = Array.from({ length: n }, (_, i) => i + 2);
      wt = e.op('Transpose', [w], { perm: [1, 0, ...axes] });
      if (win.kernel.some((k) => k > 1)) {
        wt = e.op('Slice', [wt, e.i64(axes.map(() => -1)), e.i64(axes.map(() => -Number.MAX_SAFE_INTEGER)), e.i64(axes), e.i64(axes.map(() => -1))]);
      }
    }
    return e.op('Conv', [g, wt], { kernel_shape: win.kernel, pads: convPads, dilations: win.dilations, group });
  }
  const outputPadding = xs.map((x, i) => x - (win.strides[i] * (ys[i] - 1) + reach[i] + 1 - win.pads[i] - win.pads[n + i]));
  if (outputPadding.some((p) => p < 0)) throw unsupported(node, 'has a window the transposed convolution cannot invert');
  return e.op('ConvTranspose', [g, w], {
    kernel_shape: win.kernel, strides: win.strides, pads: win.pads, dilations: win.dilations, group, output_padding: outputPadding,
  });
}

const conv: AdjointRule = (c) => {
  if (c.needs[1] || c.needs[2]) throw unsupported(c.node, 'has weights computed from the input; only constant weights are supported');
  const w = c.shape(c.node.input[1]);
  const kernel = attrInts(c.node, 'kernel_shape') ?? w.slice(2);
  return [windowAdjoint(c, g0(c), c.node.input[1], windowOf(c, kernel), attrInt(c.node, 'group', 1))];
};

/** MaxPool: the forward node also returns the argmax indices; the gradient is scatter-added at them (windows may overlap). */
const maxPool: AdjointRule = (c) => {
  const { e, node } = c;
  if (attrInt(node, 'storage_order', 0) !== 0) throw unsupported(node, 'uses column-major indices');
  if (!node.output[1]) node.output[1] = e.fresh('maxpool_indices');
  const flat = e.i64([1, -1]);
  const zeros = e.op('Reshape', [e.zerosLike(node.input[0]), flat]);
  const idx = e.op('Reshape', [node.output[1], flat]);
  const g = e.op('Reshape', [g0(c), flat]);
  return [e.reshapeLike(e.op('ScatterElements', [zeros, idx, g], { axis: 1, reduction: 'add' }), node.input[0])];
};

/**
 * AveragePool: every input position receives g / divisor from each window that covers it, a depthwise
 * transposed convolution with a kernel of ones. Without count_include_pad the divisor varies near the borders:
 * it is the pooled fraction of real (unpadded) positions times the kernel size.
 */
const averagePool: AdjointRule = (c) => {
  const { e, node } = c;
  const kernel = attrInts(node, 'kernel_shape')!;
  const win = windowOf(c, kernel);
  const channels = c.shape(node.input[0])[1];
  const size = kernel.reduce((a, b) => a * b, 1);
  const ones = e.f32(new Float32Array(channels * size).fill(1), [channels, 1, ...kernel]);
  let g: string;
  if (attrInt(node, 'count_include_pad', 0) === 1 || win.pads.every((p) => p === 0)) {
    g = e.op('Mul', [g0(c), e.scalar(1 / size)]);
  } else {
    const attrs = { kernel_shape: kernel, strides: win.strides, pads: win.pads, count_include_pad: 1, ceil_mode: attrInt(node, 'ceil_mode', 0) };
    const fraction = e.op('AveragePool', [e.op('Expand', [e.scalar(1), e.shapeOf(node.input[0])])], attrs);
    g = e.op('Div', [g0(c), e.op('Mul', [fraction, e.scalar(size)])]);
  }
  return [windowAdjoint(c, g, ones, win, channels, true)];
};

/** GlobalAveragePool: g / (H*W) spread over the plane. */
const globalAveragePool: AdjointRule = (c) => {
  const { e } = c;
  const plane = c.shape(c.node.input[0]).slice(2).reduce((a, b) => a * b, 1);
  return [e.op('Expand', [e.op('Mul', [g0(c), e.scalar(1 / plane)]), e.shapeOf(c.node.input[0])])];
};

/** ReduceMean / ReduceSum: broadcast the gradient back over the reduced axes (divided by their size for the mean). */
function reduceRule(mean: boolean): AdjointRule {
  return (c) => {
    const { e, node } = c;
    const shape = c.shape(node.input[0]);
    const rank = shape.length;
    let axes = attrInts(node, 'axes');
    if (!axes && node.input[1]) axes = Array.from(needConst(c, 1, 'axes').values);
    if (!axes || axes.length === 0) {
      if (attrInt(node, 'noop_with_empty_axes', 0) === 1) return [g0(c)];
      axes = shape.map((_, i) => i);
    }
    axes = axes.map((a) => (a < 0 ? a + rank : a));
    if (axes.includes(0)) throw unsupported(node, 'reduces over the batch axis');
    let g = g0(c);
    if (attrInt(node, 'keepdims', 1) === 0) g = e.op('Unsqueeze', [g, e.i64(axes)]);
    if (mean) g = e.op('Mul', [g, e.scalar(1 / axes.reduce((a, i) => a * shape[i], 1))]);
    return [e.op('Expand', [g, e.shapeOf(node.input[0])])];
  };
}

/** Inference BatchNormalization is a per-channel affine map: dx = g * scale / sqrt(var + eps). */
const batchNorm: AdjointRule = (c) => {
  const { e, node } = c;
  if (attrInt(node, 'training_mode', 0) === 1) throw unsupported(node, 'runs in training mode');
  if (c.needs.slice(1).some(Boolean)) throw unsupported(node, 'has parameters computed from the input');
  const scale = needConst(c, 1, 'scale').values;
  const variance = needConst(c, 4, 'variance').values;
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const rank = c.shape(node.input[0]).length;
  const k = Array.from(scale, (s, i) => s / Math.sqrt(variance[i] + eps));
  return [e.op('Mul', [g0(c), e.f32(k, [k.length, ...new Array<number>(rank - 2).fill(1)])])];
};

export const SPATIAL_RULES: Record<string, AdjointRule> = {
  Conv: conv, MaxPool: maxPool, AveragePool: averagePool, GlobalAveragePool: globalAveragePool,
  ReduceMean: reduceRule(true), ReduceSum: reduceRule(false), BatchNormalization: batchNorm,
};
