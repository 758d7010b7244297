// Benchmark: forward time per image at batch sizes 1..64, and Grad-CAM's cost relative to a plain forward
// pass, measured in the same run. Usage: npm run bench [-- --model <file> --images 64 --sizes 1,2,4,8,16,32,64]
import { parseArgs } from 'node:util';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { Classifier } from '../src-main/engine/model/classifier.ts';
import { GradCam } from '../src-main/engine/explain/cam/gradcam.ts';
import { resolveModel } from '../src-main/cli/common.ts';
import type { PlanarImage } from '../src-main/engine/types.ts';
import { mulberryImage } from './bench-util.ts';

async function main() {
  const { values } = parseArgs({ options: { model: { type: 'string' }, images: { type: 'string' }, sizes: { type: 'string' }, repeats: { type: 'string' } } });
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
}

await main();
