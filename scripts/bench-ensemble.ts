// npm run bench:ensemble: the full ensemble per image on the InceptionV3 architecture (random weights: cost
// only) — Grad-CAM, LIME 1000, KernelSHAP 1000, Partition SHAP 500, RISE 4000, occlusion, Score-CAM, each map
// with deletion and insertion and their random-map controls — at the default budgets and with auto budgets
// (lime/kernelshap samples=auto, rise masks=auto, partitionshap maxEvals=auto), in one run: evaluations asked for, evaluations the model
// actually made, scheduler cache hits (inputs shared between methods and metrics of one image: the all-on /
// all-off coalitions, the controls' random maps, identical deletion/insertion steps) and seconds per image.
// Usage: node --import tsx scripts/bench-ensemble.ts [--images 2] [--model inception_v3-random.onnx]
//          [--methods gradcam,lime,...] [--steps 50] [--controls 4] [--configs default,auto] [--threads T (ORT; 0 = one per core)]
import os from 'node:os';
import path from 'node:path';
import { spreadSampleImages } from './bench-util.ts';
import { parseArgs } from 'node:util';
import { Classifier } from '../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../src-main/engine/image/prepare.ts';
import { getExplainer } from '../src-main/engine/explain/registry.ts';
import { getMetric } from '../src-main/engine/metrics/registry.ts';
import { schedulerFor } from '../src-main/engine/infer/scheduler.ts';
import { argmax } from '../src-main/engine/util/math.ts';

const AUTO: Record<string, Record<string, unknown>> = { lime: { samples: 'auto' }, kernelshap: { samples: 'auto' }, rise: { masks: 'auto' }, partitionshap: { maxEvals: 'auto' } };

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '2' }, model: { type: 'string', default: 'inception_v3-random.onnx' },
    methods: { type: 'string', default: 'gradcam,lime,kernelshap,partitionshap,rise,occlusion,scorecam' },
    steps: { type: 'string', default: '50' }, controls: { type: 'string', default: '4' }, configs: { type: 'string', default: 'default,auto' },
    threads: { type: 'string', default: '0' },
  },
});
const data = process.env.SALIENCY_DATA ?? path.resolve(import.meta.dirname, '../../shared/data');
const count = Number(values.images);
const files = spreadSampleImages(data, count);
const model = await Classifier.load(path.join(data, 'models', values.model!), { threads: Number(values.threads) });
const scheduler = schedulerFor(model);
const metrics = ['deletion', 'insertion'].map((n) => {
  const m = getMetric(n);
  return { metric: m, settings: m.settings({ steps: Number(values.steps), controlSamples: Number(values.controls) }) };
});
console.log(`${model.info.name}: ${model.info.input.width}x${model.info.input.height}, batch ${model.info.batch.size}; ${count} image(s); deletion/insertion ${values.steps} steps, ${values.controls} random-map controls`);
for (const config of values.configs!.split(',')) {
  let asked = 0, made = 0, hits = 0, seconds = 0;
  const perMethod = new Map<string, number>();
  for (const file of files) {
    const { prepared: image } = await prepareImageFile(path.join(data, 'imagenet-samples', file), model);
    scheduler.clearCache(); // each image starts cold: hits are sharing within the image
    scheduler.resetStats();
    const t0 = performance.now();
    const pred = await model.predict([image.input]);
    const target = { classIndex: argmax(pred.logits, 0, pred.numClasses), score: 'probability' as const };
    for (const name of values.methods!.split(',')) {
      const ex = getExplainer(name);
      let e;
      try {
        e = await ex.explain(image, target, ex.settings(config === 'auto' ? AUTO[name] ?? {} : {}), 0, { model });
      } catch (err) {
        console.log(`  ${name}: skipped (${(err as Error).message})`);
        continue;
      }
      perMethod.set(name, (perMethod.get(name) ?? 0) + e.evaluations);
      for (const { metric, settings } of metrics) await metric.compute({ image, target, map: e.map, model }, settings, 0);
    }
    seconds += (performance.now() - t0) / 1000;
    asked += scheduler.stats.requested;
    made += scheduler.stats.evaluated;
    hits += scheduler.stats.cacheHits;
    process.stderr.write(`${config}: ${file} done\n`);
  }
  const per = (x: number) => (x / count).toFixed(0);
  // Seconds are wall time: on a shared machine they mean something only next to the load they ran under.
  console.log(`${config}: load average ${os.loadavg()[0].toFixed(1)} on ${os.availableParallelism()} cores at the end`);
  console.log(`${config}: per image ${per(asked)} evaluations asked, ${per(made)} made by the model, ${per(hits)} cache hits, ${(seconds / count).toFixed(1)} s`);
  console.log(`  method evaluations per image: ${[...perMethod].map(([k, v]) => `${k} ${per(v)}`).join(', ')}`);
}
await model.dispose();
