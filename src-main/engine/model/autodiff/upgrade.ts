// Brings a model's default-domain opset up to the one the backward graph is written in (16: ScatterElements with
// reduction), rewriting the old forms of the ops whose attributes became inputs. Dropout becomes Identity (it is
// one at inference). Old-style broadcasting (the `axis` attribute of opset < 7 arithmetic) is refused.
import { SaliencyError } from '../../types.ts';
import { attr, attrInt, attrInts, toNum, type OnnxModel, type OnnxNode } from '../onnx-graph.ts';
import type { Emitter } from './emitter.ts';

export const GRAPH_OPSET = 16;

export function defaultOpset(model: OnnxModel): number {
  const d = model.opset_import?.find((o) => !o.domain || o.domain === 'ai.onnx');
  return d ? toNum(d.version) : 1;
}

const without = (node: OnnxNode, names: string[]) => { node.attribute = (node.attribute ?? []).filter((a) => !names.includes(a.name)); };

/** Rewrites `model` in place to opset max(16, its own); new constants and nodes go through `e`. */
export function upgradeOpset(model: OnnxModel, e: Emitter, consumed: (name: string) => boolean): void {
  const from = defaultOpset(model);
  const nodes: OnnxNode[] = [];
  for (const node of model.graph.node) {
    if (node.domain && node.domain !== 'ai.onnx') { nodes.push(node); continue; }
    const extra = node.output.slice(1).filter((o) => o && consumed(o));
    switch (node.op_type) {
      case 'Dropout':
        if (extra.length) throw new SaliencyError(`gradients: Dropout (node "${node.name}") has its mask used`, 'NO_GRADIENT');
        node.op_type = 'Identity';
        node.input = [node.input[0]];
        node.output = [node.output[0]];
        node.attribute = [];
        break;
      case 'BatchNormalization':
        if (extra.length) throw new SaliencyError(`gradients: BatchNormalization (node "${node.name}") runs in training mode`, 'NO_GRADIENT');
        node.output = [node.output[0]];
        without(node, ['spatial', 'is_test', 'consumed_inputs']);
        break;
      case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Gemm':
        if (from < 7 && attr(node, 'axis')) throw new SaliencyError(`gradients: ${node.op_type} (node "${node.name}") uses opset-${from} axis broadcasting`, 'NO_GRADIENT');
        without(node, ['broadcast', 'axis', 'consumed_inputs']);
        break;
      case 'Pad':
        if (from < 11) {
          const pads = attrInts(node, 'pads') ?? attrInts(node, 'paddings') ?? [];
          node.input = [node.input[0], e.i64(pads), e.scalar(attr(node, 'value')?.f ?? 0)];
          without(node, ['pads', 'paddings', 'value']);
        }
        break;
      case 'Slice':
        if (from < 10) {
          const starts = attrInts(node, 'starts') ?? [];
          const axes = attrInts(node, 'axes') ?? starts.map((_, i) => i);
          node.input = [node.input[0], e.i64(starts), e.i64(attrInts(node, 'ends') ?? []), e.i64(axes)];
          without(node, ['starts', 'ends', 'axes']);
        }
        break;
      case 'Squeeze': case 'Unsqueeze': case 'ReduceSum':
        if (from < 13 && attrInts(node, 'axes')) {
          node.input = [node.input[0], e.i64(attrInts(node, 'axes')!)];
          without(node, ['axes']);
        }
        break;
      case 'Split':
        if (from < 13 && attrInts(node, 'split')) {
          node.input = [node.input[0], e.i64(attrInts(node, 'split')!)];
          without(node, ['split']);
        }
        break;
      case 'Clip':
        if (from < 11) {
          const min = attr(node, 'min')?.f;
          const max = attr(node, 'max')?.f;
          node.input = [node.input[0], min != null ? e.scalar(min) : '', max != null ? e.scalar(max) : ''];
          without(node, ['min', 'max']);
        }
        break;
      case 'Softmax': case 'LogSoftmax':
        if (from < 13) {
          // Old semantics: softmax over the input flattened to 2-D at `axis`.
          const shape = e.shapeOf(node.input[0]);
          const flat = e.op('Flatten', [node.input[0]], { axis: attrInt(node, 'axis', 1) });
          const soft = e.op(node.op_type, [flat], { axis: -1 });
          nodes.push(...e.nodes.splice(0));
          nodes.push({ op_type: 'Reshape', name: `${node.name}_reshape`, input: [soft, shape], output: node.output });
          continue;
        }
        break;
      case 'Reshape':
        if (from < 5 && attrInts(node, 'shape')) {
          node.input = [node.input[0], e.i64(attrInts(node, 'shape')!)];
          without(node, ['shape']);
        }
        break;
      default:
        break;
    }
    // Constants made for this node come before it.
    nodes.push(...e.nodes.splice(0), node);
  }
  model.graph.node = nodes;
  const opset = Math.max(GRAPH_OPSET, from);
  model.opset_import = [...(model.opset_import ?? []).filter((o) => o.domain && o.domain !== 'ai.onnx'), { domain: '', version: opset }];
}
