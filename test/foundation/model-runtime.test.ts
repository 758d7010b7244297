// The model runtime on the real models: reference agreement, head analysis, Grad-CAM = the model's own CAM.
import { describe, expect, it, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { HAS_DATA, DATA, MODELS, model, sample } from '../helpers/data.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { readImageFile, planTransform, toModelInput } from '../../src-main/engine/image/load-image.ts';
import { GradCam } from '../../src-main/engine/explain/cam/gradcam.ts';
import { argmax, minMaxNormalise } from '../../src-main/engine/util/math.ts';
import type { PlanarImage } from '../../src-main/engine/types.ts';

interface Ref { file: string; squeezenet: number; mobilenet: number; shufflenet: number }

describe.skipIf(!HAS_DATA)('model runtime on the real ImageNet models', () => {
  let refs: Ref[] = [];
  let inputs: PlanarImage[] = [];
  beforeAll(async () => {
    refs = readFileSync(model('reference_top1_predictions.csv'), 'utf8').trim().split('\n').slice(1).map((l) => {
      const [file, , s, m, sh] = l.split(',');
      return { file, squeezenet: Number(s), mobilenet: Number(m), shufflenet: Number(sh) };
    });
    // All three models take 224x224 centre crops: prepare each image once. The reference ignored EXIF
    // orientation (one sample has it), so this comparison does too.
    for (const r of refs) {
      const img = await readImageFile(sample(r.file), { orient: false });
      inputs.push(toModelInput(img, planTransform(img.width, img.height, 224, 224, 'crop')));
    }
  }, 300_000);

  for (const key of ['squeezenet', 'mobilenet', 'shufflenet'] as const) {
    it(`${key}: top-1 agrees with the reference on >= 97% of the 800 images, with automatic presets`, async () => {
      const m = await Classifier.load(model(MODELS[key]), { batchSize: 16 });
      const out = await m.predict(inputs, { features: true });
      let agree = 0;
      let headAgree = 0;
      let nearTies = 0;
      for (let i = 0; i < refs.length; i++) {
        const top = argmax(out.logits, i * 1000, 1000);
        if (top === refs[i][key]) agree++;
        const rebuilt = m.headLogits(out.features!, i);
        const rebuiltTop = argmax(rebuilt);
        if (rebuiltTop === top) headAgree++;
        // Quantized heads requantize (max error ~0.15 per the model notes): a flip needs a near tie.
        else if (Math.abs(out.logits[i * 1000 + top] - out.logits[i * 1000 + rebuiltTop]) < 0.3) nearTies++;
      }
      const rate = agree / refs.length;
      console.log(`${key}: preset ${m.info.preset.name}, agreement ${(100 * rate).toFixed(1)}%, head argmax ${headAgree}/${refs.length} (+${nearTies} near ties)`);
      expect(refs.length).toBe(800);
      expect(rate).toBeGreaterThanOrEqual(0.97);
      expect(headAgree + nearTies).toBe(refs.length);
      expect(headAgree / refs.length).toBeGreaterThan(0.97);
      expect(m.info.preset.name).toBe(key === 'squeezenet' ? 'caffe' : 'torchvision');
      await m.dispose();
    }, 300_000);
  }

  it('SqueezeNet: Grad-CAM equals the model\'s own class map conv10_2 (normalised) for the top class', async () => {
    const file = model(MODELS.squeezenet);
    const m = await Classifier.load(file);
    expect(m.info.head.found && m.info.head.description).toContain('class activation maps');
    const session = await ort.InferenceSession.create(file);
    const cam = new GradCam();
    for (const i of [0, 123, 456, 789]) {
      const input = inputs[i];
      const top = argmax((await m.predict([input])).logits);
      const ex = await cam.explain({ id: String(i), input, transform: planTransform(224, 224, 224, 224, 'direct') }, { classIndex: top, score: 'logit' }, cam.settings({}), 0, { model: m });
      // The model's own conv10_2, from the file's extra output, with the caffe preprocessing done by hand.
      const plane = 224 * 224;
      const x = new Float32Array(3 * plane);
      const mean = [104, 117, 123];
      for (let c = 0; c < 3; c++) for (let p = 0; p < plane; p++) x[c * plane + p] = input.data[(2 - c) * plane + p] - mean[c];
      const res = await session.run({ data_0: new ort.Tensor('float32', x, [1, 3, 224, 224]) }, ['conv10_2']);
      const own = (res.conv10_2.data as Float32Array).slice(top * 169, (top + 1) * 169);
      const a = minMaxNormalise(ex.native!.data);
      const b = minMaxNormalise(own);
      let diff = 0;
      for (let k = 0; k < 169; k++) diff = Math.max(diff, Math.abs(a[k] - b[k]));
      expect(ex.native!.width).toBe(13);
      expect(diff).toBeLessThan(1e-4);
    }
    await m.dispose();
  }, 120_000);

  it('InceptionV3 architecture: Mixed_7c (2048x8x8) is found by graph analysis, and Grad-CAM runs', async () => {
    const m = await Classifier.load(model(MODELS.inception));
    expect(m.info.input).toMatchObject({ width: 299, height: 299, layout: 'NCHW', fixedBatch: null });
    expect(m.info.head.found).toBe(true);
    // Found by following GlobalAveragePool -> Flatten -> Gemm back from the logits, not by name:
    if (m.info.head.found) {
      expect(m.info.head.featureTensor).toBe('/Mixed_7c/Concat_output_0');
      expect(m.info.head.channels).toBe(2048);
    }
    const img = await readImageFile(sample(refs[0].file));
    const input = toModelInput(img, planTransform(img.width, img.height, 299, 299, 'crop'));
    const out = await m.predict([input], { features: true });
    expect(out.features!.dims).toEqual([1, 2048, 8, 8]);
    const rebuilt = m.headLogits(out.features!, 0);
    // Random weights give huge logits: compare relative to their scale.
    const scale = Math.max(...Array.from(out.logits, Math.abs));
    for (let k = 0; k < 1000; k++) expect(Math.abs(rebuilt[k] - out.logits[k])).toBeLessThan(1e-4 * scale);
    expect(argmax(rebuilt)).toBe(argmax(out.logits));
    const cam = new GradCam();
    const ex = await cam.explain({ id: 'x', input, transform: planTransform(img.width, img.height, 299, 299, 'crop') }, { classIndex: 5, score: 'logit' }, cam.settings({}), 0, { model: m });
    expect([ex.native!.width, ex.native!.height, ex.map.width, ex.map.height]).toEqual([8, 8, 299, 299]);
    await m.dispose();
  }, 120_000);

  it('Grad-CAM for a probability target matches finite differences of the softmax through the head', async () => {
    const m = await Classifier.load(model(MODELS.mobilenet));
    const out = await m.predict([inputs[10]], { features: true });
    const f = out.features!;
    const [, C, h, w] = f.dims;
    const c = argmax(out.logits);
    const cam = new GradCam();
    // The probability from the rebuilt head; alpha_k must be d p_c / d A_k(i,j) (any position i,j).
    const prob = (data: Float32Array) => {
      const logits = m.headLogits({ data, dims: f.dims }, 0);
      const max = Math.max(...logits);
      const exps = Array.from(logits, (v) => Math.exp(v - max));
      return exps[c] / exps.reduce((a, b) => a + b, 0);
    };
    const base = prob(f.data);
    const alphas = (cam as unknown as { channelWeights(x: unknown): Float64Array }).channelWeights.call(cam, {
      model: m, features: f.data, channels: C, plane: h * w, pooled: new Float64Array(C), logits: out.logits,
      probabilities: Float32Array.from(m.headLogits(f, 0), () => 0).map((_, j) => {
        const l = m.headLogits(f, 0); const mx = Math.max(...l); const s = l.reduce((a, v) => a + Math.exp(v - mx), 0); return Math.exp(l[j] - mx) / s;
      }),
      target: { classIndex: c, score: 'probability' },
    });
    for (const k of [0, 17, 640, C - 1]) {
      const bumped = f.data.slice();
      const eps = 0.05;
      bumped[k * h * w + 3] += eps;
      const numeric = (prob(bumped) - base) / eps;
      expect(Math.abs(numeric - alphas[k])).toBeLessThan(1e-5 + 0.02 * Math.abs(alphas[k]));
    }
    await m.dispose();
  }, 120_000);

  it('an unavailable execution provider falls back to cpu with a message that says why', async () => {
    const m = await Classifier.load(model(MODELS.mobilenet), { provider: 'cuda' });
    expect(m.info.provider).toBe('cpu');
    expect(m.info.providerNote).toMatch(/cuda.*fell back to cpu/);
    await m.dispose();
  });

  it('reads DATA from ../shared/data', () => {
    expect(DATA).toMatch(/shared\/data$/);
  });
});
