// Benchmark: deletion + insertion (2 x 50 steps) on InceptionV3's architecture (299x299, random weights) against
// the same number of plain forward passes, in one run. Target: ratio <= 1.10.
// Both wall time and process CPU time (user + system, which includes ONNX Runtime's threads) are reported: on a
// shared machine wall time swings with other load, CPU time much less. Runs alternate which side goes first.
// Usage: node --import tsx scripts/bench-metrics.ts [--model file.onnx] [--image file.jpg] [--steps 50] [--reps 2]
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Classifier } from '../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../src-main/engine/image/prepare.ts';
import { getExplainer } from '../src-main/engine/explain/registry.ts';
import { getMetric } from '../src-main/engine/metrics/registry.ts';
import { schedulerFor } from '../src-main/engine/infer/scheduler.ts';
import type { PlanarImage } from '../src-main/engine/types.ts';

async function main(): Promise<void> {
  const data = process.env.SALIENCY_DATA ?? path.resolve(import.meta.dirname, '../../shared/data');
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: path.join(data, 'models/inception_v3-random.onnx') },
      image: { type: 'string', default: path.join(data, 'imagenet-samples/n01440764_tench.JPEG') },
      steps: { type: 'string', default: '50' },
      reps: { type: 'string', default: '4' },
    },
  });
  const steps = Number(values.steps);
  const reps = Number(values.reps);
  const model = await Classifier.load(values.model!, { batchSize: 8 });
  const { prepared: image } = await prepareImageFile(values.image!, model);
  const top = await model.predict([image.input]);
  let best = 0;
  for (let k = 1; k < top.numClasses; k++) if (top.probabilities[k] > top.probabilities[best]) best = k;
  const target = { classIndex: best, score: 'probability' as const };
  const gradcam = getExplainer('gradcam');
  const { map } = await gradcam.explain(image, target, gradcam.settings({}), 1, { model });
  const deletion = getMetric('deletion');
  const insertion = getMetric('insertion');
  const dS = deletion.settings({ steps, control: false });
  const iS = insertion.settings({ steps, control: false });
  const scheduler = schedulerFor(model);
  const inputs = 2 * (steps + 1);
  // The same number of plain forward passes as inputs the two curves submit (distinct images, same batch size).
  const plainImages: PlanarImage[] = Array.from({ length: inputs }, (_, i) => {
    const d = image.input.data.slice();
    d[i] = (d[i] + 1) % 256;
    return { ...image.input, data: d };
  });
  await model.predict(plainImages.slice(0, model.info.batch.size)); // warm-up
  console.log(`model ${model.info.name}: ${model.info.input.width}x${model.info.input.height}, batch ${model.info.batch.size}; ${inputs} inputs per run (2 x ${steps} steps + 2 end points)`);
  const measure = async (f: () => Promise<unknown>) => {
    const c = process.cpuUsage();
    const t = performance.now();
    await f();
    const cpu = process.cpuUsage(c);
    return { wall: performance.now() - t, cpu: (cpu.user + cpu.system) / 1000 };
  };
  const plainRun = () => measure(() => model.predict(plainImages));
  const metricRun = () => {
    scheduler.clearCache();
    scheduler.resetStats();
    return measure(() => Promise.all([
      deletion.compute({ image, target, map, model }, dS, 1),
      insertion.compute({ image, target, map, model }, iS, 1),
    ]));
  };
  const sum = { plainWall: 0, plainCpu: 0, metricWall: 0, metricCpu: 0 };
  for (let r = 0; r < reps; r++) {
    const metricFirst = r % 2 === 1;
    const m1 = metricFirst ? await metricRun() : undefined;
    const p = await plainRun();
    const m = m1 ?? await metricRun();
    sum.plainWall += p.wall; sum.plainCpu += p.cpu; sum.metricWall += m.wall; sum.metricCpu += m.cpu;
    console.log(`rep ${r + 1} (${metricFirst ? 'metric first' : 'plain first'}): plain ${p.wall.toFixed(0)} ms wall / ${p.cpu.toFixed(0)} ms cpu; ` +
      `deletion+insertion ${m.wall.toFixed(0)} ms wall / ${m.cpu.toFixed(0)} ms cpu; ratio wall ${(m.wall / p.wall).toFixed(3)}, cpu ${(m.cpu / p.cpu).toFixed(3)} ` +
      `(${scheduler.stats.evaluated} evaluations in ${scheduler.stats.batches} batches)`);
  }
  const wall = sum.metricWall / sum.plainWall;
  const cpu = sum.metricCpu / sum.plainCpu;
  console.log(`\nplain forward passes: ${(sum.plainWall / reps).toFixed(0)} ms wall (${(sum.plainWall / reps / inputs).toFixed(1)} ms per input), ${(sum.plainCpu / reps).toFixed(0)} ms cpu`);
  console.log(`deletion+insertion:   ${(sum.metricWall / reps).toFixed(0)} ms wall, ${(sum.metricCpu / reps).toFixed(0)} ms cpu`);
  console.log(`ratio wall ${wall.toFixed(3)}, cpu ${cpu.toFixed(3)} (target <= 1.10): wall ${wall <= 1.1 ? 'PASS' : 'FAIL'}, cpu ${cpu <= 1.1 ? 'PASS' : 'FAIL'}`);
  await model.dispose();
}

await main();
