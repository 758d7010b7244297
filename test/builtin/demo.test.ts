// The built-in demo classifier: ONNX Runtime reproduces the TensorFlow.js outputs recorded by the training
// script, reaches >= 97% on the held-out MNIST test split, and runs through the app's image pipeline.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { builtinSamplesDir, resolveModelSpec } from '../../src-main/engine/model/builtin.ts';
import { decodeModel, metadata } from '../../src-main/engine/model/onnx-graph.ts';
import { prepareImageFile } from '../../src-main/engine/image/prepare.ts';
import { GradCam } from '../../src-main/engine/explain/cam/gradcam.ts';
import { argmax } from '../../src-main/engine/util/math.ts';
import { loadMnistSplit, digitAsPlanar } from '../../scripts/mnist-split.ts';

interface Reference {
  testAccuracy: number; modelSha256: string;
  reference: { testIndex: number; digit: number; logits: number[] }[];
}

describe('builtin:demo', () => {
  const file = resolveModelSpec('builtin:demo');
  const ref = JSON.parse(readFileSync(path.join(path.dirname(file), 'reference-outputs.json'), 'utf8')) as Reference;
  const { test } = loadMnistSplit();
  let model: Classifier;
  beforeAll(async () => {
    model = await Classifier.load(file, { name: 'builtin:demo', batchSize: 256, threads: 1 });
  });
  afterAll(async () => { await model?.dispose(); });

  it('is a small NCHW model with a dynamic batch, a GAP -> Gemm head and the unit preset from its metadata', () => {
    expect(statSync(file).size).toBeLessThan(200 * 1024);
    expect(model.info.input).toMatchObject({ layout: 'NCHW', channels: 1, width: 28, height: 28, fixedBatch: null });
    expect(model.info.preset.name).toBe('unit');
    expect(model.info.presetReason).toMatch(/metadata/);
    expect(model.info.resize).toBe('direct');
    expect(model.info.outputKind).toBe('logits');
    expect(model.info.head).toMatchObject({ found: true, featureTensor: 'features' });
    expect(model.labels.map((l) => l.label)).toEqual(['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine']);
    const m = decodeModel(readFileSync(file), 'demo');
    expect(Number(metadata(m, 'training.test_accuracy'))).toBeGreaterThanOrEqual(0.97);
    expect(metadata(m, 'training.seed')).toMatch(/^\d+$/);
  });

  it('ONNX Runtime equals the recorded TensorFlow.js logits within 1e-4', async () => {
    expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(ref.modelSha256);
    expect(ref.reference.length).toBeGreaterThanOrEqual(8);
    const out = await model.predict(ref.reference.map((r) => digitAsPlanar(test, r.testIndex)));
    let worst = 0;
    ref.reference.forEach((r, i) => {
      expect(test.labels[r.testIndex]).toBe(r.digit);
      r.logits.forEach((v, k) => { worst = Math.max(worst, Math.abs(out.logits[i * 10 + k] - v)); });
    });
    console.log(`demo: max |ONNX Runtime - tfjs| over ${ref.reference.length} digits = ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-4);
  });

  it('reaches >= 97% on the MNIST test split with ONNX Runtime, as recorded', async () => {
    const all = Array.from({ length: test.n }, (_, i) => digitAsPlanar(test, i));
    const out = await model.predict(all, { features: true });
    let correct = 0;
    let headAgrees = 0;
    for (let i = 0; i < test.n; i++) {
      const top = argmax(out.logits, i * 10, 10);
      if (top === test.labels[i]) correct++;
      if (argmax(model.headLogits(out.features!, i)) === top) headAgrees++;
    }
    const accuracy = correct / test.n;
    console.log(`demo: ONNX Runtime test accuracy ${(100 * accuracy).toFixed(2)}% on ${test.n} digits`);
    expect(accuracy).toBeGreaterThanOrEqual(0.97);
    expect(Math.abs(accuracy - ref.testAccuracy)).toBeLessThanOrEqual(1 / test.n);
    expect(headAgrees).toBe(test.n);
  });

  it('classifies its bundled sample PNGs through the image pipeline, and Grad-CAM explains them', async () => {
    const dir = builtinSamplesDir('demo');
    const files = readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
    expect(files.length).toBeGreaterThanOrEqual(20);
    let correct = 0;
    const cam = new GradCam();
    for (const f of files) {
      const [index, digit] = path.basename(f, '.png').split('_').map(Number);
      expect(test.labels[index]).toBe(digit);
      const { prepared, original } = await prepareImageFile(path.join(dir, f), model);
      expect(original.width).toBe(112);
      const out = await model.predict([prepared.input]);
      if (argmax(out.logits) === digit) correct++;
      const e = await cam.explain(prepared, { classIndex: digit, score: 'logit' }, cam.settings({}), 0, { model });
      expect(e.native).toMatchObject({ width: 7, height: 7 });
      expect(Math.max(...e.map.data)).toBeGreaterThan(0);
    }
    console.log(`demo: ${correct}/${files.length} bundled samples classified correctly through the image pipeline`);
    expect(correct / files.length).toBeGreaterThanOrEqual(0.9);
  });
});
