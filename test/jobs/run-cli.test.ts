// `saliency run` with metrics, ensembles and --set, as a user runs it: the job line, the stored rows, the
// job list naming ensembles and metrics, and clear errors for a --set or ensemble that cannot apply.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { runCli as cli } from '../helpers/cli.ts';
import { HAS_DATA, MODELS, manifest, model, sample } from '../helpers/data.ts';

describe.skipIf(!HAS_DATA)('saliency run --metric --ensemble --set (CLI, real SqueezeNet)', () => {
  let dir: string;
  let db: string;
  let lib: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'run-cli-'));
    db = path.join(dir, 'studio.db');
    lib = path.join(dir, 'pics');
    mkdirSync(lib);
    for (const r of (await manifest()).slice(300, 302)) copyFileSync(sample(r.filename), path.join(lib, r.filename));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stores maps, ensembles and metric rows with the settings given by --set, and lists them', async () => {
    const r = await cli(['run', '--library', lib, '--model', model(MODELS.squeezenet), '--method', 'gradcam,ablationcam', '--metric', 'insertion,sparseness',
      '--ensemble', 'mean,borda', '--set', 'insertion.steps=3', '--set', 'ablationcam.relu=false', '--seed', '5', '--workers', '1', '--threads', '1', '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/job 1: 8 items \(2 images x gradcam, ablationcam, ensemble:mean, ensemble:borda\), metrics insertion, sparseness/);
    expect(r.stdout).toMatch(/job 1 done: 8\/8 done, 0 errors, 0 pending/);
    const d = new Database(db, { readonly: true });
    try {
      const q = (sql: string) => (d.prepare(sql).get() as { n: number }).n;
      expect(q('SELECT COUNT(*) AS n FROM explanations')).toBe(8);
      expect(q(`SELECT COUNT(*) AS n FROM runs WHERE method LIKE 'ensemble:%'`)).toBe(2);
      expect(q(`SELECT COUNT(*) AS n FROM runs WHERE method = 'ablationcam' AND json_extract(settings, '$.relu') = 0 AND seed = 5`)).toBe(1);
      expect(q(`SELECT COUNT(*) AS n FROM metrics WHERE name = 'insertion' AND json_extract(settings, '$.steps') = 3 AND random_value IS NOT NULL AND seed = 5`)).toBe(8);
      expect(q(`SELECT COUNT(*) AS n FROM metrics WHERE name = 'sparseness'`)).toBe(8);
    } finally {
      d.close();
    }
    const list = await cli(['jobs', 'list', '--db', db]);
    expect(list.stdout).toMatch(/1 +done +8\/8 done, 0 errors +gradcam,ablationcam,ensemble:mean,ensemble:borda \(metrics insertion,sparseness\)/);
  });

  it('a map with the default deletion metric (50 steps, 4 controls in flight at once) warns of no listener leak', async () => {
    const r = await cli(['run', '--library', lib, '--model', model(MODELS.squeezenet), '--method', 'gradcam', '--metric', 'deletion', '--seed', '6', '--db', path.join(dir, 'listeners.db')]);
    expect(r.code, r.stderr).toBe(0);
    // many scheduler calls listen on the item's AbortSignal at once: expected, so Node's warning must not print
    expect(r.stderr).not.toMatch(/MaxListenersExceededWarning/);
  });

  it('names a --set that fits nothing, and an ensemble of one method, before running anything', async () => {
    const bad = await cli(['run', '--library', lib, '--model', model(MODELS.squeezenet), '--method', 'gradcam', '--metric', 'deletion', '--set', 'lime.samples=300', '--db', db]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--set names "lime", which is none of --method, --metric or --ensemble/);
    const one = await cli(['run', '--library', lib, '--model', model(MODELS.squeezenet), '--method', 'gradcam', '--ensemble', 'mean', '--db', db]);
    expect(one.code).not.toBe(0);
    expect(one.stderr).toMatch(/ensembles combine methods: give at least two distinct methods/);
    const threads = await cli(['run', '--library', lib, '--model', model(MODELS.squeezenet), '--method', 'gradcam', '--threads', '0', '--db', db]);
    expect(threads.code).toBe(2);
    expect(threads.stderr).toMatch(/--threads must be an integer >= 1 \(got "0"\)/);
    const list = await cli(['jobs', 'list', '--db', db]);
    expect(list.stdout.trim().split('\n')).toHaveLength(1);
  });
});
