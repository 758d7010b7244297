// Adjoints of matrix products: Gemm (2-D, with transposes and alpha/beta) and MatMul (batched, broadcasting).
import { attrFloat, attrInt } from '../onnx-graph.ts';
import { float } from '../onnx-builder.ts';
import { g0, unsupported, type AdjointRule } from './rule-types.ts';

/**
 * Y = alpha * A' B' + beta * C with A' = transA ? A^T : A, B' = transB ? B^T : B.
 * dA' = alpha g B'^T and dB' = alpha A'^T g, each transposed back when the operand was; dC = beta g summed to C's shape.
 */
const gemm: AdjointRule = (c) => {
  const { e, node } = c;
  const [a, b, cc] = node.input;
  const alpha = float(attrFloat(node, 'alpha', 1));
  const ta = attrInt(node, 'transA', 0);
  const tb = attrInt(node, 'transB', 0);
  const g = g0(c);
  const da = !c.needs[0] ? undefined : ta
    ? e.op('Gemm', [b, g], { alpha, transA: tb, transB: 1 })
    : e.op('Gemm', [g, b], { alpha, transB: tb ? 0 : 1 });
  const db = !c.needs[1] ? undefined : tb
    ? e.op('Gemm', [g, a], { alpha, transA: 1, transB: ta })
    : e.op('Gemm', [a, g], { alpha, transA: ta ? 0 : 1 });
  let dc: string | undefined;
  if (cc && c.needs[2]) {
    dc = e.unbroadcast(e.op('Mul', [g, e.scalar(attrFloat(node, 'beta', 1))]), c.shape(node.output[0]), c.shape(cc));
  }
  return [da, db, dc];
};

/** Y = A B (batched over leading axes, broadcasting): dA = g B^T, dB = A^T g, summed to each operand's shape. */
const matMul: AdjointRule = (c) => {
  const { e, node } = c;
  const [a, b] = node.input;
  const sa = c.shape(a);
  const sb = c.shape(b);
  const sy = c.shape(node.output[0]);
  if (sa.length < 2 || sb.length < 2) throw unsupported(node, 'multiplies a vector; only matrix operands are differentiated');
  const swap = (rank: number) => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
  const g = g0(c);
  const da = c.needs[0] ? e.unbroadcast(e.op('MatMul', [g, e.op('Transpose', [b], { perm: swap(sb.length) })]), [...sy.slice(0, -2), ...sa.slice(-2)], sa) : undefined;
  const db = c.needs[1] ? e.unbroadcast(e.op('MatMul', [e.op('Transpose', [a], { perm: swap(sa.length) }), g]), [...sy.slice(0, -2), ...sb.slice(-2)], sb) : undefined;
  return [da, db];
};

export const LINEAR_RULES: Record<string, AdjointRule> = { Gemm: gemm, MatMul: matMul };
