// A tiny ONNX classifier with a CAM-style head whose evidence is known by construction:
//   redness = ReLU(R - (G+B)/2 - 0.1), greenness = ReLU(G - (R+B)/2 - 0.1) per pixel (unit preset, 0..1),
//   8x8 average pooling -> feature block [2, S/8, S/8] -> global average pool -> Gemm (logit 0 = 100 x mean
//   redness, logit 1 = 100 x mean greenness).
// On a grey picture with one red and one green square, class 0's evidence is the red square, class 1's the green
// one. Built with the engine's protobufjs schema, so CAM methods (feature block + linear head) apply too.
import { ModelProtoType, DataType } from '../../src-main/engine/model/onnx-schema.ts';
import type { PlanarImage } from '../../src-main/engine/types.ts';

export interface Box { x0: number; y0: number; x1: number; y1: number }

export const SIZE = 64;
export const RED: Box = { x0: 8, y0: 40, x1: 24, y1: 56 };
export const GREEN: Box = { x0: 40, y0: 8, x1: 56, y1: 24 };

export function gapEvidenceModelBytes(size = SIZE): Uint8Array {
  const dim = (d: number | string) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d });
  const tensorType = (dims: (number | string)[]) => ({ tensor_type: { elem_type: DataType.FLOAT, shape: { dim: dims.map(dim) } } });
  const floats = (name: string, dims: number[], values: number[]) => ({ name, data_type: DataType.FLOAT, dims, float_data: values });
  const ints = (name: string, values: number[]) => ({ name, type: 7, ints: values });
  return ModelProtoType.encode(ModelProtoType.fromObject({
    ir_version: 7,
    producer_name: 'saliency-studio-test',
    opset_import: [{ domain: '', version: 13 }],
    metadata_props: [{ key: 'saliency.preset', value: 'unit' }],
    graph: {
      name: 'gap-evidence',
      input: [{ name: 'image', type: tensorType(['batch', 3, size, size]) }],
      output: [{ name: 'logits', type: tensorType(['batch', 2]) }],
      initializer: [
        floats('Wc', [2, 3, 1, 1], [1, -0.5, -0.5, -0.5, 1, -0.5]),
        floats('bc', [2], [-0.1, -0.1]),
        floats('Wg', [2, 2], [100, 0, 0, 100]),
        floats('bg', [2], [0, 0]),
      ],
      node: [
        { op_type: 'Conv', input: ['image', 'Wc', 'bc'], output: ['colour'], name: 'colour', attribute: [ints('kernel_shape', [1, 1])] },
        { op_type: 'Relu', input: ['colour'], output: ['colour_relu'], name: 'relu' },
        { op_type: 'AveragePool', input: ['colour_relu'], output: ['features'], name: 'pool8', attribute: [ints('kernel_shape', [8, 8]), ints('strides', [8, 8])] },
        { op_type: 'GlobalAveragePool', input: ['features'], output: ['gap'], name: 'gap' },
        { op_type: 'Flatten', input: ['gap'], output: ['flat'], name: 'flatten', attribute: [{ name: 'axis', type: 2, i: 1 }] },
        { op_type: 'Gemm', input: ['flat', 'Wg', 'bg'], output: ['logits'], name: 'fc', attribute: [{ name: 'transB', type: 2, i: 1 }] },
      ],
    },
  })).finish();
}

/** Grey background with a red square (RED) and a green square (GREEN). */
export function twoSquaresImage(size = SIZE): PlanarImage {
  const plane = size * size;
  const data = new Float32Array(3 * plane).fill(128);
  const paint = (b: Box, rgb: [number, number, number]) => {
    for (let y = b.y0; y < b.y1; y++) for (let x = b.x0; x < b.x1; x++) for (let c = 0; c < 3; c++) data[c * plane + y * size + x] = rgb[c];
  };
  paint(RED, [220, 30, 30]);
  paint(GREEN, [30, 220, 30]);
  return { width: size, height: size, data };
}

export const inBox = (b: Box, x: number, y: number) => x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1;
