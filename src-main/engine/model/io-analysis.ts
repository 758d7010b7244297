// Reads a classifier's input and output contract from its graph: layout, size, batch, channels, classes.
import type { Layout } from '../types.ts';
import { SaliencyError } from '../types.ts';
import { GraphIndex, valueShape, toNum, type OnnxValueInfo, DataType } from './onnx-graph.ts';

/** Input sizes an image classifier can have (a 100000x100000 input is a mistake, not a model to run). */
export const MIN_INPUT_SIDE = 8;
export const MAX_INPUT_SIDE = 4096;

export interface InputContract {
  name: string;
  layout: Layout;
  width: number;
  height: number;
  channels: 1 | 3;
  /** Fixed batch size from the graph, or null when the batch dimension is dynamic. */
  fixedBatch: number | null;
  elemType: number;
}

export interface OutputContract {
  name: string;
  numClasses: number;
  elemType: number;
}

export function readInput(g: GraphIndex, label: string): InputContract {
  const inputs = g.realInputs();
  const describe = (v: OnnxValueInfo) => `${v.name}${JSON.stringify(valueShape(v) ?? '?')}`;
  const image = inputs.find((v) => {
    const s = valueShape(v);
    return s && s.length === 4 && (s[1] === 1 || s[1] === 3 || s[3] === 1 || s[3] === 3);
  });
  if (!image) {
    throw new SaliencyError(
      `${label}: no image input found; an image classifier needs a 4-D input [N,C,H,W] or [N,H,W,C] with 1 or 3 ` +
      `channels (inputs: ${inputs.map(describe).join(', ') || 'none'})`, 'NO_IMAGE_INPUT');
  }
  if (inputs.length > 1) {
    throw new SaliencyError(`${label}: the model has ${inputs.length} inputs (${inputs.map(describe).join(', ')}); only single-input classifiers are supported`, 'NO_IMAGE_INPUT');
  }
  const s = valueShape(image)!;
  const elemType = image.type?.tensor_type?.elem_type ?? 0;
  if (elemType !== DataType.FLOAT && elemType !== DataType.FLOAT16) {
    throw new SaliencyError(`${label}: input "${image.name}" has element type ${elemType}; float32 or float16 expected`, 'NO_IMAGE_INPUT');
  }
  // Channels-first unless the last axis looks like channels and the second does not.
  const nhwc = (s[3] === 1 || s[3] === 3) && !(s[1] === 1 || s[1] === 3);
  const [h, w] = nhwc ? [s[1], s[2]] : [s[2], s[3]];
  if (h <= 0 || w <= 0) {
    throw new SaliencyError(`${label}: input "${image.name}" has a dynamic spatial size ${JSON.stringify(s)}; a fixed size is required`, 'NO_IMAGE_INPUT');
  }
  if (h > MAX_INPUT_SIDE || w > MAX_INPUT_SIDE || h < MIN_INPUT_SIDE || w < MIN_INPUT_SIDE) {
    throw new SaliencyError(
      `${label}: input "${image.name}" is ${w}x${h}; an image classifier's input must be ${MIN_INPUT_SIDE} to ${MAX_INPUT_SIDE} pixels a side`, 'NO_IMAGE_INPUT');
  }
  const dim0 = image.type?.tensor_type?.shape?.dim?.[0];
  const fixed = dim0?.dim_value != null && toNum(dim0.dim_value) > 0 ? toNum(dim0.dim_value) : null;
  return {
    name: image.name, layout: nhwc ? 'NHWC' : 'NCHW', width: w, height: h,
    channels: (nhwc ? s[3] : s[1]) as 1 | 3, fixedBatch: fixed, elemType,
  };
}

export function readOutput(g: GraphIndex, label: string): OutputContract {
  const out = g.graph.output?.[0];
  if (!out) throw new SaliencyError(`${label}: the model has no outputs`, 'BAD_MODEL');
  const s = valueShape(out);
  const elemType = out.type?.tensor_type?.elem_type ?? 0;
  // Class scores are [N,K] or [N,K,1,1] (a 1x1 spatial map, as SqueezeNet's); anything spatial (e.g. [N,2,32,32],
  // a segmentation map) is not a classifier, whatever the product of its dimensions.
  const classes = s && (s.length === 2 || (s.length === 4 && s[2] === 1 && s[3] === 1)) ? s[1] : 0;
  if (!s || !(classes >= 2)) {
    throw new SaliencyError(
      `${label}: output "${out.name}" ${JSON.stringify(s ?? '?')} is not a class-score vector; a classifier's first output must be ` +
      `[N,K] or [N,K,1,1] with K >= 2 classes`, 'BAD_MODEL');
  }
  return { name: out.name, numClasses: classes, elemType };
}
