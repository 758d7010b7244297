// What an adjoint rule sees and returns. A rule maps the gradients of a node's outputs to the gradients of
// its inputs (vector-Jacobian product), emitting ONNX nodes; one rule per op, each small and tested alone.
import { SaliencyError } from '../../types.ts';
import { attr, type OnnxNode } from '../onnx-graph.ts';
import type { Emitter } from './emitter.ts';

export interface ConstValue { values: Float64Array; dims: number[] }

export interface RuleContext {
  e: Emitter;
  node: OnnxNode;
  /** The gradient flowing into each output; undefined where no gradient reaches it. */
  gy: (string | undefined)[];
  /** Which inputs need a gradient (the others may be constants or non-differentiable). */
  needs: boolean[];
  /** The static shape of a tensor, probed at batch 2 (dimension 0 is the batch). */
  shape(name: string): number[];
  /** The value of a constant input (initializer or Constant node), or undefined. */
  constant(name: string): ConstValue | undefined;
}

/** Returns one gradient tensor name per input (undefined where the input needs none). */
export type AdjointRule = (c: RuleContext) => (string | undefined)[];

export function label(node: OnnxNode): string {
  return `${node.op_type} (node "${node.name || node.output[0]}")`;
}

export function unsupported(node: OnnxNode, why: string): SaliencyError {
  return new SaliencyError(`gradients: ${label(node)} ${why}`, 'NO_GRADIENT');
}

export function attrString(node: OnnxNode, name: string, fallback: string): string {
  const s = attr(node, name)?.s;
  return s && s.length ? new TextDecoder().decode(s) : fallback;
}

/** The first output's gradient (single-output ops are only visited when it exists). */
export const g0 = (c: RuleContext): string => c.gy[0]!;

/** A constant input the rule needs, or a clear error. */
export function needConst(c: RuleContext, index: number, what: string): ConstValue {
  const name = c.node.input[index];
  const v = name ? c.constant(name) : undefined;
  if (!v) throw unsupported(c.node, `needs a constant ${what} to be differentiated`);
  return v;
}
