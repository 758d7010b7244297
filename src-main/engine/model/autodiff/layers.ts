// Naming a layer to differentiate: 'auto' (the block before the global average pooling), an exact tensor name,
// or a block name (e.g. Mixed_6e, fire9): the last tensor computed inside that block, as exporters name nodes
// "/Mixed_6e/..." (torch) or "fire9/..." (caffe2).
import { readFileSync } from 'node:fs';
import type { Classifier } from '../classifier.ts';
import { SaliencyError } from '../../types.ts';
import { decodeModel, type OnnxModel } from '../onnx-graph.ts';

const graphs = new Map<string, OnnxModel>();

export function modelGraph(model: Classifier): OnnxModel {
  const { sha256, path, name } = model.info;
  let g = graphs.get(sha256);
  if (!g) {
    if (!path) throw new SaliencyError(`model ${name} was not loaded from a file`, 'NO_GRADIENT');
    g = decodeModel(readFileSync(path), name);
    graphs.set(sha256, g);
  }
  return g;
}

export function resolveLayer(model: Classifier, spec: string, setting = 'layer'): string {
  if (spec === 'auto') {
    if (!model.info.head.found) throw new SaliencyError(`${setting}=auto needs a global-average-pool head (${model.info.head.reason}); name a layer`, 'BAD_SETTING');
    return model.info.head.featureTensor;
  }
  const nodes = modelGraph(model).graph.node;
  if (nodes.some((n) => n.output.includes(spec))) return spec;
  const inBlock = nodes.filter((n) => [n.name ?? '', n.output[0]].some((s) => s.startsWith(`/${spec}/`) || s.startsWith(`${spec}/`)));
  const last = inBlock.filter((n) => n.op_type !== 'Identity' && n.op_type !== 'Dropout').pop();
  if (!last) throw new SaliencyError(`${setting} "${spec}": model ${model.info.name} has no tensor or block of that name`, 'BAD_SETTING');
  return last.output[0];
}
