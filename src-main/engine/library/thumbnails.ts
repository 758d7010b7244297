// Thumbnails for the UI: 160 px on the longer side, WebP, keyed by content hash (identical files share one,
// and a changed file gets a new one), written atomically so a crash never leaves half a file.
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { Store } from '../store/store.ts';
import { SaliencyError } from '../types.ts';

export const THUMBNAIL_SIZE = 160;

/** Decodes the image bytes fully (so corrupt data throws) and writes its thumbnail if not there yet. */
export async function writeThumbnail(bytes: Uint8Array, file: string): Promise<void> {
  if (await stat(file).then(() => true, () => false)) return;
  const webp = await sharp(bytes, { failOn: 'error', pages: 1 })
    .autoOrient()
    .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 70 })
    .toBuffer();
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, webp);
  await rename(tmp, file);
}

/** The thumbnail file of a stored image, made on demand. */
export async function ensureThumbnail(store: Store, imageId: number): Promise<string> {
  const img = store.images.get(imageId);
  if (!img) throw new SaliencyError(`no image ${imageId} in this database`, 'NOT_FOUND');
  if (!img.sha256 || img.error) throw new SaliencyError(`image ${img.relPath} has no thumbnail: ${img.error ?? 'not scanned'}`, 'BAD_IMAGE');
  store.ensureCacheDir();
  const file = store.thumbnailPath(img.sha256);
  if (await stat(file).then(() => true, () => false)) return file;
  await writeThumbnail(await readFile(img.path), file);
  return file;
}
