// Benchmark: LIME's wall time for N samples against N plain forward passes at the best batch size, and the
// model evaluations used by LIME, KernelSHAP, and both together (one shared set through the scheduler).
// Usage: npm run bench:explainers [-- --model <file> --samples 1000 --segments 100 --sizes 1,2,4,8]
// Plain passes are timed half before and half after LIME so that load drift on a shared machine hits both;
// process CPU time (user+system, all threads) is printed too, as it is less sensitive to other processes.
import { parseArgs } from 'node:util';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { Classifier } from '../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../src-main/engine/image/prepare.ts';
import { schedulerFor } from '../src-main/engine/infer/scheduler.ts';
import { Lime } from '../src-main/engine/explain/perturb/lime.ts';
import { KernelShap } from '../src-main/engine/explain/perturb/kernelshap.ts';
import type { PreparedImage } from '../src-main/engine/explain/types.ts';
import { argmax } from '../src-main/engine/util/math.ts';
import { mulberryImage } from './bench-util.ts';

async function main() {
  const { values } = parseArgs({ options: {
    model: { type: 'string' }, samples: { type: 'string' }, segments: { type: 'string' }, sizes: { type: 'string' }, image: { type: 'string' },
  } });
  const data = path.resolve('../shared/data');
  const file = values.model ?? path.join(data, 'models/inception_v3-random.onnx');
  if (!existsSync(file)) throw new Error(`model ${file} not found (pass --model)`);
  const samples = Number(values.samples ?? 1000);
  const segments = Number(values.segments ?? 100);
  const sizes = (values.sizes ?? '1,2,4,8').split(',').map(Number);
  const imageFile = values.image ?? path.join(data, 'imagenet-samples/n01440764_tench.JPEG');

  // Best batch size, from a short timing of each candidate (one session; smaller calls give smaller batches).
  let m = await Classifier.load(file, { batchSize: Math.max(...sizes) });
  const { width, height } = m.info.input;
  const image: PreparedImage = existsSync(imageFile)
    ? (await prepareImageFile(imageFile, m)).prepared
    : { id: 'synthetic', input: mulberryImage(width, height, 1), transform: { originalWidth: width, originalHeight: height, crop: { x: 0, y: 0, width, height }, inputWidth: width, inputHeight: height } };
  console.log(`model ${path.basename(file)}: ${width}x${height}, ${m.info.batch.note}; image ${image.id === 'synthetic' ? 'synthetic' : path.basename(imageFile)}`);
  const copies = Array.from({ length: Math.max(...sizes) }, () => image.input);
  await m.predict(copies.slice(0, 2)); // warm-up
  let best = { size: 1, ms: Infinity };
  for (const size of sizes) {
    if (size > m.info.batch.size) continue;
    const reps = Math.max(2, Math.ceil(16 / size));
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) await m.predict(copies.slice(0, size));
    const ms = (performance.now() - t0) / (reps * size);
    console.log(`  batch ${String(size).padStart(2)}: ${ms.toFixed(1)} ms/image`);
    if (ms < best.ms) best = { size, ms };
  }
  if (best.size !== m.info.batch.size) {
    await m.dispose();
    m = await Classifier.load(file, { batchSize: best.size });
  }
  console.log(`best batch size: ${best.size}`);
  const batch = copies.slice(0, best.size);
  const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  const plainPasses = async (n: number) => {
    const t0 = performance.now();
    const c0 = cpuMs();
    for (let done = 0; done < n; done += best.size) await m.predict(batch.slice(0, Math.min(best.size, n - done)));
    return { wall: performance.now() - t0, cpu: cpuMs() - c0 };
  };

  const out = await m.predict([image.input]);
  const target = { classIndex: argmax(out.logits), score: 'logit' as const };
  const scheduler = schedulerFor(m);
  const lime = new Lime();
  const kshap = new KernelShap();
  const settings = { samples, segments };

  const plainA = await plainPasses(Math.floor(samples / 2));
  scheduler.clearCache();
  scheduler.resetStats();
  let t0 = performance.now();
  const c0 = cpuMs();
  const limeResult = await lime.explain(image, target, lime.settings(settings), 0, { model: m });
  const limeMs = performance.now() - t0;
  const limeCpu = cpuMs() - c0;
  const afterLime = scheduler.stats.evaluated;
  const plainB = await plainPasses(samples - Math.floor(samples / 2));
  const plainMs = plainA.wall + plainB.wall;
  const plainCpu = plainA.cpu + plainB.cpu;
  t0 = performance.now();
  const shapResult = await kshap.explain(image, target, kshap.settings(settings), 0, { model: m });
  const shapMs = performance.now() - t0;

  console.log(`\n${samples} plain forward passes (batch ${best.size}): ${(plainMs / 1000).toFixed(2)} s (${(plainMs / samples).toFixed(1)} ms/image)`);
  console.log(`LIME, ${samples} samples, ${limeResult.extras.segments} SLIC segments: ${(limeMs / 1000).toFixed(2)} s (R^2 ${(limeResult.extras.r2 as number).toFixed(3)})`);
  console.log(`LIME / plain forward = ${(limeMs / plainMs).toFixed(3)} wall time (target <= 1.10); CPU time ratio ${(limeCpu / plainCpu).toFixed(3)}`);
  console.log(`\nmodel evaluations (scheduler stats):`);
  console.log(`  LIME alone:                 ${limeResult.extras.freshEvaluations} new evaluations for ${limeResult.evaluations} samples`);
  console.log(`  KernelSHAP after LIME:      ${shapResult.extras.freshEvaluations} new evaluations for ${shapResult.evaluations} samples (${(shapMs / 1000).toFixed(2)} s: fit + masks + cache look-ups)`);
  console.log(`  LIME + KernelSHAP together: ${scheduler.stats.evaluated} evaluations (requested ${scheduler.stats.requested}, cache hits ${scheduler.stats.cacheHits}, batches ${scheduler.stats.batches})`);
  console.log(`  (LIME alone used ${afterLime}; KernelSHAP alone would use the same ${afterLime}: both draw one shared coalition set)`);
  console.log(`KernelSHAP efficiency: sum ${(shapResult.extras.sum as number).toFixed(5)} vs f(x)-f(baseline) ${((shapResult.extras.prediction as number) - (shapResult.extras.baselinePrediction as number)).toFixed(5)} (gap ${(shapResult.extras.efficiencyGap as number).toExponential(1)})`);
  await m.dispose();
}

await main();
