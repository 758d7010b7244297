// Lists the image files under a folder, recursively, with the size and modification time the rescan
// compares. Hidden entries, excluded folders and app cache folders (holding CACHE_MARKER) are skipped.
import { opendir, stat } from 'node:fs/promises';
import path from 'node:path';
import { IMAGE_EXTENSIONS } from '../image/load-image.ts';
import { SaliencyError } from '../types.ts';
import { CACHE_MARKER } from '../store/paths.ts';

export interface FoundFile { relPath: string; bytes: number; mtimeMs: number }
/** A folder or file the listing could not take, and why (listed to the user, never silently dropped). */
export interface SkippedPath { relPath: string; reason: string }

const EXTENSIONS = new Set(IMAGE_EXTENSIONS);
const errnoText = (e: unknown) => { const x = e as NodeJS.ErrnoException; return x.code === 'EACCES' || x.code === 'EPERM' ? 'permission denied' : x.code === 'ELOOP' ? 'symbolic link loop' : String(x.message).split('\n')[0]; };
export const isImageFile = (name: string) => EXTENSIONS.has(path.extname(name).toLowerCase());

export async function listImageFiles(root: string, opts: { exclude?: string[]; skipped?: SkippedPath[] } = {}): Promise<FoundFile[]> {
  const exclude = new Set((opts.exclude ?? []).map((p) => path.resolve(p)));
  const rels: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    let handle;
    try {
      handle = await opendir(dir);
    } catch (e) {
      if (dir === root) throw new SaliencyError(`library folder ${root}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (e as Error).message}`, 'NOT_FOUND');
      // an unreadable sub-folder is skipped, not fatal, and listed
      opts.skipped?.push({ relPath: path.relative(root, dir), reason: `folder cannot be read (${errnoText(e)})` });
      return;
    }
    const subdirs: string[] = [];
    const files: string[] = [];
    for await (const d of handle) {
      if (d.name === CACHE_MARKER) return; // a Saliency Studio cache folder (of any database)
      if (d.name.startsWith('.')) continue;
      const full = path.join(dir, d.name);
      if (d.isDirectory()) { if (!exclude.has(full)) subdirs.push(full); }
      else if ((d.isFile() || d.isSymbolicLink()) && isImageFile(d.name)) files.push(path.relative(root, full));
    }
    rels.push(...files);
    for (const s of subdirs) await visit(s);
  };
  await visit(path.resolve(root));
  const out: FoundFile[] = [];
  // stat in parallel chunks: thousands of files without thousands of open requests at once
  for (let i = 0; i < rels.length; i += 256) {
    const chunk = rels.slice(i, i + 256);
    const stats = await Promise.all(chunk.map((r) => stat(path.join(root, r)).catch((e: unknown) => e as NodeJS.ErrnoException)));
    chunk.forEach((relPath, j) => {
      const s = stats[j];
      if (s instanceof Error) opts.skipped?.push({ relPath, reason: s.code === 'ENOENT' ? 'broken symbolic link (its target does not exist)' : errnoText(s) });
      else if (s.isFile()) out.push({ relPath, bytes: s.size, mtimeMs: Math.trunc(s.mtimeMs) });
      else opts.skipped?.push({ relPath, reason: 'not a regular file' });
    });
  }
  return out.sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
}
