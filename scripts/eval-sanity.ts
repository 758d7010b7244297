// The model-randomisation sanity check (Adebayo et al. 2018) for the gradient methods on a real model and several
// images: per method, the Spearman correlation between its map on the trained model and on copies with the head,
// then successive blocks, re-initialised (cascading; the metric model-randomisation), averaged over the steps;
// mean over images with a 95% bootstrap interval, n, how many images pass (< 0.5), and per step. The random
// control is the Spearman between the trained model's map and a seeded random map (chance level). Also per
// method: how much its maps of *different* images agree (each image's map against the other images' maps, mean
// Spearman): a map that correlates with the randomised model's map no more than with other images' maps carries
// an image-independent pattern (e.g. the architecture's), not the weights'.
// Usage: node --import tsx scripts/eval-sanity.ts [--images 10 --offset 0 --steps 0 (= every block; the metric's default) --model <file> --methods saliency,...]
import { parseArgs } from 'node:util';
import path from 'node:path';
import { Classifier } from '../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../src-main/engine/image/prepare.ts';
import { getExplainer } from '../src-main/engine/explain/registry.ts';
import { getMetric } from '../src-main/engine/metrics/registry.ts';
import { randomMap } from '../src-main/engine/metrics/perturb.ts';
import { spearman } from '../src-main/engine/metrics/rank.ts';
import { bootstrapMeanCI } from '../src-main/engine/stats/bootstrap.ts';
import { Random } from '../src-main/engine/util/random.ts';
import { argmax } from '../src-main/engine/util/math.ts';
import type { Map2D } from '../src-main/engine/types.ts';
import { manifestRows } from './bench-util.ts';

const DATA = path.resolve(import.meta.dirname, '../../shared/data');
const ALL_METHODS = ['saliency', 'inputxgradient', 'integratedgradients', 'smoothgrad', 'gradcam', 'gradcampp', 'layercam', 'xgradcam'];
const { values } = parseArgs({ options: { images: { type: 'string' }, offset: { type: 'string' }, steps: { type: 'string' }, model: { type: 'string' }, methods: { type: 'string' } } });
const methods = (values.methods ?? ALL_METHODS.join(',')).split(',');
const count = Number(values.images ?? 10);
const offset = Number(values.offset ?? 0);
const modelFile = values.model ?? path.join(DATA, 'models/squeezenet1.1-fp32.onnx');
const model = await Classifier.load(modelFile);
const files = manifestRows(DATA).slice(offset, offset + count).map((r) => r[0]);
const metric = getMetric('model-randomisation');
const metricSettings = metric.settings({ steps: Number(values.steps ?? 0) });
const means = new Map<string, number[]>();
const perStep = new Map<string, number[][]>();
const trainedMaps = new Map<string, Map2D[]>();
let stepNames: string[] = [];
for (const file of files) {
  const { prepared: image } = await prepareImageFile(path.join(DATA, 'imagenet-samples', file), model);
  const target = { classIndex: argmax((await model.predict([image.input])).logits), score: 'logit' as const };
  for (const m of methods) {
    const explainer = getExplainer(m);
    const settings = explainer.settings({});
    const e = await explainer.explain(image, target, settings, 1, { model });
    const r = await metric.compute({ image, target, map: e.map, model, explainer: { explainer, settings, seed: 1 } }, metricSettings, 7);
    means.set(m, [...(means.get(m) ?? []), r.value]);
    trainedMaps.set(m, [...(trainedMaps.get(m) ?? []), e.map]);
    perStep.set(m, [...(perStep.get(m) ?? []), r.curve!.y]);
    stepNames = (r.extras?.blocks as string[] | undefined) ?? stepNames;
    const control = spearman(e.map, randomMap(e.map.width, e.map.height, Random.derive(1, `control-${file}`)));
    means.set('random control', [...(means.get('random control') ?? []), control]);
  }
  console.log(`${file}: ${methods.map((m) => `${m} ${means.get(m)!.at(-1)!.toFixed(2)}`).join(', ')}`);
}
const fmt = (c: { mean: number; lo: number; hi: number }) => `${c.mean.toFixed(2)} [${c.lo.toFixed(2)}, ${c.hi.toFixed(2)}]`;
console.log(`\nModel randomisation (cascading, ${stepNames.length} steps from the head down${metricSettings.steps === 0 ? ', every block' : ''}), ${path.basename(modelFile)}, ${files.length} sample images (offset ${offset}),`);
console.log('default settings, target = top-1 logit; mean Spearman with the trained model\'s map [95% bootstrap interval]; passes: < 0.5\n');
/** Per image: the mean Spearman of its map with the other images' maps of the same method. */
const otherImages = (maps: Map2D[]) => maps.map((a, i) => maps.reduce((sum, b, j) => sum + (i === j ? 0 : spearman(a, b)), 0) / (maps.length - 1));
console.log(`| method | mean over steps | images passing | other images' maps | ${stepNames.map((s, k) => `step ${k + 1} (${s})`).join(' | ')} |`);
console.log(`|---|---|---|---|${stepNames.map(() => '---').join('|')}|`);
for (const m of methods) {
  const v = means.get(m)!;
  const steps = perStep.get(m)!;
  const byStep = stepNames.map((_, k) => steps.reduce((a, y) => a + y[k], 0) / steps.length);
  const others = files.length > 1 ? fmt(bootstrapMeanCI(otherImages(trainedMaps.get(m)!), { seed: 1 })) : '-';
  console.log(`| ${m} | ${fmt(bootstrapMeanCI(v, { seed: 1 }))} | ${v.filter((x) => x < 0.5).length} of ${v.length} | ${others} | ${byStep.map((x) => x.toFixed(2)).join(' | ')} |`);
}
const c = means.get('random control')!;
console.log(`| random control (each map vs a seeded random map) | ${fmt(bootstrapMeanCI(c, { seed: 1 }))} | n = ${c.length} | | |`);
console.log('\nother images\' maps: each image\'s map (trained model) against the other images\' maps of the same method, mean Spearman; interval over images (not independent: each pair enters twice)');
