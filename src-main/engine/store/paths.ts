// Where the database and its caches live: the user's data folder by default, SALIENCY_DB or an option to
// override. Thumbnails and other caches go in a folder beside the database file.
import { realpath } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SaliencyError } from '../types.ts';

export const APP_DIR_NAME = 'saliency-studio';
export const DB_FILE_NAME = 'studio.db';

/** The platform's per-user data folder for this app. */
export function userDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = (platform === 'win32' ? env.USERPROFILE : env.HOME) || os.homedir(); // as os.homedir() reads it, from env
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), APP_DIR_NAME);
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', APP_DIR_NAME);
  return path.join(env.XDG_DATA_HOME || path.join(home, '.local', 'share'), APP_DIR_NAME);
}

/** The database file: the explicit path, else $SALIENCY_DB, else <user data folder>/studio.db. */
export function resolveDbPath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(explicit || env.SALIENCY_DB || path.join(userDataDir(env), DB_FILE_NAME));
}

/** The cache folder beside a database file (thumbnails/ inside it). */
export function cacheDirFor(dbPath: string): string {
  return path.join(path.dirname(dbPath), `${path.basename(dbPath, path.extname(dbPath))}-cache`);
}

/** A file marking a folder as this app's cache, so a library scan never imports its thumbnails. */
export const CACHE_MARKER = '.saliency-studio-cache';

/** The real path of a file of a library, refused unless it lies inside the library's real root: a symlink
 * inside a library that points outside it is never read (the same rule as image.open's). */
export async function realpathInside(root: string, file: string): Promise<string> {
  let realRoot: string;
  let real: string;
  try {
    [realRoot, real] = await Promise.all([realpath(root), realpath(file)]);
  } catch {
    throw new SaliencyError(`${file}: file not found`, 'NOT_FOUND');
  }
  if (!real.startsWith(realRoot + path.sep)) {
    throw new SaliencyError(`${file}: lies outside its library (its real path is ${real}); it is not read`, 'PATH_OUTSIDE_LIBRARY');
  }
  return real;
}
