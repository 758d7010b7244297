// Gradient CAMs through the compiled backward graph: at the last block they equal the closed form (SqueezeNet,
// InceptionV3 architecture); at Mixed_6e they run with the right shape, deterministically; LayerCAM, XGrad-CAM and
// Grad-CAM++ reduce to Grad-CAM where the gradient is constant per channel; a quantized model gets the clear
// error for gradient methods while the other methods still work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_DATA, MODELS, model as modelPath, sample } from '../helpers/data.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../../src-main/engine/image/prepare.ts';
import { getExplainer } from '../../src-main/engine/explain/registry.ts';
import type { Explanation, PreparedImage } from '../../src-main/engine/explain/types.ts';
import type { Target } from '../../src-main/engine/types.ts';
import { argmax } from '../../src-main/engine/util/math.ts';
import { releaseGradientGraphs } from '../../src-main/engine/model/autodiff/gradient-scheduler.ts';

/** Real models on a shared, loaded machine: no clock limit (the largest timer setTimeout accepts). */
const NO_CLOCK = 2_147_483_647;

const IMAGES = ['n01440764_tench.JPEG', 'n02123045_tabby.JPEG', 'n03417042_garbage_truck.JPEG'];

async function explain(model: Classifier, image: PreparedImage, target: Target, name: string, settings: Record<string, unknown> = {}): Promise<Explanation> {
  const e = getExplainer(name);
  return e.explain(image, target, e.settings(settings), 1, { model });
}

/** Max abs difference of two maps each divided by its max |value|. */
function normalisedDiff(a: Float32Array, b: Float32Array): number {
  const scale = (d: Float32Array) => d.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
  const sa = scale(a);
  const sb = scale(b);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] / sa - b[i] / sb));
  return m;
}

async function top1(model: Classifier, image: PreparedImage, score: Target['score']): Promise<Target> {
  return { classIndex: argmax((await model.predict([image.input])).logits), score };
}

describe.skipIf(!HAS_DATA)('gradient CAMs on SqueezeNet 1.1', () => {
  let model: Classifier;
  const images: PreparedImage[] = [];
  beforeAll(async () => {
    model = await Classifier.load(modelPath(MODELS.squeezenet));
    for (const f of IMAGES) images.push((await prepareImageFile(sample(f), model)).prepared);
  }, NO_CLOCK);
  afterAll(async () => { await releaseGradientGraphs(); await model.dispose(); });

  it('Grad-CAM via the backward graph at the last block equals the closed form (logit and probability)', async () => {
    const head = model.info.head.found ? model.info.head.featureTensor : '';
    for (const image of images) {
      for (const score of ['logit', 'probability'] as const) {
        const target = await top1(model, image, score);
        const closed = await explain(model, image, target, 'gradcam');
        const backward = await explain(model, image, target, 'gradcam', { layer: head });
        expect(backward.extras.layer).toBe(head);
        const d = normalisedDiff(closed.native!.data, backward.native!.data);
        console.log(`SqueezeNet ${score}: max |closed - backward| of normalised maps = ${d.toExponential(2)}`);
        expect(d).toBeLessThan(1e-4);
      }
    }
  });

  it('LayerCAM, XGrad-CAM and Grad-CAM++ equal Grad-CAM where the logit gradient is constant per channel (the class-map block)', async () => {
    const target = await top1(model, images[0], 'logit');
    const ref = await explain(model, images[0], target, 'gradcam');
    for (const name of ['layercam', 'xgradcam', 'gradcampp']) {
      const e = await explain(model, images[0], target, name);
      expect(normalisedDiff(ref.native!.data, e.native!.data), name).toBeLessThan(1e-4);
    }
  });

  it('runs at an earlier block (fire5: 27x27) and differs there from Grad-CAM', async () => {
    const target = await top1(model, images[1], 'logit');
    const layer = await explain(model, images[1], target, 'layercam', { layer: 'fire5' });
    const grad = await explain(model, images[1], target, 'gradcam', { layer: 'fire5' });
    expect(layer.extras.grid).toEqual([27, 27]);
    expect(layer.extras.layer).toBe('fire5/concat_1');
    expect(layer.map.width).toBe(224);
    expect(normalisedDiff(layer.native!.data, grad.native!.data)).toBeGreaterThan(1e-3);
    expect(() => getExplainer('gradcam').settings({ layer: '' })).toThrow(/layer must be/);
    await expect(explain(model, images[1], target, 'gradcam', { layer: 'no_such_block' })).rejects.toThrow(/no tensor or block of that name/);
  });
});

describe.skipIf(!HAS_DATA)('gradient CAMs on the InceptionV3 architecture (random weights)', () => {
  let model: Classifier;
  let image: PreparedImage;
  beforeAll(async () => {
    model = await Classifier.load(modelPath(MODELS.inception), { batchSize: 2 });
    image = (await prepareImageFile(sample(IMAGES[0]), model)).prepared;
  }, NO_CLOCK);
  afterAll(async () => { await releaseGradientGraphs(); await model.dispose(); });

  it('Grad-CAM via the backward graph at Mixed_7c equals the closed form', async () => {
    const target = await top1(model, image, 'logit');
    const closed = await explain(model, image, target, 'gradcam');
    const backward = await explain(model, image, target, 'gradcam', { layer: 'Mixed_7c' });
    expect(backward.extras.layer).toBe(model.info.head.found ? model.info.head.featureTensor : '?');
    const d = normalisedDiff(closed.native!.data, backward.native!.data);
    console.log(`InceptionV3: max |closed - backward| of normalised maps = ${d.toExponential(2)}`);
    expect(d).toBeLessThan(1e-4);
  }, NO_CLOCK);

  it('Grad-CAM at Mixed_6e: a 17x17 map, identical when the backward graph is compiled and run again', async () => {
    const target = await top1(model, image, 'logit');
    const a = await explain(model, image, target, 'gradcam', { layer: 'Mixed_6e' });
    await releaseGradientGraphs(); // recompile and rerun: neither the memory nor the disk cache
    process.env.SALIENCY_GRADIENT_CACHE = 'off';
    const b = await explain(model, image, target, 'gradcam', { layer: 'Mixed_6e' }).finally(() => { delete process.env.SALIENCY_GRADIENT_CACHE; });
    expect(a.extras.grid).toEqual([17, 17]);
    expect(a.extras.channels).toBe(768);
    expect(a.map.width).toBe(299);
    expect(a.native!.data.some((v) => v > 0)).toBe(true);
    expect(Array.from(b.native!.data)).toEqual(Array.from(a.native!.data));
  }, NO_CLOCK);
});

describe.skipIf(!HAS_DATA)('a quantized model (MobileNetV2 int8)', () => {
  it('gets the clear error for gradient methods while the other methods work', async () => {
    const model = await Classifier.load(modelPath(MODELS.mobilenet));
    const image = (await prepareImageFile(sample(IMAGES[0]), model)).prepared;
    const target = await top1(model, image, 'logit');
    for (const [name, settings] of [['saliency', {}], ['integratedgradients', { steps: 4 }], ['smoothgrad', { samples: 2 }], ['gradcampp', {}], ['gradcam', { layer: '627' }]] as const) {
      await expect(explain(model, image, target, name, settings), name).rejects.toThrow(/gradient methods need a float model: model .* is quantized \((QuantizeLinear|QLinear\w+|DequantizeLinear) \(node/);
    }
    for (const [name, settings] of [['gradcam', {}], ['ablationcam', {}], ['occlusion', { window: 56, stride: 56 }]] as const) {
      const e = await explain(model, image, target, name, settings);
      expect(e.map.data.some((v) => v !== 0), name).toBe(true);
    }
    await model.dispose();
  }, NO_CLOCK);
});
