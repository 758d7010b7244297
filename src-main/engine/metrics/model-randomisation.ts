// Sanity check by cascading model randomisation (Adebayo et al. 2018): re-initialise the weights of the head,
// then of successive blocks going down, in a copy of the graph; re-run the explainer on each randomised model
// and compare its map with the original by Spearman rank correlation. A map that depends on what the model
// learned decorrelates as layers are randomised. Value: the mean correlation over the cascade (lower is better);
// the curve keeps the correlation after each step, labelled with the blocks randomised so far.
import { readFileSync } from 'node:fs';
import { Classifier } from '../model/classifier.ts';
import {
  DataType, GraphIndex, decodeModel, encodeModel, tensorDims, tensorValues, type OnnxModel, type OnnxNode, type OnnxTensor,
} from '../model/onnx-graph.ts';
import { floatToHalf } from '../model/half.ts';
import { SaliencyError } from '../types.ts';
import { defineMetric, intSetting } from './define.ts';
import { spearman } from './rank.ts';
import { Random } from '../util/random.ts';
import { registerModelBytes } from '../model/autodiff/gradient-scheduler.ts';

/** Which inputs of a parametrised op hold learned weights (not scales, zero points or shapes). */
const WEIGHT_INPUTS: Record<string, number[]> = {
  Conv: [1, 2], ConvTranspose: [1, 2], Gemm: [0, 1, 2], MatMul: [0, 1], Add: [0, 1],
  QLinearConv: [3, 8], QLinearMatMul: [0, 3], QLinearAdd: [0, 3],
};
const WEIGHT_TYPES = new Set<number>([DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE, DataType.INT8, DataType.UINT8]);

export interface ParamBlock { name: string; tensors: OnnxTensor[] }

/** The learned constant behind a node input: an initializer, possibly behind DequantizeLinear/Identity/Transpose. */
function weightTensor(g: GraphIndex, name: string): OnnxTensor | undefined {
  for (let depth = 0; depth < 4 && name; depth++) {
    const t = g.initializers.get(name);
    if (t) return WEIGHT_TYPES.has(t.data_type ?? 0) && tensorDims(t).reduce((a, b) => a * b, 1) > 1 ? t : undefined;
    const p = g.producer.get(name);
    if (!p || !['DequantizeLinear', 'Identity', 'Transpose'].includes(p.op_type)) return undefined;
    name = p.input[0];
  }
  return undefined;
}

function blockKey(node: OnnxNode, tensors: OnnxTensor[]): string {
  for (const name of [node.name ?? '', tensors[0]?.name ?? '']) {
    if (name.includes('/')) return name.split('/').filter(Boolean)[0];
  }
  return node.name || tensors[0]?.name || node.output[0];
}

/** Parametrised blocks from the output down (the head first). A bias Add joins the layer that feeds it. */
export function parameterBlocks(model: OnnxModel): ParamBlock[] {
  const g = new GraphIndex(model.graph);
  const keyOfNode = new Map<OnnxNode, string>();
  const blocks = new Map<string, { tensors: Set<OnnxTensor>; last: number }>();
  model.graph.node.forEach((node, at) => {
    const inputs = WEIGHT_INPUTS[node.op_type];
    if (!inputs) return;
    const tensors = inputs.map((i) => weightTensor(g, node.input[i])).filter((t): t is OnnxTensor => !!t);
    if (tensors.length === 0) return;
    let key = blockKey(node, tensors);
    if (node.op_type === 'Add' || node.op_type === 'QLinearAdd') {
      let src = node.input.find((i, k) => inputs.includes(k) && !weightTensor(g, i));
      for (let d = 0; d < 3 && src; d++) {
        const p = g.producer.get(src);
        if (!p) break;
        if (keyOfNode.has(p)) { key = keyOfNode.get(p)!; break; }
        src = p.input[0];
      }
    }
    keyOfNode.set(node, key);
    const b = blocks.get(key) ?? { tensors: new Set<OnnxTensor>(), last: -1 };
    tensors.forEach((t) => b.tensors.add(t));
    b.last = at;
    blocks.set(key, b);
  });
  return [...blocks.entries()].sort((a, b) => b[1].last - a[1].last).map(([name, b]) => ({ name, tensors: [...b.tensors] }));
}

/** Re-initialises a weight tensor in place: floats ~ N(mean, std) of the original; ints ~ U[min, max]. */
export function randomiseTensor(t: OnnxTensor, random: Random): void {
  const v = tensorValues(t);
  const n = v.length;
  const type = t.data_type ?? 0;
  let mean = 0, min = Infinity, max = -Infinity;
  for (const x of v) { mean += x; min = Math.min(min, x); max = Math.max(max, x); }
  mean /= n;
  let variance = 0;
  for (const x of v) variance += (x - mean) ** 2;
  const std = Math.sqrt(variance / n) || 1e-3;
  let raw: Uint8Array;
  if (type === DataType.INT8 || type === DataType.UINT8) {
    raw = new Uint8Array(n);
    const dv = new DataView(raw.buffer);
    for (let i = 0; i < n; i++) {
      const r = Math.round(min + random.next() * (max - min));
      if (type === DataType.INT8) dv.setInt8(i, r); else dv.setUint8(i, r);
    }
  } else {
    const size = type === DataType.DOUBLE ? 8 : type === DataType.FLOAT16 ? 2 : 4;
    raw = new Uint8Array(n * size);
    const dv = new DataView(raw.buffer);
    for (let i = 0; i < n; i++) {
      const r = mean + std * random.normal();
      if (type === DataType.DOUBLE) dv.setFloat64(i * 8, r, true);
      else if (type === DataType.FLOAT16) dv.setUint16(i * 2, floatToHalf(r), true);
      else dv.setFloat32(i * 4, r, true);
    }
  }
  // A new buffer: the decoded raw_data may be a view of the original file's bytes.
  t.raw_data = raw;
  t.float_data = [];
  t.int32_data = [];
  t.double_data = [];
}

export type RandomisationSettings = { steps: number };

export const modelRandomisation = defineMetric<RandomisationSettings>({
  name: 'model-randomisation',
  description: 'Model-randomisation sanity check (Adebayo et al.): Spearman correlation between the map and the maps of models with the head, then successive blocks, re-initialised (cascading); value = mean over steps. Lower is better.',
  tags: { higherIsBetter: false, category: 'randomisation', needs: { model: true, annotations: false, explainerReruns: true, referenceMap: false } },
  settings: (p) => ({ steps: intSetting(p.steps, 0, 'steps', 0) }),
  async run(input, map, s, seed) {
    const model = input.model!;
    const bytes = input.modelBytes ?? (model.info.path ? readFileSync(model.info.path) : undefined);
    if (!bytes) throw new SaliencyError('model-randomisation needs the model file (the model was not loaded from a path; pass modelBytes)', 'BAD_INPUT');
    const graph = decodeModel(bytes, `model ${model.info.name}`);
    const blocks = parameterBlocks(graph);
    if (blocks.length === 0) throw new SaliencyError(`model ${model.info.name}: no learned weights found to randomise`, 'BAD_MODEL');
    const steps = s.steps === 0 ? blocks.length : Math.min(s.steps, blocks.length);
    const { explainer, settings, seed: explainerSeed } = input.explainer!;
    const y: number[] = [];
    const labels: string[] = [];
    for (let k = 0; k < steps; k++) {
      blocks[k].tensors.forEach((t, j) => randomiseTensor(t, Random.derive(seed, `randomise-${blocks[k].name}-${j}`)));
      const randomisedBytes = encodeModel(graph);
      const randomised = await Classifier.load({ bytes: randomisedBytes, name: `${model.info.name} (randomised down to ${blocks[k].name})` }, {
        preset: model.info.preset.name, resize: model.info.resize, batchSize: model.info.batch.size,
      });
      registerModelBytes(randomised, randomisedBytes); // gradient methods compile the randomised model's backward graph
      try {
        const e = await explainer.explain(input.image, input.target, settings, explainerSeed, { model: randomised, signal: input.signal });
        y.push(spearman(map, e.map));
      } finally {
        await randomised.dispose();
      }
      labels.push(blocks[k].name);
      input.onProgress?.((k + 1) / steps);
    }
    return {
      value: y.reduce((a, b) => a + b, 0) / y.length,
      curve: { x: y.map((_, i) => i + 1), y, xLabel: 'blocks randomised (cascading from the head)', yLabel: 'Spearman correlation with the original map' },
      extras: { blocks: labels, totalBlocks: blocks.length },
    };
  },
});
