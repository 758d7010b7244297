// Issue 16 #6: one default database. A library added with the CLI shows up in `saliency serve` started with no
// --data/--db, both using studio.db in the user data folder ($XDG_DATA_HOME or ~/.local/share/saliency-studio on
// Linux; $SALIENCY_DB overrides it for both).
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO } from '../helpers/data.ts';
import { tempDir } from '../helpers/files.ts';
import { resolveDbPath } from '../../src-main/engine/store/paths.ts';
import { call, startServe } from './hardening-live.ts';

function cleanEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, SALIENCY_PROGRESS: '0', ...extra };
  delete env.XDG_DATA_HOME;
  if (!extra.SALIENCY_DB) delete env.SALIENCY_DB;
  return env;
}

async function cliThenServe(env: NodeJS.ProcessEnv, lib: string) {
  await promisify(execFile)(process.execPath, [path.join(REPO, 'bin/saliency.js'), 'library', 'add', lib, '--no-thumbnails'], { cwd: REPO, env });
  const live = await startServe(['--model', 'builtin:demo', '--explain', 'none', '--quiet'], env);
  try {
    const libraries = await call<{ path: string }[]>(live, 'library.list', {});
    const info = await call<{ features: { persistence: string } }>(live, 'app.info', {});
    return { roots: libraries.map((l) => l.path), db: info.features.persistence, stderr: live.stderr() };
  } finally {
    await live.stop();
  }
}

describe.skipIf(process.platform !== 'linux')('one default database for the CLI and the app (issue 16 #6)', () => {
  it('serve opens the database the CLI wrote, in the user data folder', async () => {
    const home = tempDir('saliency-home-');
    const lib = path.join(home, 'pictures');
    mkdirSync(lib);
    copyFileSync(path.join(REPO, 'resources/demo/samples/0033_0.png'), path.join(lib, 'a.png'));
    const env = cleanEnv(home);
    const expected = path.join(home, '.local/share/saliency-studio/studio.db');
    expect(resolveDbPath(undefined, env)).toBe(expected);
    const { roots, db } = await cliThenServe(env, lib);
    expect(db).toBe(expected);
    expect(roots).toContain(lib);
    expect(existsSync(path.join(home, '.saliency-studio'))).toBe(false); // the old serve-only default is gone
  }, 0);

  it('$SALIENCY_DB moves both to the same other file', async () => {
    const home = tempDir('saliency-home-');
    const lib = path.join(home, 'pictures');
    mkdirSync(lib);
    copyFileSync(path.join(REPO, 'resources/demo/samples/0100_0.png'), path.join(lib, 'b.png'));
    const file = path.join(home, 'elsewhere', 'mine.db');
    mkdirSync(path.dirname(file));
    // A database left by serve's old default (~/.saliency-studio) is pointed out, not silently ignored.
    mkdirSync(path.join(home, '.saliency-studio'));
    writeFileSync(path.join(home, '.saliency-studio', 'studio.db'), '');
    const { roots, db, stderr } = await cliThenServe(cleanEnv(home, { SALIENCY_DB: file }), lib);
    expect(db).toBe(file);
    expect(roots).toContain(lib);
    expect(stderr).toContain(`note: an older database of \`saliency serve\` is at ${path.join(home, '.saliency-studio', 'studio.db')}`);
  }, 0);
});
