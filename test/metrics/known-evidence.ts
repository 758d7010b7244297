// A small linear classifier whose evidence is known exactly, built as an ONNX graph in memory:
// one 32x32 convolution over the whole (unit-scaled) image, so
//   logit_0 = sum over the evidence box of red/255 * W   (other pixels have weight 0)
//   logit_1 = sum over the image of green/255 * W'
// The true evidence of class 0 for a pixel (against a black baseline) is W * red/255 inside the box, 0 outside.
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { DataType, encodeModel, type OnnxModel } from '../../src-main/engine/model/onnx-graph.ts';
import type { PreparedImage } from '../../src-main/engine/explain/types.ts';
import type { Map2D, PlanarImage } from '../../src-main/engine/types.ts';
import { Random } from '../../src-main/engine/util/random.ts';
import { identityTransform } from '../helpers/prepared.ts';

export const SIZE = 32;
/** [x0, y0, x1, y1) */
export const BOX: [number, number, number, number] = [8, 12, 20, 24];
const W_BOX = 8 / ((BOX[2] - BOX[0]) * (BOX[3] - BOX[1]));
const W_GREEN = 4 / (SIZE * SIZE);

const floats = (values: Float32Array) => new Uint8Array(values.buffer.slice(0));
const inBox = (x: number, y: number) => x >= BOX[0] && x < BOX[2] && y >= BOX[1] && y < BOX[3];

export function knownEvidenceBytes(): Uint8Array {
  const plane = SIZE * SIZE;
  const w = new Float32Array(2 * 3 * plane);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) {
    if (inBox(x, y)) w[0 * 3 * plane + 0 * plane + y * SIZE + x] = W_BOX; // class 0, red
    w[1 * 3 * plane + 1 * plane + y * SIZE + x] = W_GREEN; // class 1, green
  }
  const shape = (dims: (number | string)[]) => ({ tensor_type: { elem_type: DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) } } });
  const model: OnnxModel = {
    ir_version: 7, producer_name: 'saliency-studio-tests', opset_import: [{ domain: '', version: 13 }],
    metadata_props: [{ key: 'saliency.preset', value: 'unit' }, { key: 'saliency.resize', value: 'direct' }],
    graph: {
      name: 'known-evidence',
      node: [
        { op_type: 'Conv', input: ['x', 'W', 'B'], output: ['y'], name: 'evidence' },
        { op_type: 'Flatten', input: ['y'], output: ['logits'], name: 'flatten' },
      ],
      initializer: [
        { name: 'W', dims: [2, 3, SIZE, SIZE], data_type: DataType.FLOAT, raw_data: floats(w) },
        { name: 'B', dims: [2], data_type: DataType.FLOAT, raw_data: floats(new Float32Array([0, 0])) },
      ],
      input: [{ name: 'x', type: shape(['N', 3, SIZE, SIZE]) }],
      output: [{ name: 'logits', type: shape(['N', 2]) }],
    },
  };
  return encodeModel(model);
}

export function loadKnownEvidence(): Promise<Classifier> {
  return Classifier.load({ bytes: knownEvidenceBytes(), name: 'known-evidence' }, { batchSize: 8 });
}

/** A textured test image: mid-grey noise everywhere, a bright varied red patch in the box. */
export function knownEvidenceImage(seed: number): PreparedImage {
  const r = new Random(seed);
  const plane = SIZE * SIZE;
  const data = new Float32Array(3 * plane);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) {
    const p = y * SIZE + x;
    data[p] = inBox(x, y) ? 60 + 195 * r.next() : 100 * r.next();
    data[plane + p] = 100 * r.next();
    data[2 * plane + p] = 100 * r.next();
  }
  const input: PlanarImage = { width: SIZE, height: SIZE, data };
  return {
    id: `known-evidence-${seed}`, input,
    transform: identityTransform(SIZE),
  };
}

/** The exact contribution of every pixel to logit_0 (against black). */
export function trueEvidence(image: PreparedImage): Map2D {
  const data = new Float32Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) if (inBox(x, y)) data[y * SIZE + x] = W_BOX * image.input.data[y * SIZE + x] / 255;
  return { width: SIZE, height: SIZE, data };
}

/** The logit_0 the model should give (for checking the graph). */
export function expectedLogit0(image: PreparedImage): number {
  return trueEvidence(image).data.reduce((a, b) => a + b, 0);
}
