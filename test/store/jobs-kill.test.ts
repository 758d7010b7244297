// The batch runner under a real kill: `saliency run` (100 real images x 2 methods + their mean ensemble, each
// map with 2 metrics, SqueezeNet, 2 worker threads) is SIGKILLed half-way, then `saliency jobs resume`
// finishes it. Exactly 200 method maps + 100 ensembles and 600 metric rows, no duplicate, nothing half
// written, an intact database; two other processes read all along without a "database is locked".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { HAS_DATA, MODELS, REPO, manifest, model, sample } from '../helpers/data.ts';
import { EXPLAINER_NAMES } from '../../src-main/engine/explain/registry.ts';

const CLI = path.join(REPO, 'bin', 'saliency.js');

function collect(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => { out += d; });
  child.stderr?.on('data', (d) => { err += d; });
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, out, err })));
}
const cli = (args: string[]) => spawn(process.execPath, [CLI, ...args], { cwd: REPO, env: { ...process.env, SALIENCY_PROGRESS: '0' } });

describe.skipIf(!HAS_DATA)('batch job killed with SIGKILL and resumed (real SqueezeNet, 100 images x (2 methods + 1 ensemble) x 2 metrics)', () => {
  let dir: string;
  let db: string;
  let lib: string;
  // a second cheap method: Ablation-CAM when registered, else Grad-CAM on the probability
  const second = EXPLAINER_NAMES.includes('ablationcam') ? 'ablationcam' : 'gradcam:probability';

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'jobs-kill-'));
    db = path.join(dir, 'studio.db');
    lib = path.join(dir, 'images');
    mkdirSync(lib);
    for (const r of (await manifest()).slice(0, 100)) copyFileSync(sample(r.filename), path.join(lib, r.filename));
    const added = await collect(cli(['library', 'add', lib, '--db', db, '--no-thumbnails']));
    expect(added.code, added.err).toBe(0);
    expect(added.out).toMatch(/100 files: 100 new/);
  }, 0);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finishes with exactly 200 + 100 ensemble explanations and 600 metric rows, no duplicate, integrity ok, and readers never locked out', async () => {
    const run = cli(['run', '--library', lib, '--model', model(MODELS.squeezenet), '--method', `gradcam,${second}`, '--ensemble', 'mean',
      '--metric', 'deletion,sparseness', '--set', 'deletion.steps=2,deletion.control=false', '--workers', '2', '--db', db]);
    const runDone = collect(run);
    // two reader processes doing the UI's queries while the job writes
    const readers = [0, 1].map(() => collect(spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'test/store/fixtures/reader.ts'), db, '7000'], { cwd: REPO })));

    const watch = new Database(db, { readonly: true, timeout: 30_000 });
    const done = () => {
      try {
        return (watch.prepare(`SELECT COUNT(*) AS n FROM job_items WHERE status = 'done'`).get() as { n: number }).n;
      } catch { return 0; } // tables not there yet
    };
    const t0 = Date.now();
    // Waits on progress, not the clock: it gives up only when no item has finished for 10 minutes.
    let last = { n: 0, at: Date.now() };
    while (done() < 150) {
      const n = done();
      if (n > last.n) last = { n, at: Date.now() };
      if (Date.now() - last.at > 600_000 || run.exitCode !== null) {
        run.kill('SIGKILL');
        throw new Error(`the job did not get half-way (${done()} done); its output: ${(await runDone).err}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const tHalf = Date.now() - t0;
    run.kill('SIGKILL');
    const killed = await runDone;
    expect(killed.signal).toBe('SIGKILL');
    const doneAtKill = done();
    expect(doneAtKill).toBeGreaterThanOrEqual(150);
    expect(doneAtKill).toBeLessThan(300);
    // what was committed is whole: every done item has its explanation and both its metrics, nothing else was written
    const q = (sql: string) => (watch.prepare(sql).get() as { n: number }).n;
    expect(q('SELECT COUNT(*) AS n FROM explanations')).toBe(doneAtKill);
    expect(q('SELECT COUNT(*) AS n FROM metrics')).toBe(2 * doneAtKill);
    expect(q(`SELECT COUNT(*) AS n FROM job_items WHERE status = 'done' AND explanation_id IS NULL`)).toBe(0);
    const job = watch.prepare('SELECT id, status, pid FROM jobs').get() as { id: number; status: string; pid: number };
    expect(job.status).toBe('running'); // its process is gone: `jobs list` says so and `jobs resume` takes it
    const list = await collect(cli(['jobs', 'list', '--db', db]));
    expect(list.out).toMatch(/running \(process gone\)/);

    const t1 = Date.now();
    const resumed = await collect(cli(['jobs', 'resume', '--db', db, '--workers', '2']));
    const tResume = Date.now() - t1;
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.out).toContain(`job ${job.id}: ${300 - doneAtKill} items to do`); // exactly the missing ones
    expect(resumed.out).toMatch(/done: 300\/300 done, 0 errors, 0 pending/);

    expect(q('SELECT COUNT(*) AS n FROM explanations')).toBe(300);
    expect(q('SELECT COUNT(*) AS n FROM (SELECT DISTINCT image_id, run_id, target_class, score_kind FROM explanations)')).toBe(300);
    expect(q('SELECT COUNT(*) AS n FROM (SELECT image_id FROM explanations GROUP BY image_id HAVING COUNT(*) = 3)')).toBe(100);
    expect(q(`SELECT COUNT(*) AS n FROM explanations e JOIN runs r ON r.id = e.run_id WHERE r.method = 'ensemble:mean'`)).toBe(100);
    expect(q(`SELECT COUNT(*) AS n FROM job_items WHERE status = 'done'`)).toBe(300);
    expect(q('SELECT COUNT(*) AS n FROM predictions')).toBe(100);
    expect(q('SELECT COUNT(*) AS n FROM runs')).toBe(3);
    // every map is a full 224x224 float32 map
    expect(q(`SELECT COUNT(*) AS n FROM explanations WHERE map_width = 224 AND map_height = 224 AND length(map) = 224 * 224 * 4`)).toBe(300);
    // every map has exactly its two metric rows (deletion kept cheap here: 3 points, no random-map control)
    expect(q('SELECT COUNT(*) AS n FROM metrics')).toBe(600);
    expect(q('SELECT COUNT(*) AS n FROM (SELECT explanation_id FROM metrics GROUP BY explanation_id HAVING COUNT(*) = 2)')).toBe(300);
    expect(q(`SELECT COUNT(*) AS n FROM metrics WHERE name = 'deletion' AND value IS NOT NULL AND json_array_length(curve, '$.y') = 3`)).toBe(300);
    expect(q(`SELECT COUNT(*) AS n FROM metrics WHERE name = 'sparseness' AND value BETWEEN 0 AND 1 AND random_value IS NULL`)).toBe(300);
    expect((watch.pragma('integrity_check') as { integrity_check: string }[])[0].integrity_check).toBe('ok');
    expect((watch.prepare('SELECT status, pid FROM jobs').get() as { status: string; pid: number | null })).toEqual({ status: 'done', pid: null });
    watch.close();

    for (const r of await Promise.all(readers)) {
      expect(r.code, r.err).toBe(0);
      const report = JSON.parse(r.out.trim().split('\n').pop()!) as { reads: number; errors: string[]; maxMs: number };
      console.log(`killed at ${doneAtKill}/300 done after ${tHalf} ms; resume of ${300 - doneAtKill} items took ${tResume} ms; reader: ${report.reads} reads, slowest ${report.maxMs.toFixed(0)} ms`);
      expect(report.errors).toEqual([]);
      expect(report.reads).toBeGreaterThan(20);
    }
  }, 0); // no time limit: a loaded machine is slower, and the waits above end on progress
});
