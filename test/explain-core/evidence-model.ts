// A tiny ONNX classifier whose evidence is known by construction: logit 0 = 10 x the mean brightness (0..1)
// of one fixed square of the image, logit 1 = its negative. Built with the engine's OnnxBuilder.
import { OnnxBuilder } from '../../src-main/engine/model/onnx-builder.ts';
import type { PlanarImage } from '../../src-main/engine/types.ts';
import { Random } from '../../src-main/engine/util/random.ts';

export interface Square { x0: number; y0: number; x1: number; y1: number }

export function evidenceModelBytes(size: number, sq: Square): Uint8Array {
  const b = new OnnxBuilder({ producer: 'saliency-studio-test', graphName: 'evidence' });
  const w = 10 / 3;
  const image = b.input('image', ['batch', 3, size, size]);
  const crop = b.node('Slice', [image, b.int64Initializer('starts', [sq.y0, sq.x0]), b.int64Initializer('ends', [sq.y1, sq.x1]), b.int64Initializer('axes', [2, 3])]);
  const avg = b.node('ReduceMean', [crop], { axes: [2, 3], keepdims: 0 });
  b.node('MatMul', [avg, b.initializer('W', [w, -w, w, -w, w, -w], [3, 2])], {}, 'logits');
  b.output('logits', ['batch', 2]);
  b.metadata('saliency.preset', 'unit');
  return b.toBytes();
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
