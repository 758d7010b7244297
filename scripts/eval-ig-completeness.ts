// Integrated Gradients completeness against the number of integration steps on real images: per image and step
// count the relative error |sum(attr) - (f(x) - f(x'))| / |f(x) - f(x')| (results.json's completeness.relError),
// then per step count the mean with a 95% bootstrap interval, the largest error and how many images are under 1%.
// On a ReLU/max-pool network the integrand jumps along the path, so the error is not monotone in the steps; this
// prints how many steps a given tolerance needs on these images rather than assuming it.
// Usage: node --import tsx scripts/eval-ig-completeness.ts [--images 10 --offset 0 --steps 32,64,128,256
//          --method gausslegendre --score logit|probability --baseline zero --model <file>
//          --spread: the images spread evenly over the manifest (its classes), as the other eval scripts pick them,
//          instead of the manifest's first ones (the unit test's 10)
//          --dump DIR: also write each image's model input, baseline and channel-summed maps (float32) and meta.json,
//          for scripts/ig-crosscheck.py, which runs Captum's IntegratedGradients (or its formula on torch.autograd)
//          on the same arrays]
import { parseArgs } from 'node:util';
import path from 'node:path';
import fs from 'node:fs';
import { Classifier } from '../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../src-main/engine/image/prepare.ts';
import { getExplainer } from '../src-main/engine/explain/registry.ts';
import { igBaseline, type IgSettings } from '../src-main/engine/explain/gradient/integrated-gradients.ts';
import { modelInput } from '../src-main/engine/explain/gradient/input-gradients.ts';
import { releaseGradientGraphs } from '../src-main/engine/model/autodiff/gradient-scheduler.ts';
import { bootstrapMeanCI } from '../src-main/engine/stats/bootstrap.ts';
import { argmax } from '../src-main/engine/util/math.ts';
import { manifestRows, spreadSampleImages } from './bench-util.ts';

const DATA = path.resolve(import.meta.dirname, '../../shared/data');
const { values } = parseArgs({
  options: {
    images: { type: 'string' }, offset: { type: 'string' }, steps: { type: 'string' }, method: { type: 'string' },
    score: { type: 'string' }, baseline: { type: 'string' }, model: { type: 'string' }, spread: { type: 'boolean' },
    dump: { type: 'string' },
  },
});
const count = Number(values.images ?? 10);
const offset = Number(values.offset ?? 0);
const stepCounts = (values.steps ?? '32,64,128,256').split(',').map(Number);
const score = values.score === 'probability' ? 'probability' : 'logit';
const modelFile = values.model ?? path.join(DATA, 'models/squeezenet1.1-fp32.onnx');
const model = await Classifier.load(modelFile);
const ig = getExplainer('integratedgradients');
const files = values.spread ? spreadSampleImages(DATA, count, offset) : manifestRows(DATA).slice(offset, offset + count).map((r) => r[0]);
const settingsFor = (steps: number) => ig.settings({ steps, ...(values.method ? { method: values.method } : {}), ...(values.baseline ? { baseline: values.baseline } : {}) });
const describe = settingsFor(stepCounts[0]) as Record<string, unknown>;
console.log(`IG completeness, ${path.basename(modelFile)}, target = top-1 ${score}, method ${describe.method}, baseline ${describe.baseline}, ${values.spread ? `${files.length} images spread over the manifest (offset ${offset})` : `images ${offset}..${offset + files.length - 1} of the manifest`}`);

const SEED = 1; // the explanation's seed (the uniform baseline's noise), the same for the dumped baseline
const pct = (e: number) => `${(100 * e).toFixed(2)}%`;
const errors = stepCounts.map(() => [] as number[]);
const dump = values.dump;
const dumped: unknown[] = [];
const writeF32 = (name: string, data: ArrayLike<number>) => fs.writeFileSync(path.join(dump!, name), Buffer.from(Float32Array.from(data).buffer));
if (dump) fs.mkdirSync(dump, { recursive: true });
for (const [k, file] of files.entries()) {
  const { prepared } = await prepareImageFile(path.join(DATA, 'imagenet-samples', file), model);
  const target = { classIndex: argmax((await model.predict([prepared.input])).logits), score } as const;
  const line: string[] = [];
  const completeness: Record<number, unknown> = {};
  for (const [i, steps] of stepCounts.entries()) {
    const e = await ig.explain(prepared, target, settingsFor(steps), SEED, { model });
    const rel = (e.extras.completeness as { relError: number }).relError;
    errors[i].push(rel);
    line.push(`${steps}: ${pct(rel)}`);
    completeness[steps] = e.extras.completeness;
    if (dump) writeF32(`${k}.map${steps}.f32`, e.map.data);
  }
  console.log(`${file}  ${line.join('  ')}`);
  if (dump) {
    writeF32(`${k}.x.f32`, modelInput(model, prepared.input));
    writeF32(`${k}.baseline.f32`, modelInput(model, igBaseline(model, prepared.input, (describe as IgSettings).baseline, SEED)));
    dumped.push({ index: k, file, classIndex: target.classIndex, completeness });
  }
}
if (dump) {
  const { input, logitsTensor } = model.info;
  fs.writeFileSync(path.join(dump, 'meta.json'), JSON.stringify({
    model: path.resolve(modelFile), inputName: input.name, layout: input.layout, logitsTensor, shape: [1, input.channels, input.height, input.width],
    score, settings: describe, images: dumped,
  }, null, 1));
}
console.log(`\nsteps | mean [95% bootstrap CI] | max | under 1% (n = ${files.length})`);
for (const [i, steps] of stepCounts.entries()) {
  const ci = bootstrapMeanCI(errors[i]);
  console.log(`${steps} | ${pct(ci.mean)} [${pct(ci.lo)}, ${pct(ci.hi)}] | ${pct(Math.max(...errors[i]))} | ${errors[i].filter((e) => e < 0.01).length} of ${files.length}`);
}
await releaseGradientGraphs();
await model.dispose();
