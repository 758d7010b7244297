// Benchmark: forward time per image at batch sizes 1..64, and Grad-CAM's cost relative to a plain forward
// pass, and the compiled backward graph's cost (forward+backward / forward; IG 64 steps / 64 forwards), measured in
// the same run. Usage: npm run bench [-- --model <file> --images 64 --sizes 1,2,4,8,16,32,64 --grad-sizes 1,2,4,8]
import { parseArgs } from 'node:util';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { Classifier } from '../src-main/engine/model/classifier.ts';
import { GradCam } from '../src-main/engine/explain/cam/gradcam.ts';
import { resolveModel } from '../src-main/cli/common.ts';
import type { PlanarImage } from '../src-main/engine/types.ts';
import { mulberryImage } from './bench-util.ts';
import { gradientGraph, GradientScheduler, INPUT } from '../src-main/engine/model/autodiff/gradient-scheduler.ts';
import { IntegratedGradients } from '../src-main/engine/explain/gradient/integrated-gradients.ts';
import { toModelTensor } from '../src-main/engine/model/presets.ts';

async function main() {
  const { values } = parseArgs({ options: { model: { type: 'string' }, images: { type: 'string' }, sizes: { type: 'string' }, repeats: { type: 'string' }, 'grad-sizes': { type: 'string' } } });
  const fallback = path.resolve('../shared/data/models/inception_v3-random.onnx');
  const spec = values.model ?? (existsSync(fallback) ? fallback : 'builtin:demo');
  const count = Number(values.images ?? 64);
  const sizes = (values.sizes ?? '1,2,4,8,16,32,64').split(',').map(Number);
  const repeats = Number(values.repeats ?? 3);
  const file = await resolveModel(spec);
  const probe = await Classifier.load(file, { batchSize: 1 });
  const { width, height } = probe.info.input;
  console.log(`model ${spec}: ${probe.info.input.layout} ${width}x${height}, ${probe.info.batch.note}`);
  console.log(`head: ${probe.info.head.found ? probe.info.head.description : probe.info.head.reason}`);
  await probe.dispose();
  const images: PlanarImage[] = Array.from({ length: count }, (_, i) => mulberryImage(width, height, i + 1));

  console.log('\nbatch  ms/image  images/s');
  let best = { size: 1, ms: Infinity };
  for (const size of sizes) {
    const m = await Classifier.load(file, { batchSize: size });
    if (m.info.batch.size !== size) { console.log(`${String(size).padStart(5)}  (batch fixed at ${m.info.batch.size})`); await m.dispose(); continue; }
    await m.predict(images.slice(0, size)); // warm-up
    let ms = Infinity;
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      await m.predict(images);
      ms = Math.min(ms, (performance.now() - t0) / count);
    }
    if (ms < best.ms) best = { size, ms };
    console.log(`${String(size).padStart(5)}  ${ms.toFixed(1).padStart(8)}  ${(1000 / ms).toFixed(1).padStart(8)}`);
    await m.dispose();
  }
  console.log(`best batch size: ${best.size} (${best.ms.toFixed(1)} ms/image)`);

  // Grad-CAM vs plain forward, one image per call for both, interleaved so that drift hits both alike.
  const m = await Classifier.load(file, { batchSize: 1 });
  if (!m.head) { console.log(`Grad-CAM: not available (${m.info.head.found ? '' : m.info.head.reason})`); return; }
  const cam = new GradCam();
  const settings = cam.settings({});
  const n = Math.min(count, 32);
  await m.predict([images[0]]);
  await cam.explain({ id: 'w', input: images[0], transform: { originalWidth: width, originalHeight: height, crop: { x: 0, y: 0, width, height }, inputWidth: width, inputHeight: height } }, { classIndex: 0, score: 'logit' }, settings, 0, { model: m });
  let plain = 0;
  let gradcam = 0;
  for (let r = 0; r < repeats; r++) {
    for (let i = 0; i < n; i++) {
      let t0 = performance.now();
      await m.predict([images[i]]);
      plain += performance.now() - t0;
      t0 = performance.now();
      await cam.explain({ id: String(i), input: images[i], transform: { originalWidth: width, originalHeight: height, crop: { x: 0, y: 0, width, height }, inputWidth: width, inputHeight: height } }, { classIndex: i % m.info.numClasses, score: 'logit' }, settings, 0, { model: m });
      gradcam += performance.now() - t0;
    }
  }
  const k = n * repeats;
  console.log(`\nplain forward (batch 1): ${(plain / k).toFixed(1)} ms/image`);
  console.log(`Grad-CAM (forward with the feature block + closed-form map): ${(gradcam / k).toFixed(1)} ms/image`);
  console.log(`Grad-CAM / forward = ${(gradcam / plain).toFixed(3)} (target <= 1.10)`);
  await m.dispose();
  await benchGradients(file, images, (values['grad-sizes'] ?? '1,2,4,8').split(',').map(Number), repeats);
}

/**
 * The compiled backward graph: forward+backward (gradient of one logit w.r.t. the input) per image against a plain
 * forward per image at each batch size, interleaved; then Integrated Gradients with 64 steps against 64 forwards.
 */
async function benchGradients(file: string, images: PlanarImage[], sizes: number[], repeats: number) {
  console.log('\nbackward graph (d logit / d input): batch  forward ms/image  forward+backward ms/image  ratio');
  let best = { size: 0, ratio: Infinity, fwd: 0, both: 0 };
  for (const size of sizes) {
    const m = await Classifier.load(file, { batchSize: size });
    if (m.info.batch.size !== size) { await m.dispose(); continue; }
    const t0 = performance.now();
    const graph = await gradientGraph(m, [INPUT]);
    if (size === sizes[0]) console.log(`  (compiled in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${(graph.bytes / 1e6).toFixed(1)} MB)`);
    const { info } = m;
    const K = info.numClasses;
    const batch = images.slice(0, size);
    const x = toModelTensor(batch, info.preset, info.input.layout, info.input.channels);
    const seed = new Float32Array(size * K);
    for (let i = 0; i < size; i++) seed[i * K + (i % K)] = 1;
    const zeros = new Float32Array(size * K);
    await m.predict(batch);
    await graph.run(x, size, seed, zeros);
    let fwd = 0;
    let both = 0;
    for (let r = 0; r < repeats; r++) {
      let t = performance.now();
      await m.predict(batch);
      fwd += performance.now() - t;
      t = performance.now();
      await graph.run(x, size, seed, zeros);
      both += performance.now() - t;
    }
    fwd /= repeats * size;
    both /= repeats * size;
    console.log(`${String(size).padStart(40)}  ${fwd.toFixed(1).padStart(16)}  ${both.toFixed(1).padStart(25)}  ${(both / fwd).toFixed(2)}`);
    if (both < (best.both || Infinity)) best = { size, ratio: both / fwd, fwd, both };
    await m.dispose();
  }
  console.log(`best batch for gradients: ${best.size}: forward+backward / forward = ${best.ratio.toFixed(2)} (goal <= 3.0)`);

  // Integrated Gradients, 64 Gauss-Legendre steps, against 64 forward passes of distinct inputs, both at the best batch.
  const m = await Classifier.load(file, { batchSize: best.size });
  const { width, height } = m.info.input;
  const ig = new IntegratedGradients();
  const settings = ig.settings({ steps: 64 });
  const prepared = { id: 'ig', input: images[0], transform: { originalWidth: width, originalHeight: height, crop: { x: 0, y: 0, width, height }, inputWidth: width, inputHeight: height } };
  await GradientScheduler.for(m, [INPUT]);
  const forwards = Array.from({ length: 64 }, (_, i) => images[i % images.length]).map((img, i) => ({ ...img, data: img.data.map((v) => v + i * 1e-3) }));
  let t = performance.now();
  await m.predict(forwards);
  const fwd64 = performance.now() - t;
  t = performance.now();
  const e = await ig.explain(prepared, { classIndex: 0, score: 'logit' }, settings, 0, { model: m });
  const ig64 = performance.now() - t;
  const c = e.extras.completeness as { relError: number };
  console.log(`IG 64 steps: ${ig64.toFixed(0)} ms; 64 forwards: ${fwd64.toFixed(0)} ms; IG / 64 forwards = ${(ig64 / fwd64).toFixed(2)} (completeness error ${(100 * c.relError).toFixed(2)}%)`);
  await m.dispose();
}

await main();
