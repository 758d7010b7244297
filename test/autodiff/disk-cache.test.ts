// The backward graph cached on disk: a second process loads it instead of compiling; a corrupt or truncated file
// is rebuilt with one warning line, never a crash; the gradient is the same either way; files of other compiler
// code are removed when a graph is written.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO } from '../helpers/data.ts';
import { NO_CLOCK } from '../helpers/demo-image.ts';

interface ChildResult { compiled: number; loaded: number; gradient: number; stderr: string }

async function child(cacheDir: string): Promise<ChildResult> {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(REPO, 'test/autodiff/cache-child.ts')], {
    cwd: REPO, env: { ...process.env, SALIENCY_GRADIENT_CACHE: cacheDir },
  });
  return { ...JSON.parse(stdout.trim().split('\n').pop()!), stderr };
}

describe('backward graphs cached on disk', () => {
  it('a second process loads the graph; corrupt and truncated files are rebuilt with one warning line', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'saliency-bwcache-'));
    try {
      writeFileSync(path.join(dir, '0000000000000000-of-older-code.onnxbw'), 'a graph of other compiler code');
      const first = await child(dir);
      expect(first).toMatchObject({ compiled: 1, loaded: 0 });
      const files = readdirSync(dir);
      expect(files).toHaveLength(1); // the other code's file removed
      expect(files[0]).toMatch(/\.onnxbw$/); // no temp file left behind
      const file = path.join(dir, files[0]);

      const second = await child(dir);
      expect(second).toMatchObject({ compiled: 0, loaded: 1, gradient: first.gradient });
      expect(second.stderr).not.toMatch(/backward-graph cache/);

      const bytes = readFileSync(file);
      const flipped = Buffer.from(bytes);
      for (let i = bytes.length - 2000; i < bytes.length - 1000; i++) flipped[i] ^= 0xff;
      writeFileSync(file, flipped);
      const corrupt = await child(dir);
      expect(corrupt).toMatchObject({ compiled: 1, loaded: 0, gradient: first.gradient });
      const warnings = corrupt.stderr.split('\n').filter((l) => l.includes('backward-graph cache'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/is not usable \(graph bytes do not match their checksum\); rebuilding it/);
      expect(readFileSync(file)).toEqual(bytes); // rewritten whole

      writeFileSync(file, bytes.subarray(0, 10));
      const truncated = await child(dir);
      expect(truncated).toMatchObject({ compiled: 1, loaded: 0, gradient: first.gradient });
      expect(truncated.stderr).toMatch(/not usable \(truncated header\)/);
      expect((await child(dir)).loaded).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, NO_CLOCK);
});
