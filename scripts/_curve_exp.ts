import path from 'node:path';
import { Classifier } from '../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../src-main/engine/image/prepare.ts';
import { getExplainer } from '../src-main/engine/explain/registry.ts';
import { getMetric } from '../src-main/engine/metrics/registry.ts';
import { argmax, topK } from '../src-main/engine/util/math.ts';
import { readFileSync } from 'node:fs';
const data = '/work/shared/data';
const labels = readFileSync(path.join(data, 'labels/synset_words.txt'), 'utf8').split('\n').map((l) => l.slice(10));
const [modelFile, f, method, score] = process.argv.slice(2);
const model = await Classifier.load(path.join(data, 'models', modelFile), { batchSize: 8 });
const { prepared: image } = await prepareImageFile(path.join(data, 'imagenet-samples', f), model);
const out = await model.predict([image.input]);
const c = argmax(out.logits, 0, out.numClasses);
console.log('top5', topK(out.probabilities, 5).map((k) => `${labels[k]} ${out.probabilities[k].toFixed(3)} (logit ${out.logits[k].toFixed(2)})`).join('; '));
for (const ts of ['probability', 'logit'] as const) {
  const target = { classIndex: c, score: ts };
  const ex = getExplainer(method);
  const e = await ex.explain(image, { ...target, score: score as 'logit' }, ex.settings({}), 0, { model });
  const del = getMetric('deletion');
  const d = await del.compute({ image, target, map: e.map, model }, del.settings({ controlSamples: 8 }), 0);
  console.log(`deletion on ${ts}: AUC ${d.value.toFixed(3)} ctrl ${d.control!.value.toFixed(3)} ctrl values ${(d.control!.extras!.values as number[]).map((v) => v.toFixed(3)).join(' ')}`);
  console.log('  map :', d.curve!.y.filter((_, i) => i % 5 === 0).map((v) => v.toFixed(2)).join(' '));
  console.log('  ctrl:', d.control!.curve!.y.filter((_, i) => i % 5 === 0).map((v) => v.toFixed(2)).join(' '));
}
