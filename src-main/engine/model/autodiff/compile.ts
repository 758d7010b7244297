// The backward-graph compiler: from a float ONNX graph, the output to differentiate and the tensors to
// differentiate with respect to, one ONNX graph that returns the forward output, those tensors and their
// gradients (reverse-mode accumulation, one adjoint rule per op).
//
// The cotangent on the output comes in as two graph inputs of shape [batch, M] (M = output size per example):
// `seed_logit`, applied to the output itself, and `seed_probability`, applied to softmax(output) and carried
// back through the softmax inside the graph. A one-hot row in either asks for the gradient of that class's
// logit or probability, per batch element (classes may differ between elements).
import { SaliencyError } from '../../types.ts';
import { GraphIndex, tensorDims, tensorValues, type OnnxModel, type OnnxNode } from '../onnx-graph.ts';
import { Emitter } from './emitter.ts';
import { label, type AdjointRule, type ConstValue } from './rule-types.ts';
import { ELEMENTWISE_RULES } from './rules-elementwise.ts';
import { SHAPE_RULES } from './rules-shape.ts';
import { SPATIAL_RULES } from './rules-spatial.ts';
import { LINEAR_RULES } from './rules-linear.ts';

export const RULES: Record<string, AdjointRule> = { ...ELEMENTWISE_RULES, ...SHAPE_RULES, ...SPATIAL_RULES, ...LINEAR_RULES };

/** Ops whose outputs carry no gradient (shapes, comparisons, indices): differentiation stops there. */
const NON_DIFFERENTIABLE = new Set(['Shape', 'Size', 'ConstantOfShape', 'ArgMax', 'ArgMin', 'Equal', 'Greater', 'Less',
  'GreaterOrEqual', 'LessOrEqual', 'Not', 'And', 'Or', 'NonZero', 'Range', 'EyeLike']);
const QUANTIZED = /^(QLinear|QuantizeLinear|DequantizeLinear|DynamicQuantize|ConvInteger|MatMulInteger|QGemm|QAttention)/;

export const SEED_LOGIT = 'saliency/seed_logit';
export const SEED_PROBABILITY = 'saliency/seed_probability';
export const OUTPUT_FLAT = 'saliency/output';
export const gradName = (t: string) => `saliency/grad/${t}`;

export interface GradientPlan {
  /** The forward graph pruned to what the output needs (modified in place by the compiler). */
  model: OnnxModel;
  input: string;
  output: string;
  wrt: string[];
  /** Tensors on the differentiated path: their shapes must be probed before emitting. */
  path: string[];
  nodes: OnnxNode[];
  needs: Set<string>;
}

/**
 * Prunes the graph to the output's ancestors and finds the differentiated path from `wrt` to `output`.
 * Throws one clear error naming the op and node for a quantized or unsupported op on the path.
 */
export function planGradient(model: OnnxModel, input: string, output: string, wrt: string[], modelLabel: string): GradientPlan {
  const g = new GraphIndex(model.graph);
  const keep = new Set<OnnxNode>();
  const stack = [output];
  const seen = new Set<string>();
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const p = g.producer.get(t);
    if (p && !keep.has(p)) { keep.add(p); stack.push(...p.input.filter(Boolean)); }
  }
  // A quantized op computing from the input: no gradient anywhere (before any question about the chosen tensors).
  const fromInput = new Set([input]);
  for (const n of model.graph.node) {
    if (!keep.has(n) || !n.input.some((i) => fromInput.has(i))) continue;
    if (QUANTIZED.test(n.op_type)) {
      throw new SaliencyError(`gradient methods need a float model: model ${modelLabel} is quantized (${label(n)} has no gradient); use a float32 export of the model`, 'NO_GRADIENT');
    }
    for (const o of n.output) fromInput.add(o);
  }
  for (const w of wrt) {
    if (w !== input && !g.producer.has(w)) throw new SaliencyError(`gradients: model ${modelLabel} has no tensor "${w}"`, 'BAD_SETTING');
    if (!seen.has(w)) throw new SaliencyError(`gradients: tensor "${w}" does not reach the output "${output}" of model ${modelLabel}`, 'BAD_SETTING');
  }
  const nodes = model.graph.node.filter((n) => keep.has(n));
  model.graph.node = nodes;
  const needs = new Set<string>(wrt);
  const pathNodes: OnnxNode[] = [];
  for (const n of nodes) {
    if (!n.input.some((i) => needs.has(i))) continue;
    if (NON_DIFFERENTIABLE.has(n.op_type)) continue;
    if ((n.domain && n.domain !== 'ai.onnx') || !RULES[n.op_type]) {
      throw new SaliencyError(`gradient methods cannot differentiate model ${modelLabel}: ${label(n)} has no gradient rule`, 'NO_GRADIENT');
    }
    for (const o of n.output) if (o) needs.add(o);
    pathNodes.push(n);
  }
  if (!needs.has(output)) throw new SaliencyError(`gradients: the output "${output}" of model ${modelLabel} does not depend on ${wrt.join(', ')}`, 'BAD_SETTING');
  return { model, input, output, wrt, path: [...needs].filter((t) => t !== input), nodes: pathNodes, needs };
}

/** Emits the backward graph into plan.model given the probed static shapes (batch 2). */
export function emitBackward(plan: GradientPlan, shapes: Map<string, number[]>, outputSize: number): OnnxModel {
  const { model, output, needs } = plan;
  const graph = model.graph;
  const g = new GraphIndex(graph);
  const taken = new Set<string>([...graph.node.flatMap((n) => [...n.input, ...n.output]), ...(graph.initializer ?? []).map((t) => t.name ?? '')]);
  const e = new Emitter(taken);
  const constCache = new Map<string, ConstValue | undefined>();
  const constant = (name: string): ConstValue | undefined => {
    if (!constCache.has(name)) {
      const t = g.constant(name);
      constCache.set(name, t ? { values: tensorValues(t), dims: tensorDims(t) } : undefined);
    }
    return constCache.get(name);
  };
  const shape = (name: string): number[] => {
    const s = shapes.get(name) ?? constant(name)?.dims;
    if (!s) throw new SaliencyError(`gradients: the shape of tensor "${name}" is unknown`, 'NO_GRADIENT');
    return s;
  };

  // Cotangent on the output: seed_logit + the softmax VJP of seed_probability, reshaped to the output.
  const flat = e.op('Reshape', [output, e.i64([0, -1])]);
  const p = e.op('Softmax', [flat], { axis: -1 });
  const sp = e.op('Mul', [e.op('Identity', [SEED_PROBABILITY]), p]);
  const vjp = e.op('Sub', [sp, e.op('Mul', [p, e.reduceSum(sp, [1], true)])]);
  const grads = new Map<string, string[]>([[output, [e.reshapeLike(e.op('Add', [SEED_LOGIT, vjp]), output)]]]);
  const total = (t: string): string | undefined => {
    const list = grads.get(t);
    if (!list || list.length === 0) return undefined;
    if (list.length > 1) grads.set(t, [e.op('Sum', list)]);
    return grads.get(t)![0];
  };

  for (let k = plan.nodes.length - 1; k >= 0; k--) {
    const node = plan.nodes[k];
    const gy = node.output.map((o) => (o ? total(o) : undefined));
    if (gy.every((x) => x === undefined)) continue;
    const needsIn = node.input.map((i) => !!i && needs.has(i));
    const gx = RULES[node.op_type]({ e, node, gy, needs: needsIn, shape, constant });
    node.input.forEach((i, j) => {
      if (!needsIn[j] || !gx[j]) return;
      const list = grads.get(i) ?? [];
      list.push(gx[j]!);
      grads.set(i, list);
    });
  }

  const outputs = [{ name: OUTPUT_FLAT, from: flat }];
  for (const w of plan.wrt) {
    const gw = total(w);
    if (!gw) throw new SaliencyError(`gradients: no gradient reaches "${w}"`, 'NO_GRADIENT');
    outputs.push({ name: gradName(w), from: gw });
  }
  for (const o of outputs) e.nodes.push({ op_type: 'Identity', name: `${o.name}_node`, input: [o.from], output: [o.name] });
  graph.node.push(...e.nodes);
  graph.initializer = [...(graph.initializer ?? []), ...e.initializers];
  const f32 = (name: string, dims: (number | string)[]) => ({
    name, type: { tensor_type: { elem_type: 1, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  });
  graph.input = [...(graph.input ?? []).filter((i) => i.name === plan.input), f32(SEED_LOGIT, ['batch', outputSize]), f32(SEED_PROBABILITY, ['batch', outputSize])];
  graph.output = [
    ...outputs.map((o) => ({ name: o.name, type: { tensor_type: { elem_type: 1 } } })),
    ...plan.wrt.filter((w) => w !== plan.input).map((w) => ({ name: w, type: { tensor_type: { elem_type: 1 } } })),
  ];
  graph.value_info = [];
  return model;
}
