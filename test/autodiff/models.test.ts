// Whole-model gradient checks: the compiled gradient (ONNX Runtime, float32) against central finite differences
// evaluated in float64, for the input and the last feature block; and the `saliency gradcheck` command.
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { HAS_DATA, MODELS, model as modelPath, sample } from '../helpers/data.ts';
import { runCli } from '../helpers/cli.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { builtinSamplesDir, resolveModelSpec } from '../../src-main/engine/model/builtin.ts';
import { prepareImageFile } from '../../src-main/engine/image/prepare.ts';
import { argmax } from '../../src-main/engine/util/math.ts';
import { gradcheck } from '../../src-main/engine/model/autodiff/gradcheck.ts';
import { releaseGradientGraphs } from '../../src-main/engine/model/autodiff/gradient-scheduler.ts';
import { resolveLayer } from '../../src-main/engine/model/autodiff/layers.ts';

/** Real models on a shared, loaded machine: no clock limit (the largest timer setTimeout accepts). */
const NO_CLOCK = 2_147_483_647;

async function check(file: string, image: string, tensors: string[], directions: number, score: 'logit' | 'probability' = 'logit') {
  const model = await Classifier.load(file);
  const { prepared } = await prepareImageFile(image, model);
  const classIndex = argmax((await model.predict([prepared.input])).logits);
  const result = await gradcheck(model, prepared.input, { tensors: tensors.map((t) => (t === 'input' ? t : resolveLayer(model, t))), target: { classIndex, score }, directions });
  for (const c of result.checks) console.log(`${path.basename(file)} ${c.tensor} (${score}): max relative error ${c.relError.toExponential(2)} over ${c.directions} directions`);
  await releaseGradientGraphs();
  await model.dispose();
  return result;
}

const firstSample = (name: string) => {
  const dir = builtinSamplesDir(name);
  return path.join(dir, readdirSync(dir).sort()[0]);
};

describe('whole-model gradchecks (relative error < 1e-3)', () => {
  for (const name of ['demo', 'known-evidence']) {
    it(`builtin:${name}: input and last block, logit and probability`, async () => {
      for (const score of ['logit', 'probability'] as const) {
        const r = await check(resolveModelSpec(`builtin:${name}`), firstSample(name), ['input', 'auto'], 3, score);
        expect(r.forwardRelDiff).toBeLessThan(1e-5);
        for (const c of r.checks) expect(c.relError, c.tensor).toBeLessThan(1e-3);
      }
    }, NO_CLOCK);
  }

  it.skipIf(!HAS_DATA)('InceptionV3 architecture: the last block (Mixed_7c); the input check takes ~10 minutes of float64 convolutions', async () => {
    const r = await check(modelPath(MODELS.inception), sample('n01440764_tench.JPEG'), ['Mixed_7c'], 3);
    for (const c of r.checks) expect(c.relError, c.tensor).toBeLessThan(1e-3);
  }, NO_CLOCK);

  it.skipIf(!HAS_DATA)('SqueezeNet 1.1: input and the class-map block', async () => {
    const r = await check(modelPath(MODELS.squeezenet), sample('n01440764_tench.JPEG'), ['input', 'auto'], 2);
    for (const c of r.checks) expect(c.relError, c.tensor).toBeLessThan(1e-3);
  }, NO_CLOCK);
});

describe('saliency gradcheck', () => {
  it('prints the error per tensor and exits 0 on a float model', async () => {
    const r = await runCli(['gradcheck', firstSample('known-evidence'), '--model', 'builtin:known-evidence', '--directions', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ok\s+input: max relative error \d\.\d\de-\d+ over 2 directions/);
    expect(r.stdout).toMatch(/ok\s+features: max relative error/);
    expect(r.stdout).toMatch(/^passed/m);
  }, NO_CLOCK);

  it('exits 1 when an error is above the tolerance', async () => {
    const r = await runCli(['gradcheck', firstSample('demo'), '--model', 'builtin:demo', '--directions', '1', '--tolerance', '1e-30']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL/);
  }, NO_CLOCK);

  it.skipIf(!HAS_DATA)('exits 2 with the float-model error on a quantized model', async () => {
    const r = await runCli(['gradcheck', sample('n01440764_tench.JPEG'), '--model', modelPath(MODELS.mobilenet)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/gradient methods need a float model: model .*mobilenetv2-12-int8.onnx is quantized \(QuantizeLinear \(node "/);
  }, NO_CLOCK);
});
