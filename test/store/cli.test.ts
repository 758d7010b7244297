// The library and jobs commands as a user runs them: summaries, listed errors, clear usage errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli as run } from '../helpers/cli.ts';
import { HAS_DATA, manifest, sample } from '../helpers/data.ts';

describe.skipIf(!HAS_DATA)('saliency library / jobs (CLI)', () => {
  let dir: string;
  let db: string;
  let lib: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'store-cli-'));
    db = path.join(dir, 'studio.db');
    lib = path.join(dir, 'pics');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(lib);
    for (const r of (await manifest()).slice(200, 203)) copyFileSync(sample(r.filename), path.join(lib, r.filename));
    writeFileSync(path.join(lib, 'broken.png'), 'PNG? no');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('adds, lists, rescans a folder and shows the unreadable file with its error', async () => {
    const add = await run(['library', 'add', lib, '--db', db]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/library 1 .*pics: 4 files: 4 new, 0 changed, .* 1 with errors/);
    const errors = await run(['library', 'list', '1', '--status', 'error', '--db', db]);
    expect(errors.stdout).toMatch(/broken\.png .*ERROR: not a readable image/);
    const scan = await run(['library', 'scan', '--db', db]);
    expect(scan.stdout).toMatch(/4 files: 0 new, 0 changed, 4 unchanged/);
  });

  it('exits 2 with a clear message on bad usage', async () => {
    const noModel = await run(['run', '--library', lib, '--db', db]);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toMatch(/--library, --model and --method are required/);
    const badJob = await run(['jobs', 'cancel', '9', '--db', db]);
    expect(badJob.stderr).toMatch(/no job 9/);
  });
});
