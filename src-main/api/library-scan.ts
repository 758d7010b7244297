// Finding the images of a folder and guessing each one's true class (from a manifest.csv, an ImageNet
// WordNet id in the name, or a folder/file name that is a class label).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { IMAGE_EXTENSIONS } from '../engine/image/load-image.ts';
import type { ClassLabel } from '../engine/model/labels.ts';

export interface ScannedImage { path: string; relPath: string; name: string }

export async function scanFolder(root: string): Promise<ScannedImage[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const out: ScannedImage[] = [];
  for (const e of entries) {
    if (!e.isFile() || !IMAGE_EXTENSIONS.includes(path.extname(e.name).toLowerCase())) continue;
    const full = path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name);
    const relPath = path.relative(root, full).split(path.sep).join('/');
    if (relPath.split('/').some((p) => p.startsWith('.'))) continue; // hidden folders and files
    out.push({ path: full, relPath, name: e.name });
  }
  return out.sort((a, b) => a.relPath.localeCompare(b.relPath, 'en', { numeric: true }));
}

/** filename -> class index, from a manifest.csv (columns filename, class_index) at the library root. */
export async function readManifest(root: string): Promise<Map<string, number>> {
  const map = new Map<string, number>();
  let text: string;
  try { text = await readFile(path.join(root, 'manifest.csv'), 'utf8'); } catch { return map; }
  const [header, ...rows] = text.trim().split(/\r?\n/);
  const cols = header.split(',');
  const fi = cols.indexOf('filename');
  const ci = cols.indexOf('class_index');
  if (fi < 0 || ci < 0) return map;
  for (const row of rows) {
    const cells = row.split(',');
    const k = Number(cells[ci]);
    if (cells[fi] && Number.isInteger(k)) map.set(cells[fi], k);
  }
  return map;
}

export function guessClass(relPath: string, labels: ClassLabel[], manifest: Map<string, number>): number | null {
  const fromManifest = manifest.get(relPath) ?? manifest.get(path.posix.basename(relPath));
  if (fromManifest !== undefined && fromManifest < labels.length) return fromManifest;
  const parts = relPath.split('/');
  const stem = parts[parts.length - 1].replace(/\.[^.]+$/, '');
  const wnid = /n\d{8}/.exec(relPath)?.[0];
  if (wnid) {
    const i = labels.findIndex((l) => l.wnid === wnid);
    if (i >= 0) return i;
  }
  const candidates = [...parts.slice(0, -1).reverse(), stem.split(/[_\- .]/)[0]].map((s) => s.toLowerCase());
  for (const c of candidates) {
    const i = labels.findIndex((l) => l.label.toLowerCase() === c);
    if (i >= 0) return i;
  }
  return null;
}
