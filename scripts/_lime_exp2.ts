import path from 'node:path';
import { Classifier } from '../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../src-main/engine/image/prepare.ts';
import { getExplainer } from '../src-main/engine/explain/registry.ts';
import { getMetric } from '../src-main/engine/metrics/registry.ts';
import { argmax } from '../src-main/engine/util/math.ts';
const data = '/work/shared/data';
const [modelFile, offset, count, ...variantJson] = process.argv.slice(2);
const model = await Classifier.load(path.join(data, 'models', modelFile), { batchSize: 8 });
const manifest = (await import('node:fs')).readFileSync(path.join(data, 'imagenet-samples/manifest.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]);
const files = process.env.FILES ? process.env.FILES.split(",") : Array.from({ length: Number(count) }, (_, i) => manifest[(Math.floor((i * manifest.length) / Number(count)) + Number(offset)) % manifest.length]);
const del = getMetric('deletion'), ins = getMetric('insertion');
const variants = variantJson.map((j) => JSON.parse(j) as { method: string; score?: string; settings?: Record<string, unknown> });
const wins = variants.map(() => 0);
for (const f of files) {
  const { prepared: image } = await prepareImageFile(path.join(data, 'imagenet-samples', f), model);
  const out = await model.predict([image.input]);
  const c = argmax(out.logits, 0, out.numClasses);
  const target = { classIndex: c, score: 'probability' as const };
  const line: string[] = [];
  let ctrl = '';
  for (const [k, v] of variants.entries()) {
    const ex = getExplainer(v.method);
    const e = await ex.explain(image, { ...target, score: (v.score ?? 'probability') as 'probability' }, ex.settings((v.settings ?? {}) as never), 0, { model });
    const d = await del.compute({ image, target, map: e.map, model }, del.settings({ controlSamples: 8 }), 0);
    const i = await ins.compute({ image, target, map: e.map, model }, ins.settings({ controlSamples: 8 }), 0);
    ctrl = `ctrl ${d.control!.value.toFixed(3)}/${i.control!.value.toFixed(3)}`;
    const ok = d.value < d.control!.value && i.value > i.control!.value;
    if (ok) wins[k]++;
    line.push(`${d.value.toFixed(3)}/${i.value.toFixed(3)}${ok ? ' ' : '*'}`);
  }
  console.log(f.padEnd(36), `p=${out.probabilities[c].toFixed(2)}`, ctrl, '|', line.join('  '));
}
console.log('wins', variants.map((v, k) => `${JSON.stringify(v)}: ${wins[k]}/${files.length}`).join('\n     '));
