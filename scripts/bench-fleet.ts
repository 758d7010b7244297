// Fleet throughput on this machine: the same job (N real images x gradcam + ablationcam, each map with the
// deletion metric and its seeded control, SqueezeNet) run locally (1 worker thread, 1 ONNX thread) and on a
// fleet of 1, 2 and 3 `saliency worker` processes (1 ONNX thread each) through a redis-server started here on
// 127.0.0.1 at a free port. Printed: items/s per setup, the k-worker / 1-worker ratios, and the per-item queue
// overhead (fleet with 1 worker minus local, per item) in wall time and in CPU time (coordinator + workers +
// redis-server against the local process: CPU time does not depend on what else loads the machine), each as
// a mean over repeats with a 95% t-interval. The machine's 2 cores bound the ratios.
//   node --import tsx scripts/bench-fleet.ts [--images 24] [--repeats 3]
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '../src-main/engine/store/store.ts';
import { importFolder } from '../src-main/engine/library/scan.ts';
import { createExplainJob } from '../src-main/engine/jobs/create-job.ts';
import { runJob } from '../src-main/engine/jobs/runner.ts';
import { runFleetJob } from '../src-main/engine/fleet/coordinator.ts';
import { HAS_DATA, MODELS, REPO, manifest, model, sample } from '../test/helpers/data.ts';
import { startRedis } from '../test/fleet/redis-server.ts';
import { meanCI } from './bench-util.ts';

const { values } = parseArgs({ options: { images: { type: 'string', default: '24' }, repeats: { type: 'string', default: '3' } } });
const IMAGES = Number(values.images);
const REPEATS = Number(values.repeats);
if (!HAS_DATA) throw new Error('needs ../shared/data');
const squeezenet = model(MODELS.squeezenet);
const JOB = { methods: ['gradcam', 'ablationcam'], metrics: ['deletion'], metricSettings: { deletion: { steps: 4, controlSamples: 1 } }, seed: 7 };
const ITEMS = IMAGES * JOB.methods.length;

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-fleet-'));
const lib = path.join(dir, 'images');
mkdirSync(lib);
for (const r of (await manifest()).slice(700, 700 + IMAGES)) copyFileSync(sample(r.filename), path.join(lib, r.filename));
const redis = await startRedis();

const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
/** CPU seconds a process has used so far (all its threads), from /proc. */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICK; // utime, stime
}
const ownCpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

/** Wall and CPU seconds to run the job once: locally, or on `workers` fleet workers (started and ready before
 *  the clock). CPU: this process (the local runner's threads, or the coordinator), the workers, redis-server. */
async function once(label: string, workers: number): Promise<{ wall: number; cpu: number }> {
  const store = openStore(path.join(dir, `${label}.db`));
  const procs: ChildProcess[] = [];
  try {
    const { library } = await importFolder(store, lib, { thumbnails: false });
    const job = await createExplainJob(store, { libraryId: library.id, modelPath: squeezenet, ...JOB });
    const ready: Promise<void>[] = [];
    for (let i = 0; i < workers; i++) {
      const p = spawn(process.execPath, [path.join(REPO, 'bin/saliency.js'), 'worker', '--queue', redis.url, '--model', squeezenet, '--threads', '1', '--quiet'], { cwd: REPO });
      procs.push(p);
      ready.push(new Promise((resolve, reject) => {
        p.stdout!.on('data', (d) => { if (/ready/.test(String(d))) resolve(); });
        p.on('exit', (code) => reject(new Error(`worker exited ${code}`)));
      }));
    }
    await Promise.all(ready);
    const pids = [...procs.map((p) => p.pid!), ...(workers ? [redis.process.pid!] : [])];
    const cpu0 = ownCpu() + pids.reduce((a, p) => a + cpuOf(p), 0);
    const t0 = performance.now();
    const done = workers === 0
      ? await runJob(store, job.id, { workers: 1, threadsPerWorker: 1 })
      : await runFleetJob(store, job.id, { queue: redis.url });
    const wall = (performance.now() - t0) / 1000;
    const cpu = ownCpu() + pids.reduce((a, p) => a + cpuOf(p), 0) - cpu0;
    if (done.counts.done !== ITEMS) throw new Error(`${label}: ${done.counts.done}/${ITEMS} done`);
    return { wall, cpu };
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
    store.close();
  }
}

const setups = [['local', 0], ['fleet-1', 1], ['fleet-2', 2], ['fleet-3', 3]] as const;
const secs: Record<string, number[]> = Object.fromEntries(setups.map(([l]) => [l, []]));
const cpus: Record<string, number[]> = Object.fromEntries(setups.map(([l]) => [l, []]));
const load0 = os.loadavg()[0];
try {
  for (let r = 0; r < REPEATS; r++) {
    for (const [label, workers] of setups) {
      const s = await once(`${label}-${r}`, workers);
      secs[label].push(s.wall);
      cpus[label].push(s.cpu);
      console.log(`repeat ${r + 1}/${REPEATS} ${label}: ${ITEMS} items in ${s.wall.toFixed(1)} s (${(ITEMS / s.wall).toFixed(2)} items/s), CPU ${s.cpu.toFixed(1)} s, load ${os.loadavg()[0].toFixed(1)}`);
    }
  }
  const rate = (l: string) => secs[l].map((s) => ITEMS / s);
  const perItemMs = (xs: number[]) => xs.map((x) => (x / ITEMS) * 1000);
  console.log(`\n${IMAGES} images x ${JOB.methods.join(' + ')} (+ deletion, 4 steps, 1 control map) = ${ITEMS} items per run, SqueezeNet fp32, ${os.cpus().length} cores, load average ${load0.toFixed(1)} -> ${os.loadavg()[0].toFixed(1)} from other work; mean [95% t-interval] over n = ${REPEATS} repeats`);
  for (const [label] of setups) console.log(`  ${label.padEnd(8)} items/s ${meanCI(rate(label))}   CPU ms/item ${meanCI(perItemMs(cpus[label]))}`);
  for (const k of [2, 3]) console.log(`  ratio ${k} workers / 1 worker (items/s): ${meanCI(rate(`fleet-${k}`).map((x, i) => x / rate('fleet-1')[i]))}`);
  console.log(`  ratio 1 fleet worker / local (items/s): ${meanCI(rate('fleet-1').map((x, i) => x / rate('local')[i]))}`);
  console.log(`  queue overhead per item (fleet-1 minus local), wall ms: ${meanCI(secs['fleet-1'].map((s, i) => ((s - secs.local[i]) / ITEMS) * 1000))}`);
  console.log(`  queue overhead per item (fleet-1 minus local), CPU ms: ${meanCI(cpus['fleet-1'].map((s, i) => ((s - cpus.local[i]) / ITEMS) * 1000))}`);
} finally {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
