// Image bytes for the renderer, by id only (never by path): thumbnails and the upright original scaled for
// the screen. Shared by the HTTP server and Electron's custom protocol.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { ensureThumbnail } from '../engine/library/thumbnails.ts';
import { realpathInside } from '../engine/store/paths.ts';
import { SaliencyError } from '../engine/types.ts';
import type { ApiService } from './service.ts';

export interface FileReply { contentType: string; body: Buffer }

const VIEW_SIDE = 1600;
const REPORT_TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.pdf': 'application/pdf', '.csv': 'text/csv; charset=utf-8', '.json': 'application/json' };

export class FileRoutes {
  constructor(private readonly service: ApiService) {}

  /** kind is "thumb" or "image" (id: an image id) or "report" (id: a report id). */
  async get(kind: string, id: string): Promise<FileReply> {
    if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(id)) throw new SaliencyError('bad file id', 'BAD_REQUEST');
    if (kind === 'report') {
      // Exported reports are self-contained files the app wrote; only recorded ones are served.
      const file = this.service.reportPath(id);
      const ext = path.extname(file);
      return { contentType: REPORT_TYPES[ext] ?? 'application/octet-stream', body: await readFile(file) };
    }
    this.service.imagePath(id); // NOT_FOUND unless the id is a registered image
    const rec = this.service.store.images.get(Number(id))!;
    const root = this.service.store.libraries.get(rec.libraryId)?.root ?? path.dirname(rec.path);
    const file = await realpathInside(root, rec.path);
    try {
      if (kind === 'thumb') {
        // Cached on disk by content hash by the library module.
        return { contentType: 'image/webp', body: await readFile(await ensureThumbnail(this.service.store, Number(id))) };
      }
      if (kind === 'image') {
        const body = await sharp(file, { failOn: 'none' }).rotate().resize(VIEW_SIDE, VIEW_SIDE, { fit: 'inside', withoutEnlargement: true }).png({ compressionLevel: 3 }).toBuffer();
        return { contentType: 'image/png', body };
      }
    } catch (e) {
      throw new SaliencyError(`${file}: cannot be read as an image (${(e as Error).message})`, 'BAD_IMAGE');
    }
    throw new SaliencyError(`unknown file kind "${kind}" (thumb, image or report)`, 'NOT_FOUND');
  }
}
