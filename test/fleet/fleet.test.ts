// A library job on a real fleet: redis-server on 127.0.0.1 at a free port, 3 `saliency worker` processes and
// `saliency run --queue` (60 real images x gradcam + ablationcam, each map with the deletion metric and its
// seeded random-map control, SqueezeNet). One worker is SIGKILLed in the middle of a task: BullMQ's stalled
// check gives that task to another worker. The coordinator is SIGKILLed half-way: the workers finish the queue,
// the results wait in Redis, and `saliency jobs resume` stores them without recomputing. Every item is stored
// exactly once, the maps and metric values are bit-identical to a local run with the same seed, the database
// is intact and Redis holds nothing of the job afterwards. Every wait is on progress, never on the clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { runCli } from '../helpers/cli.ts';
import { HAS_DATA, MODELS, REPO, manifest, model, sample } from '../helpers/data.ts';
import { HAS_REDIS, startRedis, type RedisServer } from './redis-server.ts';

const CLI = path.join(REPO, 'bin', 'saliency.js');
const IMAGES = 60;
const ITEMS = IMAGES * 2;
const JOB_ARGS = ['--method', 'gradcam,ablationcam', '--metric', 'deletion', '--set', 'deletion.steps=4,deletion.controlSamples=1', '--seed', '7'];

interface Proc { child: ChildProcess; out: string[]; err: string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }
function start(args: string[]): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO, env: { ...process.env, SALIENCY_PROGRESS: '0' } });
  const p: Proc = { child, out: [], err: '', exited: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal }))) };
  let partial = '';
  child.stdout!.on('data', (d) => {
    const lines = (partial + d).split('\n');
    partial = lines.pop()!;
    p.out.push(...lines);
  });
  child.stderr!.on('data', (d) => { p.err += d; });
  return p;
}

/** Polls cond (cheap reads) until it holds; fails early, with what is known, if a process it needs exits. */
async function until(what: string, cond: () => boolean | Promise<boolean>, alive: Proc[] = []): Promise<void> {
  while (!(await cond())) {
    const dead = alive.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (dead) throw new Error(`waiting for ${what}: a process ended (${dead.child.spawnargs.slice(2, 4).join(' ')}): ${dead.err.slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!HAS_DATA || !HAS_REDIS)(`fleet: real redis-server, 3 worker processes, ${IMAGES} images x 2 methods + deletion (SqueezeNet)`, () => {
  let dir: string;
  let lib: string;
  let redis: RedisServer;
  const workers: Proc[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-'));
    lib = path.join(dir, 'images');
    mkdirSync(lib);
    for (const r of (await manifest()).slice(500, 500 + IMAGES)) copyFileSync(sample(r.filename), path.join(lib, r.filename));
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores every item exactly once through a killed worker and a killed coordinator, bit-identical to a local run', async () => {
    const localDb = path.join(dir, 'local.db');
    const fleetDb = path.join(dir, 'fleet.db');
    const squeezenet = model(MODELS.squeezenet);

    // the reference: the same job run locally
    const t0 = Date.now();
    const local = await runCli(['run', '--library', lib, '--model', squeezenet, ...JOB_ARGS, '--workers', '1', '--db', localDb]);
    expect(local.code, local.stderr).toBe(0);
    expect(local.stdout).toContain(`done: ${ITEMS}/${ITEMS} done, 0 errors`);
    const tLocal = Date.now() - t0;

    // three workers (one ONNX thread each: the machine has 2 cores), a short lock so a dead worker's task is
    // seen stalled within seconds
    for (let i = 0; i < 3; i++) workers.push(start(['worker', '--queue', redis.url, '--model', squeezenet, '--threads', '1', '--lock-seconds', '3', '--name', `w${i}`]));
    await until('3 workers ready', () => workers.every((w) => w.out.some((l) => l.includes('ready'))), workers);

    const t1 = Date.now();
    const coordinator = start(['run', '--library', lib, '--model', squeezenet, ...JOB_ARGS, '--queue', redis.url, '--db', fleetDb]);
    let watch: Database.Database | undefined;
    const done = () => {
      try {
        watch ??= new Database(fleetDb, { readonly: true, timeout: 30_000 });
        return (watch.prepare(`SELECT COUNT(*) AS n FROM job_items WHERE status = 'done'`).get() as { n: number }).n;
      } catch { return 0; } // not created yet
    };
    await until('10 items stored', () => done() >= 10, [coordinator, ...workers]);
    expect(coordinator.out.join('\n')).toMatch(/fleet: 3 worker\(s\) on the queue/);

    // SIGKILL worker 0 while it is in the middle of a task
    const victim = workers[0];
    const inFlight = () => {
      const started = victim.out.filter((l) => l.startsWith('start ')).map((l) => l.slice(6));
      const last = started[started.length - 1];
      return last && !victim.out.includes(`done ${last}`) && !victim.out.some((l) => l.startsWith(`done ${last} `)) ? last : null;
    };
    await until('worker 0 in the middle of a task', () => inFlight() !== null, [victim, coordinator]);
    const lost = inFlight()!;
    victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    // BullMQ's stalled-job check (in the other workers) gives the task to one of them
    await until(`task ${lost} retried by another worker`, () => workers.slice(1).some((w) => w.out.includes(`start ${lost}`)), [coordinator, ...workers.slice(1)]);
    const retriedBy = workers.slice(1).find((w) => w.out.includes(`start ${lost}`))!;
    await until(`task ${lost} done by the other worker`, () => retriedBy.out.some((l) => l.startsWith(`done ${lost} `)), [coordinator, retriedBy]);

    // SIGKILL the coordinator half-way
    await until(`${ITEMS / 2} items stored`, () => done() >= ITEMS / 2, [coordinator]);
    coordinator.child.kill('SIGKILL');
    expect((await coordinator.exited).signal).toBe('SIGKILL');
    const doneAtKill = done();
    expect(doneAtKill).toBeLessThan(ITEMS);
    const job = watch!.prepare('SELECT id, status FROM jobs').get() as { id: number; status: string };
    expect(job.status).toBe('running');
    expect((await runCli(['jobs', 'list', '--db', fleetDb])).stdout).toMatch(/running \(process gone\)/);

    // the two workers left empty the queue; the results wait in Redis
    const r = new Redis(redis.port, '127.0.0.1');
    const queueKeys = async () => (await r.keys('saliency:explain-*:wait')).concat(await r.keys('saliency:explain-*:active'));
    await until('the queue emptied by the workers', async () => {
      let n = 0;
      for (const k of await queueKeys()) n += await r.llen(k);
      return n === 0;
    }, workers.slice(1));
    const waitingResults = (await r.keys('saliency:result:*')).length;
    expect(waitingResults).toBeGreaterThan(0);
    const startsBefore = workers.reduce((n, w) => n + w.out.filter((l) => l.startsWith('start ')).length, 0);

    // resume: no --queue, the job knows it; it collects what waited in Redis (nothing is computed again)
    const resumed = await runCli(['jobs', 'resume', '--db', fleetDb]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`job ${job.id}: ${ITEMS - doneAtKill} items to do on the fleet`);
    expect(resumed.stdout).toMatch(/were there already/);
    expect(resumed.stdout).toContain(`done: ${ITEMS}/${ITEMS} done, 0 errors, 0 pending`);
    const startsAfter = workers.reduce((n, w) => n + w.out.filter((l) => l.startsWith('start ')).length, 0);
    expect(startsAfter).toBe(startsBefore);
    const tFleet = Date.now() - t1;

    // exactly once
    const q = (sql: string) => (watch!.prepare(sql).get() as { n: number }).n;
    expect(q(`SELECT COUNT(*) AS n FROM job_items WHERE status = 'done'`)).toBe(ITEMS);
    expect(q('SELECT COUNT(*) AS n FROM explanations')).toBe(ITEMS);
    expect(q('SELECT COUNT(*) AS n FROM (SELECT DISTINCT image_id, run_id, target_class, score_kind FROM explanations)')).toBe(ITEMS);
    expect(q('SELECT COUNT(*) AS n FROM metrics')).toBe(ITEMS);
    expect(q(`SELECT COUNT(*) AS n FROM (SELECT explanation_id FROM metrics WHERE name = 'deletion' AND random_value IS NOT NULL GROUP BY explanation_id HAVING COUNT(*) = 1)`)).toBe(ITEMS);
    expect(q('SELECT COUNT(*) AS n FROM predictions')).toBe(IMAGES);
    expect(q(`SELECT COUNT(*) AS n FROM job_items WHERE status = 'done' AND explanation_id IS NULL`)).toBe(0);
    // the killed worker's image: its two maps, once each
    const lostImage = Number(lost.split('-')[1]);
    expect(q(`SELECT COUNT(*) AS n FROM explanations WHERE image_id = ${lostImage}`)).toBe(2);
    expect((watch!.pragma('integrity_check') as { integrity_check: string }[])[0].integrity_check).toBe('ok');
    expect(watch!.prepare('SELECT status, pid FROM jobs').get()).toEqual({ status: 'done', pid: null });

    // bit-identical to the local run: maps, native maps, targets, predictions, metric values and curves
    const rows = (file: string) => {
      const d = new Database(file, { readonly: true });
      try {
        return new Map((d.prepare(`SELECT i.rel_path || '|' || r.method AS k, e.target_class, e.score_kind, e.map, e.native, e.evaluations,
            m.value, m.random_value, m.curve, m.settings, p.top_k AS prediction
          FROM explanations e JOIN images i ON i.id = e.image_id JOIN runs r ON r.id = e.run_id
          JOIN metrics m ON m.explanation_id = e.id JOIN predictions p ON p.image_id = e.image_id`).all() as Record<string, unknown>[]).map((x) => [x.k as string, x]));
      } finally {
        d.close();
      }
    };
    const a = rows(localDb);
    const b = rows(fleetDb);
    expect(a.size).toBe(ITEMS);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    // blobs compared as bytes (toEqual would walk 120 x 200 kB element by element)
    const same = (u: unknown, v: unknown) => u === v || (Buffer.isBuffer(u) && Buffer.isBuffer(v) && u.equals(v));
    for (const [k, x] of a) {
      const y = b.get(k)!;
      for (const f of ['map', 'native']) expect(same(x[f], y[f]), `${k} ${f}`).toBe(true);
      expect({ ...y, map: null, native: null }, k).toEqual({ ...x, map: null, native: null });
    }

    // Redis keeps nothing of the job: every task acknowledged, images and results deleted
    expect(await r.keys('saliency:result:*')).toEqual([]);
    expect(await r.keys('saliency:image:*')).toEqual([]);
    for (const k of await r.keys('saliency:explain-*:completed')) expect(await r.zcard(k)).toBe(0);
    r.disconnect();

    // the workers left stop on SIGTERM, cleanly
    for (const w of workers.slice(1)) w.child.kill('SIGTERM');
    for (const w of workers.slice(1)) {
      const e = await w.exited;
      expect(e.code, w.err).toBe(0);
      expect(w.out.join('\n')).toMatch(/stopped/);
    }
    watch!.close();
    console.log(`local run ${tLocal} ms; fleet (3 workers, 1 killed, coordinator killed at ${doneAtKill}/${ITEMS}, then resumed, ${waitingResults} results waited in redis) ${tFleet} ms`);
  }, 900_000);
});
