import path from 'node:path';
import { Classifier } from '../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../src-main/engine/image/prepare.ts';
import { getExplainer } from '../src-main/engine/explain/registry.ts';
import { getMetric } from '../src-main/engine/metrics/registry.ts';
import { argmax } from '../src-main/engine/util/math.ts';
const data = '/work/shared/data';
const model = await Classifier.load(path.join(data, 'models', process.argv[2] ?? 'squeezenet1.1-fp32.onnx'), { batchSize: 8 });
const del = getMetric('deletion'), ins = getMetric('insertion');
const lime = getExplainer('lime');
const variants: Record<string, Record<string, unknown>> = {
  default: {}, meanBase: { baseline: 'mean' }, blackBase: { baseline: 'black' }, blurBase: { baseline: 'blur' }, seg100: { segments: 100 }, seg25: { segments: 25 }, kw1: { kernelWidth: 1 },
};
for (const f of process.argv.slice(3)) {
  const { prepared: image } = await prepareImageFile(path.join(data, 'imagenet-samples', f), model);
  const out = await model.predict([image.input]);
  const c = argmax(out.logits, 0, out.numClasses);
  const target = { classIndex: c, score: 'probability' as const };
  const line: string[] = [];
  let ctrl = '';
  for (const [name, v] of Object.entries(variants)) {
    for (const score of ['probability', 'logit'] as const) {
      if (score === 'logit' && name !== 'default') continue;
      const e = await lime.explain(image, { ...target, score }, lime.settings(v as never), 0, { model });
      const d = await del.compute({ image, target, map: e.map, model }, del.settings({ controlSamples: 8 }), 0);
      const i = await ins.compute({ image, target, map: e.map, model }, ins.settings({ controlSamples: 8 }), 0);
      ctrl = `ctrl del ${d.control!.value.toFixed(3)} ins ${i.control!.value.toFixed(3)}`;
      line.push(`${name}${score === 'logit' ? '/logit' : ''}: ${d.value.toFixed(3)}/${i.value.toFixed(3)}`);
    }
  }
  console.log(f, `p=${out.probabilities[c].toFixed(2)}`, ctrl, '\n   ', line.join('  '));
}
