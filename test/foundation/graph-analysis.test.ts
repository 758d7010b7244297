// Graph analysis on small models built here: Keras-style NHWC heads, heads that are not GAP -> linear, and
// fixed batch sizes that cannot be made dynamic.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { OnnxBuilder } from '../../src-main/engine/model/onnx-builder.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { GradCam } from '../../src-main/engine/explain/cam/gradcam.ts';
import { planTransform } from '../../src-main/engine/image/load-image.ts';
import { tempDir } from '../helpers/files.ts';
import type { PlanarImage } from '../../src-main/engine/types.ts';

const seeded = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5);
const save = (bytes: Uint8Array, name: string) => {
  const f = path.join(tempDir(), name);
  writeFileSync(f, bytes);
  return f;
};
const image = (w: number, h: number, seed = 1): PlanarImage => ({ width: w, height: h, data: Float32Array.from({ length: 3 * w * h }, (_, i) => 128 + 100 * Math.sin(i * 0.37 + seed)) });

describe('graph analysis', () => {
  it('a Keras-style NHWC model (ReduceMean over H,W -> MatMul -> Add -> Softmax) is understood', async () => {
    const b = new OnnxBuilder({ producer: 'tf2onnx', graphName: 'keras' });
    const x = b.input('input_1', ['N', 16, 16, 3]);
    const t = b.node('Transpose', [x], { perm: [0, 3, 1, 2] });
    const c = b.relu(b.conv(t, b.initializer('k', seeded(8 * 3 * 9, 1), [8, 3, 3, 3]), b.initializer('kb', seeded(8, 2), [8]), { kernel: [3, 3], pads: [1, 1, 1, 1] }));
    const nhwc = b.node('Transpose', [c], { perm: [0, 2, 3, 1] }, 'mixed10');
    const pooled = b.node('ReduceMean', [nhwc], { axes: [1, 2], keepdims: 0 });
    const logits = b.node('Add', [b.node('MatMul', [pooled, b.initializer('W', seeded(8 * 5, 3), [8, 5])]), b.initializer('bias', seeded(5, 4), [5])]);
    b.output(b.softmax(logits, 'predictions'), ['N', 5]);
    const m = await Classifier.load(save(b.toBytes(), 'keras.onnx'));
    expect(m.info.input).toMatchObject({ layout: 'NHWC', width: 16, height: 16, channels: 3, fixedBatch: null });
    expect(m.info.preset.name).toBe('inception');
    expect(m.info.outputKind).toBe('probabilities');
    expect(m.info.head.found && m.info.head.featureTensor).toBe('mixed10');
    const out = await m.predict([image(16, 16)], { features: true });
    expect(out.features!.dims).toEqual([1, 8, 16, 16]);
    const rebuilt = m.headLogits(out.features!, 0);
    for (let k = 0; k < 5; k++) expect(rebuilt[k]).toBeCloseTo(out.logits[k], 4);
    const sum = Array.from(out.probabilities).reduce((a, v) => a + v, 0);
    expect(sum).toBeCloseTo(1, 5);
  });

  it('a head without global average pooling gets a clear error naming what was found', async () => {
    const b = new OnnxBuilder({ producer: 'test', graphName: 'flat' });
    const x = b.input('x', ['N', 3, 8, 8]);
    const c = b.relu(b.conv(x, b.initializer('k', seeded(4 * 3 * 9, 1), [4, 3, 3, 3]), undefined, { kernel: [3, 3], pads: [1, 1, 1, 1] }));
    b.output(b.gemm(b.flatten(c), b.initializer('W', seeded(10 * 256, 2), [10, 256]), b.initializer('b', seeded(10, 3), [10]), 'y'), ['N', 10]);
    const m = await Classifier.load(save(b.toBytes(), 'flat.onnx'));
    expect(m.info.head.found).toBe(false);
    const out = await m.predict([image(8, 8)]);
    expect(out.logits.length).toBe(10);
    const cam = new GradCam();
    await expect(cam.explain({ id: 'x', input: image(8, 8), transform: planTransform(8, 8, 8, 8, 'direct') }, { classIndex: 0, score: 'logit' }, cam.settings({}), 0, { model: m }))
      .rejects.toThrow(/no global average pooling feeds the output.*Conv, Relu, Flatten, Gemm/);
  });

  it('a fixed batch of 1 is made dynamic where Reshapes allow it, and kept (with a message) where not', async () => {
    const build = (breakable: boolean) => {
      const b = new OnnxBuilder({ producer: 'test', graphName: 'fixed' });
      const x = b.input('x', [1, 3, 8, 8]);
      const c = b.relu(b.conv(x, b.initializer('k', seeded(4 * 3 * 9, 1), [4, 3, 3, 3]), undefined, { kernel: [3, 3], pads: [1, 1, 1, 1] }));
      const pooled = b.globalAveragePool(c);
      const flat = breakable
        // Flattening to 1-D first means the batch can no longer be recovered by a Reshape.
        ? b.node('Reshape', [b.node('Reshape', [pooled, b.int64Initializer('s1', [-1])]), b.int64Initializer('s2', [1, 4])])
        : b.node('Reshape', [pooled, b.int64Initializer('s', [1, 4])]);
      b.output(b.gemm(flat, b.initializer('W', seeded(6 * 4, 2), [6, 4]), b.initializer('b', seeded(6, 3), [6]), 'y'), [1, 6]);
      return b.toBytes();
    };
    const ok = await Classifier.load(save(build(false), 'ok.onnx'), { batchSize: 4 });
    expect(ok.info.batch).toMatchObject({ dynamic: true, size: 4 });
    expect(ok.info.batch.note).toMatch(/made dynamic/);
    const imgs = [1, 2, 3, 4, 5].map((s) => image(8, 8, s));
    const batched = await ok.predict(imgs);
    const single = await ok.predict([imgs[4]]);
    for (let k = 0; k < 6; k++) expect(batched.logits[4 * 6 + k]).toBeCloseTo(single.logits[k], 5);

    const kept = await Classifier.load(save(build(true), 'kept.onnx'), { batchSize: 4 });
    expect(kept.info.batch).toMatchObject({ dynamic: false, size: 1 });
    expect(kept.info.batch.note).toMatch(/fixed at 1 and could not be made dynamic/);
    const out = await kept.predict(imgs);
    expect(out.n).toBe(5);
    for (let k = 0; k < 6; k++) expect(out.logits[4 * 6 + k]).toBeCloseTo(single.logits[k], 5);
  });
});
