// Per-image parallelism: does running independent images in worker threads, each with its own ONNX session
// of 1 intra-op thread, beat one worker whose single session uses every core through ONNX Runtime's
// intra-op threads? The same local job (N real images x RISE + LIME at reduced budgets, SqueezeNet by default)
// run with `workers x threads` = 1 x cores, cores x 1 and, on 4+ cores, cores/2 x 2; setups alternate within
// each repeat so machine load hits them alike. Printed: items/s per setup (mean [95% t-interval] over
// repeats) and each setup's ratio to 1 x cores per repeat. This is what `saliency run --workers N` chooses
// between (threads per worker default to cores / workers).
//   node --import tsx scripts/bench-parallel.ts [--images 8] [--repeats 3] [--model squeezenet|mobilenet|shufflenet]
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '../src-main/engine/store/store.ts';
import { importFolder } from '../src-main/engine/library/scan.ts';
import { createExplainJob } from '../src-main/engine/jobs/create-job.ts';
import { runJob } from '../src-main/engine/jobs/runner.ts';
import { HAS_DATA, MODELS, manifest, model, sample } from '../test/helpers/data.ts';
import { meanCI } from './bench-util.ts';

const { values } = parseArgs({ options: { images: { type: 'string', default: '8' }, repeats: { type: 'string', default: '3' }, model: { type: 'string', default: 'squeezenet' } } });
const IMAGES = Number(values.images);
const REPEATS = Number(values.repeats);
if (!HAS_DATA) throw new Error('needs ../shared/data');
const modelFile = MODELS[values.model as keyof typeof MODELS];
if (!modelFile) throw new Error(`--model must be one of ${Object.keys(MODELS).join(', ')}`);
const JOB = { methods: ['rise', 'lime'], settings: { rise: { masks: 800 }, lime: { samples: 300 } }, seed: 3 };
const ITEMS = IMAGES * JOB.methods.length;
const CORES = os.cpus().length;
const setups: [string, number, number][] = [[`1x${CORES}`, 1, CORES], [`${CORES}x1`, CORES, 1]];
if (CORES >= 4) setups.push([`${CORES / 2}x2`, Math.floor(CORES / 2), 2]);

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-parallel-'));
const lib = path.join(dir, 'images');
mkdirSync(lib);
for (const r of (await manifest()).slice(300, 300 + IMAGES)) copyFileSync(sample(r.filename), path.join(lib, r.filename));

/** Wall seconds of one run of the job (worker start-up and model loading included: they are part of the choice). */
async function once(label: string, workers: number, threadsPerWorker: number): Promise<number> {
  const store = openStore(path.join(dir, `${label}.db`));
  try {
    const { library } = await importFolder(store, lib, { thumbnails: false });
    const job = await createExplainJob(store, { libraryId: library.id, modelPath: model(modelFile), ...JOB });
    const t0 = performance.now();
    const done = await runJob(store, job.id, { workers, threadsPerWorker });
    const wall = (performance.now() - t0) / 1000;
    if (done.counts.done !== ITEMS) throw new Error(`${label}: ${done.counts.done}/${ITEMS} done`);
    return wall;
  } finally {
    store.close();
  }
}

const secs: Record<string, number[]> = Object.fromEntries(setups.map(([l]) => [l, []]));
const load0 = os.loadavg()[0];
try {
  for (let r = 0; r < REPEATS; r++) {
    // alternate the order so a load change during a repeat does not always favour the same setup
    for (const [label, workers, threads] of r % 2 ? [...setups].reverse() : setups) {
      const s = await once(`${label}-${r}`, workers, threads);
      secs[label].push(s);
      console.log(`repeat ${r + 1}/${REPEATS} ${label} (workers x threads): ${ITEMS} items in ${s.toFixed(1)} s, load ${os.loadavg()[0].toFixed(1)}`);
    }
  }
  const rate = (l: string) => secs[l].map((s) => ITEMS / s);
  const base = setups[0][0];
  console.log(`\n${IMAGES} images x RISE 800 masks + LIME 300 samples = ${ITEMS} items per run, ${values.model}, ${CORES} cores, load average ${load0.toFixed(1)} -> ${os.loadavg()[0].toFixed(1)}; mean [95% t-interval] over n = ${REPEATS} repeats`);
  for (const [label] of setups) console.log(`  ${label.padEnd(5)} items/s ${meanCI(rate(label))}`);
  for (const [label] of setups.slice(1)) console.log(`  ratio ${label} / ${base} (items/s): ${meanCI(rate(label).map((x, i) => x / rate(base)[i]))}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
