// Operating a fleet: a real redis-server serving TLS only (rediss://, a self-signed certificate trusted through
// SALIENCY_REDIS_CA) with a password. Bad URLs, a wrong password and an unreachable server each get one
// line, before any job is created or claimed; the URL a job records has no password. Pause and cancel take
// the job's tasks out of the queue; a resumed job builds each image's ensemble from its stored maps and the
// fleet measures it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { runCli } from '../helpers/cli.ts';
import { HAS_DATA, MODELS, REPO, manifest, model, sample } from '../helpers/data.ts';
import { HAS_REDIS, startRedis, type RedisServer } from './redis-server.ts';
import { checkQueue } from '../../src-main/engine/fleet/queue.ts';

const PASSWORD = 'k7-fleet-secret';
const IMAGES = 4;

function start(args: string[], env: Record<string, string> = {}): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [path.join(REPO, 'bin', 'saliency.js'), ...args], { cwd: REPO, env: { ...process.env, SALIENCY_PROGRESS: '0', ...env } });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  return { child, out: () => out, exited: new Promise((resolve) => child.on('close', (code) => resolve(code))) };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, proc: { child: ChildProcess; out: () => string }): Promise<void> {
  while (!(await cond())) {
    if (proc.child.exitCode !== null) throw new Error(`waiting for ${what}: the process ended: ${proc.out().slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!HAS_DATA || !HAS_REDIS)('fleet operations: rediss:// with AUTH, clear refusals, pause, cancel, ensembles', () => {
  let dir: string;
  let lib: string;
  let db: string;
  let redis: RedisServer;
  let url: string;
  let client: Redis;
  const squeezenet = model(MODELS.squeezenet);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-ops-'));
    lib = path.join(dir, 'images');
    db = path.join(dir, 'studio.db');
    mkdirSync(lib);
    for (const r of (await manifest()).slice(600, 600 + IMAGES)) copyFileSync(sample(r.filename), path.join(lib, r.filename));
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    redis = await startRedis(['--requirepass', PASSWORD], { cert, key });
    url = redis.url; // rediss://localhost:<port>, no password
    process.env.SALIENCY_REDIS_CA = cert; // trusted here and by the CLI processes started below
    client = new Redis({ host: 'localhost', port: redis.port, password: PASSWORD, tls: { ca: readFileSync(cert) } });
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const waitingTasks = async () => {
    let n = 0;
    for (const k of await client.keys('saliency:explain-*:wait')) n += await client.llen(k);
    return n;
  };

  it('refuses a bad URL, a wrong password and an unreachable server with one line, and creates no job', async () => {
    const refusal = async (queue: string) => {
      try {
        await checkQueue(queue);
        return 'accepted';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(await refusal('http://localhost:6379')).toBe('queue URL "http://localhost:6379": scheme must be redis:// or rediss:// (got http://)');
    expect(await refusal(`redis://localhost:${redis.port}/x`)).toMatch(/database must be a number like \/0/);
    expect(await refusal(url)).toBe(`redis at ${url} refused the credentials (give them in the URL or SALIENCY_REDIS_PASSWORD)`);
    expect(await refusal(url.replace('rediss://', 'rediss://:wrong@'))).toMatch(/refused the credentials/);
    expect(await refusal('redis://127.0.0.1:1')).toMatch(/^cannot reach redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
    expect(await refusal(url.replace('rediss://', `rediss://:${PASSWORD}@`))).toBe('accepted');

    // as the commands say it: one line, and no job created
    const r = await runCli(['run', '--library', lib, '--model', squeezenet, '--method', 'gradcam', '--db', db, '--queue', url]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`saliency run: redis at ${url} refused the credentials (give them in the URL or SALIENCY_REDIS_PASSWORD)`]);
    expect((await runCli(['jobs', 'list', '--db', db])).stdout).toMatch(/no jobs/);
    const worker = await runCli(['worker', '--queue', url, '--model', squeezenet]);
    expect(worker.code).toBe(2);
    expect(worker.stderr).toMatch(/refused the credentials/);
  });

  it('pauses and cancels a job by taking its tasks out of the queue; a resumed job builds and measures ensembles on the fleet', async () => {
    const withPassword = url.replace('rediss://', `rediss://:${PASSWORD}@`);
    const args = ['run', '--library', lib, '--model', squeezenet, '--method', 'gradcam,ablationcam', '--ensemble', 'mean', '--metric', 'sparseness', '--db', db];

    // no worker yet: the tasks wait; `jobs pause` from another process takes them out and the run ends paused
    const run1 = start([...args, '--queue', withPassword]);
    await until('the tasks enqueued', () => /tasks in queue/.test(run1.out()), run1);
    expect(await waitingTasks()).toBe(IMAGES);
    const paused = await runCli(['jobs', 'pause', '1', '--db', db]);
    expect(paused.code, paused.stderr).toBe(0);
    expect(await run1.exited).toBe(1);
    expect(run1.out()).toMatch(/job 1 paused: 0\/12 done/);
    expect(await waitingTasks()).toBe(0);
    expect(await client.keys('saliency:image:*')).toEqual([]);
    const d = new Database(db, { readonly: true });
    // the job records its queue without the password
    expect(d.prepare(`SELECT json_extract(params, '$.queue') AS q FROM jobs WHERE id = 1`).get()).toEqual({ q: url });

    // resume needs the password again (not stored): refused with one line, the job untouched
    const refused = await runCli(['jobs', 'resume', '1', '--db', db]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/refused the credentials/);
    expect(d.prepare('SELECT status FROM jobs WHERE id = 1').get()).toEqual({ status: 'paused' });

    // a worker with the password from its environment; resume with it from the environment too
    const worker = start(['worker', '--queue', url, '--model', squeezenet, '--threads', '1'], { SALIENCY_REDIS_PASSWORD: PASSWORD });
    await until('the worker ready', () => /ready/.test(worker.out()), worker);
    process.env.SALIENCY_REDIS_PASSWORD = PASSWORD;
    const resumed = await runCli(['jobs', 'resume', '1', '--db', db]);
    delete process.env.SALIENCY_REDIS_PASSWORD;
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('done: 12/12 done, 0 errors, 0 pending');
    const q = (sql: string) => (d.prepare(sql).get() as { n: number }).n;
    expect(q(`SELECT COUNT(*) AS n FROM explanations e JOIN runs r ON r.id = e.run_id WHERE r.method = 'ensemble:mean'`)).toBe(IMAGES);
    expect(q('SELECT COUNT(*) AS n FROM explanations')).toBe(3 * IMAGES);
    expect(q(`SELECT COUNT(*) AS n FROM metrics WHERE name = 'sparseness'`)).toBe(3 * IMAGES);
    // the ensemble tasks ran on the worker
    expect(worker.out()).toMatch(/start \w+-\d+-e/);

    // cancel: the worker is stopped (SIGTERM: clean exit), a new job's tasks wait, `jobs cancel` ends it
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const run2 = start([...args, '--seed', '3', '--queue', withPassword]);
    await until('the tasks enqueued', () => /tasks in queue/.test(run2.out()), run2);
    expect(await waitingTasks()).toBe(IMAGES);
    expect((await runCli(['jobs', 'cancel', '2', '--db', db])).code).toBe(0);
    expect(await run2.exited).toBe(1);
    expect(run2.out()).toMatch(/job 2 cancelled: 0\/12 done/);
    expect(await waitingTasks()).toBe(0);
    expect((d.pragma('integrity_check') as { integrity_check: string }[])[0].integrity_check).toBe('ok');
    d.close();
  }, 600_000);

  it('a worker told to stop finishes its task in flight; told twice, it puts it back in the queue', async () => {
    const env = { SALIENCY_REDIS_PASSWORD: PASSWORD };
    const run = start(['run', '--library', lib, '--model', squeezenet, '--method', 'gradcam,ablationcam', '--metric', 'sparseness', '--seed', '5', '--db', db, '--queue', url], env);
    await until('the tasks enqueued', () => /tasks in queue/.test(run.out()), run);
    const jobId = Number(/^job (\d+): 8 items/m.exec(run.out())![1]);
    const inFlight = (w: ReturnType<typeof start>) => /^start (\S+)$/m.exec(w.out())?.[1];

    // SIGTERM: the task in flight is finished and stored, no new one is taken, exit 0
    const a = start(['worker', '--queue', url, '--model', squeezenet, '--threads', '1'], env);
    await until('worker A busy', () => inFlight(a) !== undefined, a);
    const first = inFlight(a)!;
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(a.out()).toMatch(new RegExp(`^done ${first} 2 items`, 'm'));
    expect(a.out().match(/^start /gm)).toHaveLength(1);

    // SIGTERM twice: the task in flight goes back to the queue at once, exit 0
    const b = start(['worker', '--queue', url, '--model', squeezenet, '--threads', '1'], env);
    await until('worker B busy', () => inFlight(b) !== undefined, b);
    const second = inFlight(b)!;
    b.child.kill('SIGTERM');
    await until('worker B finishing', () => /finishing the tasks in flight/.test(b.out()), b);
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    expect(b.out()).toMatch(new RegExp(`^returned ${second}$`, 'm'));
    expect(b.out()).not.toMatch(new RegExp(`^done ${second}`, 'm'));

    // another worker does the returned task and the rest; every item once
    const c = start(['worker', '--queue', url, '--model', squeezenet, '--threads', '1'], env);
    expect(await run.exited).toBe(0);
    expect(run.out()).toMatch(new RegExp(`job ${jobId} done: 8/8 done, 0 errors`));
    expect(c.out()).toMatch(new RegExp(`^start ${second}$`, 'm'));
    c.child.kill('SIGTERM');
    expect(await c.exited).toBe(0);
    const d = new Database(db, { readonly: true });
    expect(d.prepare(`SELECT COUNT(*) AS n FROM job_items WHERE job_id = ? AND status = 'done'`).get(jobId)).toEqual({ n: 8 });
    expect(d.prepare(`SELECT COUNT(*) AS n FROM explanations e JOIN job_items ji ON ji.explanation_id = e.id WHERE ji.job_id = ?`).get(jobId)).toEqual({ n: 8 });
    d.close();
  }, 600_000);
});
