// Two `saliency run` processes with the same work on one library (issue 16 #11): the second joins the first's
// job and both claim its images one at a time, so every item is computed exactly once and both do some; other
// work on the library runs as its own job. A runner SIGKILLed mid-way: the other takes over the image it had
// claimed (or a later `jobs resume` does). Real SqueezeNet, real SQLite, real processes; every wait is on
// process output or database rows, never on a clock.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { runCli } from '../helpers/cli.ts';
import { HAS_DATA, MODELS, REPO, manifest, model, sample } from '../helpers/data.ts';

// Real processes on a machine that may be loaded: each test may take minutes; bounded at an hour.
vi.setConfig({ testTimeout: 3_600_000, hookTimeout: 3_600_000 });

interface Proc { child: ChildProcess; out: string; err: string; closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }

/** `saliency <args>` in the background; its output is collected as it comes. */
function start(args: string[]): Proc {
  const child = spawn(process.execPath, [path.join(REPO, 'bin/saliency.js'), ...args], { cwd: REPO, env: { ...process.env, SALIENCY_PROGRESS: '0' } });
  const p: Proc = { child, out: '', err: '', closed: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal }))) };
  child.stdout!.on('data', (d) => { p.out += d; });
  child.stderr!.on('data', (d) => { p.err += d; });
  return p;
}

/** Resolves when `ok()` holds (checked every 50 ms); fails when `gone()` says it never will. */
async function until(ok: () => boolean, gone: () => string | null): Promise<void> {
  while (!ok()) {
    const why = gone();
    if (why) throw new Error(why);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The items this process did, as it printed them. */
const share = (p: Proc) => Number(/process \d+: (\d+) items done here, 0 failed/.exec(p.out)?.[1] ?? NaN);
const exited = (...ps: Proc[]) => () => {
  const p = ps.find((x) => x.child.exitCode !== null || x.child.signalCode !== null);
  return p ? `a run ended early (${p.child.exitCode ?? p.child.signalCode}): ${p.out}\n${p.err}` : null;
};

describe.skipIf(!HAS_DATA)('two saliency run processes on one library (real SqueezeNet, 12 images x gradcam + rise)', () => {
  let dir: string;
  let rows: Awaited<ReturnType<typeof manifest>>;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'concurrent-run-'));
    rows = (await manifest()).slice(600, 612);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A fresh library of the 12 images and its database. */
  async function library(name: string): Promise<{ lib: string; db: string; args: string[] }> {
    const lib = path.join(dir, name);
    mkdirSync(lib);
    for (const r of rows) copyFileSync(sample(r.filename), path.join(lib, r.filename));
    const db = path.join(dir, `${name}.db`);
    const added = await runCli(['library', 'add', lib, '--db', db, '--no-thumbnails']);
    expect(added.code, added.stderr).toBe(0);
    // RISE with 200 masks: about a second or more per image, so the job lasts while a second process starts
    return { lib, db, args: ['run', '--library', lib, '--model', model(MODELS.squeezenet), '--method', 'gradcam,rise', '--set', 'rise.masks=200', '--workers', '1', '--db', db] };
  }

  function counts(db: string) {
    const d = new Database(db, { readonly: true, timeout: 30_000 });
    try {
      const n = (sql: string) => (d.prepare(sql).get() as { n: number }).n;
      return {
        explanations: n('SELECT COUNT(*) AS n FROM explanations'),
        distinct: n('SELECT COUNT(*) AS n FROM (SELECT DISTINCT image_id, run_id, target_class, score_kind FROM explanations)'),
        done: n(`SELECT COUNT(*) AS n FROM job_items WHERE job_id = 1 AND status = 'done'`),
        items: n('SELECT COUNT(*) AS n FROM job_items WHERE job_id = 1'),
        jobs: d.prepare('SELECT id, status, pid FROM jobs ORDER BY id').all() as { id: number; status: string; pid: number | null }[],
        integrity: (d.pragma('integrity_check') as { integrity_check: string }[])[0].integrity_check,
      };
    } finally {
      d.close();
    }
  }

  /** Items done and pending items claimed, per claiming pid, read while the runs go on. */
  function claims(db: string): { done: Map<number, number>; held: Map<number, number> } {
    const d = new Database(db, { readonly: true, timeout: 30_000 });
    try {
      const rowsOf = (status: string) => new Map((d.prepare(`SELECT CAST(claimed_by AS INTEGER) AS pid, COUNT(*) AS n FROM job_items
          WHERE job_id = 1 AND status = ? AND claimed_by IS NOT NULL GROUP BY claimed_by`).all(status) as { pid: number; n: number }[]).map((r) => [r.pid, r.n]));
      return { done: rowsOf('done'), held: rowsOf('pending') };
    } catch {
      return { done: new Map(), held: new Map() }; // the job is not there yet
    } finally {
      d.close();
    }
  }

  it('the second joins the first job: each item done once, both did some, job done; other work is its own job', async () => {
    const { db, args, lib } = await library('a');
    const first = start(args);
    await until(() => /items to do/.test(first.out), exited(first));
    const second = start(args);
    // while both run, `jobs list` names both processes (the job's own pid first)
    const both = new RegExp(`^\\s+1\\s+running .* pid ${first.child.pid}\\+${second.child.pid}$`, 'm');
    let listed = '';
    const listing = (async () => {
      while (!both.test(listed) && first.child.exitCode === null && second.child.exitCode === null) listed = (await runCli(['jobs', 'list', '--db', db])).stdout;
    })();
    // other methods on the same library: a job of its own, not joined
    const other = await runCli(['run', '--library', lib, '--model', model(MODELS.squeezenet), '--method', 'gradcam:probability', '--workers', '1', '--db', db]);
    expect(other.code, other.stderr).toBe(0);
    const otherId = Number(/^job (\d+): 12 items \(12 images x gradcam:probability\)/m.exec(other.stdout)?.[1]);
    expect(otherId).toBeGreaterThan(1);
    expect(other.stdout).not.toMatch(/joining/);
    const [a, b] = await Promise.all([first.closed, second.closed, listing]);
    expect(listed).toMatch(both);
    expect(a.code, first.err).toBe(0);
    expect(b.code, second.err).toBe(0);
    expect(second.out).toMatch(new RegExp(`job 1 is being run by process ${first.child.pid}: joining it, items are claimed one image at a time`));
    expect(second.out).not.toMatch(/^job \d+: \d+ items \(/m); // no job of its own
    console.log(`[concurrent run] items done by the first process: ${share(first)}, by the second: ${share(second)} (of 24)`);
    expect(share(first)).toBeGreaterThan(0);
    expect(share(second)).toBeGreaterThan(0);
    expect(share(first) + share(second)).toBe(24);
    const c = counts(db);
    expect(c.items).toBe(24);
    expect(c.done).toBe(24);
    expect(c.explanations).toBe(24 + 12); // job 1's 24 maps and job 2's 12
    expect(c.distinct).toBe(c.explanations);
    expect(c.jobs.map((j) => [j.id, j.status, j.pid])).toEqual([[1, 'done', null], [otherId, 'done', null]]);
    expect(c.integrity).toBe('ok');
    // the stored record of who did what agrees with what each printed
    const by = claims(db).done;
    expect(by.get(first.child.pid!)).toBe(share(first));
    expect(by.get(second.child.pid!)).toBe(share(second));
  });

  it('one of two runners SIGKILLed mid-way: the image it had claimed is redone by the other (or by jobs resume), nothing twice', async () => {
    const { db, args } = await library('b');
    const first = start(args);
    await until(() => /items to do/.test(first.out), exited(first));
    const second = start(args);
    // kill the first once both have done an item and the first holds an image, with more images left free
    let atKill = { done: 0, held: 0 };
    await until(() => {
      const c = claims(db);
      const d = new Database(db, { readonly: true, timeout: 30_000 });
      const free = (d.prepare(`SELECT COUNT(DISTINCT image_id) AS n FROM job_items WHERE job_id = 1 AND status = 'pending' AND claimed_by IS NULL`).get() as { n: number }).n;
      d.close();
      atKill = { done: c.done.get(first.child.pid!) ?? 0, held: c.held.get(first.child.pid!) ?? 0 };
      return atKill.done > 0 && (c.done.get(second.child.pid!) ?? 0) > 0 && atKill.held > 0 && free >= 2;
    }, exited(first, second));
    first.child.kill('SIGKILL');
    expect((await first.closed).signal).toBe('SIGKILL');
    const killedClaims = new Database(db, { readonly: true, timeout: 30_000 });
    const killedDone = (killedClaims.prepare(`SELECT COUNT(*) AS n FROM job_items WHERE job_id = 1 AND status = 'done' AND CAST(claimed_by AS INTEGER) = ?`).get(first.child.pid) as { n: number }).n;
    const orphaned = (killedClaims.prepare(`SELECT id FROM job_items WHERE job_id = 1 AND status = 'pending' AND CAST(claimed_by AS INTEGER) = ?`).all(first.child.pid) as { id: number }[]).map((r) => r.id);
    killedClaims.close();
    expect(orphaned.length).toBeGreaterThan(0); // the killed process held an image in flight

    const b = await second.closed;
    expect(b.code, second.err).toBe(0);
    let resumedShare = 0;
    if (!/job 1 done: 24\/24 done/.test(second.out)) {
      // the second had nothing left to claim before the kill and left the rest to the first: resume finishes it
      const resumed = await runCli(['jobs', 'resume', '1', '--db', db]);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stdout).toMatch(/job 1 done: 24\/24 done, 0 errors, 0 pending/);
      resumedShare = Number(/process \d+: (\d+) items done here/.exec(resumed.stdout)![1]);
    }
    console.log(`[concurrent run, SIGKILL] killed process: ${killedDone} items done, ${orphaned.length} claimed in flight; the other: ${share(second)}; resume: ${resumedShare}`);
    expect(killedDone + share(second) + resumedShare).toBe(24);
    const c = counts(db);
    expect(c.done).toBe(24);
    expect(c.explanations).toBe(24);
    expect(c.distinct).toBe(24);
    expect(c.jobs).toEqual([{ id: 1, status: 'done', pid: null }]);
    expect(c.integrity).toBe('ok');
    // the killed process's in-flight items were done by someone else
    const d = new Database(db, { readonly: true });
    const redone = d.prepare(`SELECT status, CAST(claimed_by AS INTEGER) AS pid FROM job_items WHERE id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(orphaned)) as { status: string; pid: number }[];
    d.close();
    for (const r of redone) {
      expect(r.status).toBe('done');
      expect(r.pid).not.toBe(first.child.pid);
    }
  });
});
