// Faithfulness on the real models and sample images: for each method, the share of images where the map's
// deletion AUC is lower AND its insertion AUC higher than the random map's (target >= 80%), printed as a table.
// The control is the metrics' default: a seeded smooth random map (7x7 cells, upsampled). The share against a
// per-pixel random map is printed too (a per-pixel map scatters single-pixel holes, a strong artefact of its own).
// Usage: node --import tsx scripts/eval-faithfulness.ts [--images 30] [--models squeezenet,mobilenet,shufflenet]
//          [--methods gradcam,lime,rise] [--steps 50] [--seed 0] [--set rise.masks=2000 ...] [--offset 0] [--out file.json]
//        or --table a.json,b.json,... to print one table from the --out files of several runs (e.g. one per model).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Classifier } from '../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../src-main/engine/image/prepare.ts';
import { getExplainer } from '../src-main/engine/explain/registry.ts';
import { getMetric } from '../src-main/engine/metrics/registry.ts';
import { randomMap } from '../src-main/engine/metrics/perturb.ts';
import { Random } from '../src-main/engine/util/random.ts';
import { argmax } from '../src-main/engine/util/math.ts';
import { parseSettings } from '../src-main/cli/commands/explain.ts';

const MODEL_FILES: Record<string, string> = {
  squeezenet: 'squeezenet1.1-fp32.onnx', mobilenet: 'mobilenetv2-12-int8.onnx', shufflenet: 'shufflenet-v2-12-qdq.onnx',
};

interface Result { model: string; method: string; image: string; del: number; ins: number; delCtrl: number; insCtrl: number; delPix: number; insPix: number; millis: number }

async function main(): Promise<void> {
  const data = process.env.SALIENCY_DATA ?? path.resolve(import.meta.dirname, '../../shared/data');
  const { values } = parseArgs({
    options: {
      images: { type: 'string', default: '30' }, models: { type: 'string', default: 'squeezenet,mobilenet,shufflenet' },
      methods: { type: 'string', default: 'gradcam,lime,rise' }, steps: { type: 'string', default: '50' },
      seed: { type: 'string', default: '0' }, set: { type: 'string', multiple: true }, out: { type: 'string' },
      table: { type: 'string' }, offset: { type: 'string', default: '0' },
    },
  });
  const count = Number(values.images);
  const seed = Number(values.seed);
  const methods = values.methods!.split(',');
  const custom = parseSettings(values.set ?? []);
  const manifest = (await import('node:fs')).readFileSync(path.join(data, 'imagenet-samples/manifest.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]);
  // Evenly spread over the classes.
  // --offset shifts the picks, so that several runs can use disjoint images.
  const files = Array.from({ length: count }, (_, i) => manifest[(Math.floor((i * manifest.length) / count) + Number(values.offset)) % manifest.length]);
  const deletion = getMetric('deletion');
  const insertion = getMetric('insertion');
  const dS = deletion.settings({ steps: Number(values.steps) });
  const iS = insertion.settings({ steps: Number(values.steps) });
  const results: Result[] = [];
  const t0 = performance.now();
  if (values.table) {
    for (const f of values.table.split(',')) results.push(...(JSON.parse((await import('node:fs')).readFileSync(f, 'utf8')) as { results: Result[] }).results);
    printTable(results, values.steps!, seed, t0);
    return;
  }
  for (const name of values.models!.split(',')) {
    const model = await Classifier.load(path.join(data, 'models', MODEL_FILES[name] ?? name), { batchSize: 8 });
    const explainers = methods.map((m) => ({ name: m, explainer: getExplainer(m) }));
    for (const file of files) {
      const { prepared: image } = await prepareImageFile(path.join(data, 'imagenet-samples', file), model);
      const out = await model.predict([image.input]);
      const target = { classIndex: argmax(out.logits, 0, out.numClasses), score: 'probability' as const };
      // The per-pixel random map: the same for every method of this image, so its curves are cached.
      const pixelMap = randomMap(image.input.width, image.input.height, Random.derive(seed, 'per-pixel-random'), 0);
      const noControl = { control: false };
      const [delPix, insPix] = await Promise.all([
        deletion.compute({ image, target, map: pixelMap, model }, deletion.settings({ ...dS, ...noControl }), seed),
        insertion.compute({ image, target, map: pixelMap, model }, insertion.settings({ ...iS, ...noControl }), seed),
      ]);
      for (const { name: method, explainer } of explainers) {
        const t = performance.now();
        const e = await explainer.explain(image, target, explainer.settings(custom[method] ?? {}), seed, { model });
        const [d, i] = await Promise.all([
          deletion.compute({ image, target, map: e.map, model }, dS, seed),
          insertion.compute({ image, target, map: e.map, model }, iS, seed),
        ]);
        results.push({ model: name, method, image: file, del: d.value, ins: i.value, delCtrl: d.control!.value, insCtrl: i.control!.value, delPix: delPix.value, insPix: insPix.value, millis: performance.now() - t });
      }
      process.stderr.write(`\r${name}: ${files.indexOf(file) + 1}/${files.length} images, ${((performance.now() - t0) / 1000).toFixed(0)} s   `);
    }
    process.stderr.write('\n');
    await model.dispose();
  }
  printTable(results, values.steps!, seed, t0);
  if (values.out) await writeFile(values.out, JSON.stringify({ settings: { ...values, custom }, results }, null, 1));
}

function printTable(results: Result[], steps: string, seed: number, t0: number): void {
  const pct = (n: number, d: number) => `${((100 * n) / d).toFixed(0)}%`.padStart(5);
  const mean = (v: number[]) => (v.reduce((a, b) => a + b, 0) / v.length).toFixed(3);
  const models = [...new Set(results.map((r) => r.model))];
  const methods = [...new Set(results.map((r) => r.method))];
  console.log(`\nDeletion/insertion (RISE protocol, ${steps} steps, target = top-1 probability, seed ${seed})`);
  console.log('model       method    n   del<ctrl ins>ctrl   both  (per-pixel: both)   del AUC (ctrl)   ins AUC (ctrl)  target');
  for (const name of models) {
    for (const method of methods) {
      const r = results.filter((x) => x.model === name && x.method === method);
      if (r.length === 0) continue;
      const dl = r.filter((x) => x.del < x.delCtrl).length;
      const ih = r.filter((x) => x.ins > x.insCtrl).length;
      const both = r.filter((x) => x.del < x.delCtrl && x.ins > x.insCtrl).length;
      const bothPix = r.filter((x) => x.del < x.delPix && x.ins > x.insPix).length;
      console.log(`${name.padEnd(11)} ${method.padEnd(8)} ${String(r.length).padStart(3)}  ${pct(dl, r.length)}    ${pct(ih, r.length)}   ${pct(both, r.length)}      ${pct(bothPix, r.length)}          ` +
        `${mean(r.map((x) => x.del))} (${mean(r.map((x) => x.delCtrl))})    ${mean(r.map((x) => x.ins))} (${mean(r.map((x) => x.insCtrl))})   ${both / r.length >= 0.8 ? 'PASS' : 'FAIL'}`);
    }
  }
  const all = results.filter((x) => x.del < x.delCtrl && x.ins > x.insCtrl).length;
  console.log(`all: both better than the control on ${all}/${results.length} (${((100 * all) / results.length).toFixed(0)}%); ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

await main();
