// Output files that are either complete or absent: each is written to a temporary file beside it, synced, and
// renamed over the target, so Ctrl-C, a kill or a full disk never leaves a truncated file under the real name.
import { lstat, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { SaliencyError } from '../../engine/types.ts';
import { fsProblem } from '../errors.ts';

let counter = 0;

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${counter++}.tmp`);
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new SaliencyError(`${file}: could not be written (${fsProblem(e)})`, 'WRITE_FAILED');
  }
}

/**
 * Makes the output folder (and its missing parents) or says in one line why it cannot be one. Parents are made
 * one by one: Node's recursive mkdir never returns on some paths (e.g. under /proc).
 */
export async function ensureOutDir(dir: string, option = '--out'): Promise<void> {
  const abs = path.resolve(dir);
  const missing: string[] = [];
  for (let p = abs; ; p = path.dirname(p)) {
    const s = await lstat(p).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e))).catch((e) => {
      throw new SaliencyError(`${option} ${dir}: ${fsProblem(e)}`, 'BAD_OUTPUT');
    });
    if (s) {
      const isDir = s.isDirectory() || (s.isSymbolicLink() && (await stat(p).then((t) => t.isDirectory(), () => false)));
      if (!isDir) throw new SaliencyError(`${option} ${dir}: ${p === abs ? 'is a file, not a folder' : `${p} is a file, not a folder`}`, 'BAD_OUTPUT');
      break;
    }
    missing.unshift(p);
    if (path.dirname(p) === p) break;
  }
  for (const p of missing) {
    await mkdir(p).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw new SaliencyError(`${option} ${dir}: cannot create ${p} (${fsProblem(e)})`, 'BAD_OUTPUT');
    });
  }
  // A folder may exist and still refuse files (read-only mount, permissions): find out before any work is done.
  const probe = path.join(abs, `.write-test.${process.pid}`);
  try {
    const h = await open(probe, 'w');
    await h.close();
    await unlink(probe);
  } catch (e) {
    throw new SaliencyError(`${option} ${dir}: cannot write there (${fsProblem(e)})`, 'BAD_OUTPUT');
  }
}
