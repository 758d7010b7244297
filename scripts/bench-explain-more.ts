// Benchmark of RISE, occlusion, Partition SHAP, Score-CAM and Ablation-CAM: the model evaluations each uses at
// its default settings, and the time per image. Each method runs once at a reduced budget (--scale, default
// 1/20 of the default budget); ms per evaluation is measured and the time at the default budget extrapolated.
// --scale 1 runs the defaults in full. Usage: npm run bench:explain-more [-- --model <file> --scale 0.05]
import { parseArgs } from 'node:util';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { Classifier } from '../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../src-main/engine/image/prepare.ts';
import { schedulerFor } from '../src-main/engine/infer/scheduler.ts';
import { getExplainer } from '../src-main/engine/explain/registry.ts';
import { windowStarts } from '../src-main/engine/explain/perturb/occlusion.ts';
import { argmax } from '../src-main/engine/util/math.ts';

async function main() {
  const { values } = parseArgs({ options: { model: { type: 'string' }, scale: { type: 'string' }, image: { type: 'string' } } });
  const data = path.resolve('../shared/data');
  const file = values.model ?? path.join(data, 'models/inception_v3-random.onnx');
  if (!existsSync(file)) throw new Error(`model ${file} not found (pass --model)`);
  const scale = Number(values.scale ?? 0.05);
  const m = await Classifier.load(file, { batchSize: 8 });
  const { width, height } = m.info.input;
  const image = (await prepareImageFile(values.image ?? path.join(data, 'imagenet-samples/n01440764_tench.JPEG'), m)).prepared;
  const channels = m.info.head.found ? m.info.head.channels : 0;
  const scheduler = schedulerFor(m);

  await m.predict(Array.from({ length: 8 }, () => image.input)); // warm-up
  let t0 = performance.now();
  for (let i = 0; i < 2; i++) await m.predict(Array.from({ length: 8 }, () => image.input));
  const plainMs = (performance.now() - t0) / 16;
  const out = await m.predict([image.input]);
  const target = { classIndex: argmax(out.logits), score: 'logit' as const };
  console.log(`model ${path.basename(file)} ${width}x${height}, ${channels} feature channels; plain forward pass ${plainMs.toFixed(1)} ms/image (batch 8)`);

  const occ = getExplainer('occlusion').settings({}) as { window: number; stride: number };
  const occEvals = windowStarts(width, occ.window, occ.stride).length * windowStarts(height, occ.window, occ.stride).length + 1;
  const plan: [string, number, Record<string, unknown>][] = [
    // method, evaluations at the defaults, reduced settings for the timing run
    ['ablationcam', 1, {}],
    ['scorecam', 1 + Math.min(channels, 256), { topK: Math.max(8, Math.round(256 * scale)) }],
    ['occlusion', occEvals, { stride: Math.max(16, Math.round(16 / Math.sqrt(scale))) }],
    ['partitionshap', 500, { maxEvals: Math.max(10, Math.round(500 * scale)) }],
    ['rise', 4000, { masks: Math.max(16, Math.round(4000 * scale)) }],
  ];
  console.log('\nmethod         evals@default  run evals  run s   ms/eval  est. s/image@default');
  for (const [name, defaultEvals, reduced] of plan) {
    const e = getExplainer(name);
    const settings = e.settings(scale >= 1 ? {} : name === 'occlusion' ? { ...reduced, window: Math.max(occ.window, reduced.stride as number) } : reduced);
    scheduler.clearCache();
    t0 = performance.now();
    const r = await e.explain(image, target, settings, 0, { model: m });
    const ms = performance.now() - t0;
    const perEval = ms / r.evaluations;
    const est = scale >= 1 ? ms / 1000 : (perEval * defaultEvals) / 1000;
    console.log(`${name.padEnd(14)} ${String(defaultEvals).padStart(13)}  ${String(r.evaluations).padStart(9)}  ${(ms / 1000).toFixed(1).padStart(5)}  ${perEval.toFixed(1).padStart(7)}  ${est.toFixed(1).padStart(9)}`);
  }
  await m.dispose();
}

await main();
