// Adjoints of ops that move values without changing them: reshapes, transposes, concatenation, split, slice, pad.
import { attrInt, attrInts } from '../onnx-graph.ts';
import { attrString, g0, needConst, unsupported, type AdjointRule } from './rule-types.ts';

const norm = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/** Reshape, Flatten, Squeeze, Unsqueeze: the gradient takes the input's shape back. */
const reshapeBack: AdjointRule = (c) => [c.e.reshapeLike(g0(c), c.node.input[0])];

const transpose: AdjointRule = (c) => {
  const rank = c.shape(c.node.input[0]).length;
  const perm = attrInts(c.node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => { inverse[p] = i; });
  return [c.e.op('Transpose', [g0(c)], { perm: inverse })];
};

/** Concat: split the gradient into the inputs' sizes along the axis. */
const concat: AdjointRule = (c) => {
  const rank = c.shape(c.node.output[0]).length;
  const axis = norm(attrInt(c.node, 'axis', 0), rank);
  const sizes = c.node.input.map((x) => c.shape(x)[axis]);
  return c.e.ops('Split', [g0(c), c.e.i64(sizes)], { axis }, sizes.length);
};

/** Split: concatenate the outputs' gradients, zeros for outputs no gradient reaches. */
const split: AdjointRule = (c) => {
  const rank = c.shape(c.node.input[0]).length;
  const axis = norm(attrInt(c.node, 'axis', 0), rank);
  const parts = c.node.output.map((y, i) => c.gy[i] ?? c.e.zerosLike(y));
  return [c.e.op('Concat', parts, { axis })];
};

/** Slice with unit steps: pad the gradient back with zeros around the kept window. */
const slice: AdjointRule = (c) => {
  const shape = c.shape(c.node.input[0]);
  const rank = shape.length;
  const starts = needConst(c, 1, 'starts').values;
  const ends = needConst(c, 2, 'ends').values;
  const axes = c.node.input[3] ? needConst(c, 3, 'axes').values : starts.map((_, i) => i);
  const steps = c.node.input[4] ? needConst(c, 4, 'steps').values : starts.map(() => 1);
  const pads = new Array<number>(2 * rank).fill(0);
  axes.forEach((a0, i) => {
    const a = norm(a0, rank);
    if (steps[i] !== 1) throw unsupported(c.node, `has step ${steps[i]}; only unit steps are differentiated`);
    if (a === 0) throw unsupported(c.node, 'slices the batch axis');
    const d = shape[a];
    const clamp = (v: number) => Math.min(d, Math.max(0, v < 0 ? v + d : v));
    const b = clamp(starts[i]);
    const e = Math.max(b, clamp(ends[i]));
    pads[a] = b;
    pads[rank + a] = d - e;
  });
  return [c.e.op('Pad', [g0(c), c.e.i64(pads)])];
};

/** Constant-mode Pad: the gradient is the window that holds the input. */
const pad: AdjointRule = (c) => {
  if (attrString(c.node, 'mode', 'constant') !== 'constant') throw unsupported(c.node, `pads in "${attrString(c.node, 'mode', '')}" mode; only constant padding is differentiated`);
  const shape = c.shape(c.node.input[0]);
  const rank = shape.length;
  const p = Array.from(needConst(c, 1, 'pads').values);
  let axes = shape.map((_, i) => i);
  if (c.node.input[3]) axes = Array.from(needConst(c, 3, 'axes').values, (a) => norm(a, rank));
  const begins = new Array<number>(rank).fill(0);
  axes.forEach((a, i) => {
    begins[a] = p[i];
    if (p[i] < 0 || p[i + axes.length] < 0) throw unsupported(c.node, 'has negative pads');
  });
  const ends = begins.map((b, i) => b + shape[i]);
  // The batch dimension is dynamic: a huge end keeps all of it.
  ends[0] = Number.MAX_SAFE_INTEGER;
  return [c.e.op('Slice', [g0(c), c.e.i64(begins), c.e.i64(ends), c.e.i64(shape.map((_, i) => i))])];
};

export const SHAPE_RULES: Record<string, AdjointRule> = {
  Reshape: reshapeBack, Flatten: reshapeBack, Squeeze: reshapeBack, Unsqueeze: reshapeBack,
  Transpose: transpose, Concat: concat, Split: split, Slice: slice, Pad: pad,
};
