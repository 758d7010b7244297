// Shared by the end-to-end tests: build the renderer, start `saliency serve` as a real child process on a free
// port with a temporary data folder, and drive Debian's Chromium with playwright-core.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { REPO } from '../helpers/data.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) console.warn(`[skip] no Chromium at ${CHROMIUM}: the end-to-end tests are skipped`);

export const ARTIFACTS = path.join(REPO, 'test-artifacts', 'e2e');

/** Builds the renderer once per test run (vite, ~10 s). */
export function buildRenderer(): void {
  execFileSync(process.execPath, [path.join(REPO, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'src-renderer/vite.config.ts', '--logLevel', 'warn'], { cwd: REPO, stdio: 'inherit' });
}

export interface Served { url: string; openUrl: string; token: string; proc: ChildProcess; dataDir: string; stop(): Promise<void> }

export async function serve(args: string[], dataDir = mkdtempSync(path.join(os.tmpdir(), 'saliency-e2e-'))): Promise<Served> {
  const token = `e2e${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const proc = spawn(process.execPath, [path.join(REPO, 'bin/saliency.js'), 'serve', '--data', dataDir, '--quiet', ...args], {
    cwd: REPO, env: { ...process.env, SALIENCY_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d) => { stderr += d; });
  const openUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    // No startup timer: a loaded machine may take long to load the model; a serve that fails exits, and that rejects.
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /Saliency Studio: (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`saliency serve exited with ${code}:\n${stderr}`)));
  });
  return {
    url: openUrl.split('#')[0].replace(/\/$/, ''), openUrl, token, proc, dataDir,
    stop: () => new Promise<void>((resolve) => {
      if (proc.exitCode !== null) { resolve(); return; }
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    }),
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** Calls the API from the test (to check what the UI did). */
export async function callApi<T = unknown>(s: Served, method: string, body: unknown): Promise<T> {
  const res = await fetch(`${s.url}/api/${method}`, { method: 'POST', headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const env = await res.json() as { ok: boolean; result?: T; error?: { message: string } };
  if (!env.ok) throw new Error(`${method}: ${env.error!.message}`);
  return env.result as T;
}
