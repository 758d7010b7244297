// A tiny ONNX classifier whose evidence is known by construction: logit 0 = 10 x the mean brightness (0..1)
// of one fixed square of the image, logit 1 = its negative. Built with the engine's protobufjs schema.
import { ModelProtoType, DataType } from '../../src-main/engine/model/onnx-schema.ts';
import type { PlanarImage } from '../../src-main/engine/types.ts';
import { Random } from '../../src-main/engine/util/random.ts';

export interface Square { x0: number; y0: number; x1: number; y1: number }

export function evidenceModelBytes(size: number, sq: Square): Uint8Array {
  const dim = (d: number | string) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d });
  const tensorType = (dims: (number | string)[]) => ({ tensor_type: { elem_type: DataType.FLOAT, shape: { dim: dims.map(dim) } } });
  const ints = (name: string, values: number[]) => ({ name, data_type: DataType.INT64, dims: [values.length], int64_data: values });
  const w = 10 / 3;
  return ModelProtoType.encode(ModelProtoType.fromObject({
    ir_version: 7,
    producer_name: 'saliency-studio-test',
    opset_import: [{ domain: '', version: 13 }],
    metadata_props: [{ key: 'saliency.preset', value: 'unit' }],
    graph: {
      name: 'evidence',
      input: [{ name: 'image', type: tensorType(['batch', 3, size, size]) }],
      output: [{ name: 'logits', type: tensorType(['batch', 2]) }],
      initializer: [
        ints('starts', [sq.y0, sq.x0]), ints('ends', [sq.y1, sq.x1]), ints('axes', [2, 3]),
        { name: 'W', data_type: DataType.FLOAT, dims: [3, 2], float_data: [w, -w, w, -w, w, -w] },
      ],
      node: [
        { op_type: 'Slice', input: ['image', 'starts', 'ends', 'axes'], output: ['crop'], name: 'crop' },
        { op_type: 'ReduceMean', input: ['crop'], output: ['avg'], name: 'avg', attribute: [{ name: 'axes', type: 7, ints: [2, 3] }, { name: 'keepdims', type: 2, i: 0 }] },
        { op_type: 'MatMul', input: ['avg', 'W'], output: ['logits'], name: 'head' },
      ],
    },
  })).finish();
}

/** A smooth, colourful, seeded test picture (so superpixels have structure to follow). */
export function texturedImage(size: number, seed: number): PlanarImage {
  const rng = new Random(seed);
  const plane = size * size;
  const data = new Float32Array(3 * plane);
  const waves = Array.from({ length: 9 }, () => ({ fx: rng.next() * 0.3, fy: rng.next() * 0.3, ph: rng.next() * 6.28, a: 40 + 40 * rng.next() }));
  for (let c = 0; c < 3; c++) for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    let v = 128;
    for (let k = c; k < 9; k += 3) { const wv = waves[k]; v += wv.a * Math.sin(wv.fx * x + wv.fy * y + wv.ph); }
    data[c * plane + y * size + x] = Math.min(255, Math.max(0, v));
  }
  return { width: size, height: size, data };
}
