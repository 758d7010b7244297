// Adjoints of element-wise ops (activations, broadcasting arithmetic) and Softmax.
import { attrFloat, attrInt } from '../onnx-graph.ts';
import { g0, needConst, type AdjointRule, type RuleContext } from './rule-types.ts';

/** g where cond holds, else 0. */
const gate = (c: RuleContext, cond: string) => c.e.op('Where', [cond, g0(c), c.e.scalar(0)]);

const relu: AdjointRule = (c) => [gate(c, c.e.op('Greater', [c.node.output[0], c.e.scalar(0)]))];

const leakyRelu: AdjointRule = (c) => {
  const a = attrFloat(c.node, 'alpha', 0.01);
  const { e } = c;
  return [e.op('Where', [e.op('Greater', [c.node.input[0], e.scalar(0)]), g0(c), e.op('Mul', [g0(c), e.scalar(a)])])];
};

/** Clip (ReLU6): the gradient passes where min <= x <= max. */
const clip: AdjointRule = (c) => {
  const { e, node } = c;
  const x = node.input[0];
  const conds: string[] = [];
  if (node.input[1]) conds.push(e.op('GreaterOrEqual', [x, e.scalar(needConst(c, 1, 'min').values[0])]));
  if (node.input[2]) conds.push(e.op('LessOrEqual', [x, e.scalar(needConst(c, 2, 'max').values[0])]));
  if (conds.length === 0) return [g0(c)];
  return [gate(c, conds.length === 2 ? e.op('And', conds) : conds[0])];
};

const sigmoid: AdjointRule = (c) => {
  const { e } = c;
  const y = c.node.output[0];
  return [e.op('Mul', [g0(c), e.op('Mul', [y, e.op('Sub', [e.scalar(1), y])])])];
};

const tanh: AdjointRule = (c) => {
  const { e } = c;
  const y = c.node.output[0];
  return [e.op('Mul', [g0(c), e.op('Sub', [e.scalar(1), e.op('Mul', [y, y])])])];
};

const identity: AdjointRule = (c) => [g0(c)];

/** Sum back over broadcast axes to input i's shape. */
const toInput = (c: RuleContext, i: number, g: string) => c.e.unbroadcast(g, c.shape(c.node.output[0]), c.shape(c.node.input[i]));

const add: AdjointRule = (c) => c.node.input.map((_, i) => (c.needs[i] ? toInput(c, i, g0(c)) : undefined));

const sub: AdjointRule = (c) => [
  c.needs[0] ? toInput(c, 0, g0(c)) : undefined,
  c.needs[1] ? toInput(c, 1, c.e.op('Neg', [g0(c)])) : undefined,
];

const mul: AdjointRule = (c) => {
  const [a, b] = c.node.input;
  return [
    c.needs[0] ? toInput(c, 0, c.e.op('Mul', [g0(c), b])) : undefined,
    c.needs[1] ? toInput(c, 1, c.e.op('Mul', [g0(c), a])) : undefined,
  ];
};

/** y = a / b: da = g / b, db = -g y / b. */
const div: AdjointRule = (c) => {
  const { e } = c;
  const [, b] = c.node.input;
  const ga = e.op('Div', [g0(c), b]);
  return [
    c.needs[0] ? toInput(c, 0, ga) : undefined,
    c.needs[1] ? toInput(c, 1, e.op('Neg', [e.op('Mul', [ga, c.node.output[0]])])) : undefined,
  ];
};

/** y = softmax(x) along axis: dx = y * (g - sum(g * y, axis)). Opset 13 semantics (older ones are rewritten). */
const softmax: AdjointRule = (c) => {
  const { e } = c;
  const y = c.node.output[0];
  const s = e.reduceSum(e.op('Mul', [g0(c), y]), [attrInt(c.node, 'axis', -1)], true);
  return [e.op('Mul', [y, e.op('Sub', [g0(c), s])])];
};

export const ELEMENTWISE_RULES: Record<string, AdjointRule> = {
  Relu: relu, LeakyRelu: leakyRelu, Clip: clip, Sigmoid: sigmoid, Tanh: tanh,
  Identity: identity, Dropout: identity,
  Add: add, Sum: add, Sub: sub, Mul: mul, Div: div, Softmax: softmax,
};
