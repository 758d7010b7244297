// Naming a layer to differentiate: 'auto' (the block before the global average pooling), an exact tensor name,
// or a block name (e.g. Mixed_6e, fire9): the last tensor computed inside that block, as exporters name nodes
// "/Mixed_6e/..." (torch) or "fire9/..." (caffe2).
import type { Classifier } from '../classifier.ts';
import { SaliencyError } from '../../types.ts';
import { decodeModel, type OnnxModel } from '../onnx-graph.ts';
import { modelBytes } from './gradient-scheduler.ts';

/** The decoded graph of the last model asked about (layer names are resolved once per explanation). */
let last: { sha256: string; model: OnnxModel } | undefined;

export function modelGraph(model: Classifier): OnnxModel {
  const { sha256, name } = model.info;
  if (last?.sha256 !== sha256) last = { sha256, model: decodeModel(modelBytes(model), name) };
  return last.model;
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
