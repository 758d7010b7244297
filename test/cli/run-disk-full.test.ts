// `saliency run` with its database on a disk that fills up (issue 16): one clear line and exit 2, never a SIGABRT
// (the runner used to terminate() worker threads with live ONNX sessions; now they dispose and exit first), and the
// database stays sound, every item finished before the disk filled readable.
import { describe, expect, it, vi } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { HAS_DATA, MODELS, REPO, model, sample } from '../helpers/data.ts';
import { tempDir } from '../helpers/files.ts';

// Each attempt waits on its child process (which always ends), never on a clock.
vi.setConfig({ testTimeout: 0, hookTimeout: 0 });

function run(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO, 'bin/saliency.js'), ...args], { cwd: REPO, env: { ...process.env, SALIENCY_PROGRESS: '0' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe.skipIf(!HAS_DATA || process.getuid?.() !== 0)('run: the database disk fills up (a small tmpfs; needs root)', () => {
  it('one line, exit 2, no SIGABRT; the database passes integrity_check with the finished items intact', async () => {
    const mnt = tempDir();
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { encoding: 'utf8' });
    if (mounted.status !== 0) { console.warn(`[skip] cannot mount a tmpfs: ${mounted.stderr.trim()}`); return; }
    try {
      const lib = path.join(tempDir(), 'lib');
      mkdirSync(lib);
      for (const f of readdirSync(path.dirname(sample('x'))).filter((f) => f.endsWith('.JPEG')).slice(0, 30)) copyFileSync(sample(f), path.join(lib, f));
      // The abort was intermittent (1 run in 4 here): three runs, two workers each, sessions busy when the disk fills.
      for (let attempt = 0; attempt < 3; attempt++) {
        for (const f of readdirSync(mnt)) rmSync(path.join(mnt, f), { recursive: true, force: true });
        const db = path.join(mnt, 'studio.db');
        const r = await run(['run', '--library', lib, '--model', model(MODELS.squeezenet), '--method', 'gradcam,rise', '--set', 'rise.masks=200',
          '--workers', '2', '--db', db]);
        expect(r.signal, r.stderr).toBeNull();
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr.trim().split('\n'), r.stderr).toEqual(['saliency run: database: no space left on the device (database full)']);
        const d = new Database(db, { readonly: true });
        try {
          expect(d.pragma('integrity_check', { simple: true })).toBe('ok');
          const done = d.prepare(`SELECT e.map_width w, e.map_height h, e.map FROM job_items i JOIN explanations e ON e.id = i.explanation_id
                                  WHERE i.status = 'done'`).all() as { w: number; h: number; map: Buffer }[];
          const pending = (d.prepare(`SELECT count(*) n FROM job_items WHERE status = 'pending'`).get() as { n: number }).n;
          expect(done.length).toBeGreaterThanOrEqual(1);
          expect(pending).toBeGreaterThan(0); // the disk did fill before the end
          for (const m of done) {
            expect(m.map.byteLength).toBe(m.w * m.h * 4);
            const values = new Float32Array(m.map.buffer, m.map.byteOffset, m.w * m.h);
            expect(values.every(Number.isFinite)).toBe(true);
          }
        } finally {
          d.close();
        }
      }
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});
