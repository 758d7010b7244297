// Image bytes for the renderer, by id only (never by path): thumbnails, the upright original scaled for the
// screen, and PNG overlays. Shared by the HTTP server and Electron's custom protocol.
import sharp from 'sharp';
import { SaliencyError } from '../engine/types.ts';
import type { ApiService } from './service.ts';

export interface FileReply { contentType: string; body: Buffer }

const THUMB_SIDE = 160;
const VIEW_SIDE = 1600;

/** Thumbnails are small and asked for again on every scroll: keep the latest few thousand in memory. */
class ByteCache {
  private readonly map = new Map<string, Buffer>();
  private bytes = 0;
  constructor(private readonly maxBytes: number) {}
  get(k: string) { return this.map.get(k); }
  set(k: string, v: Buffer) {
    this.map.set(k, v);
    this.bytes += v.length;
    for (const [key, old] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      this.map.delete(key);
      this.bytes -= old.length;
    }
  }
}

export class FileRoutes {
  private readonly thumbs = new ByteCache(64 * 1024 * 1024);

  constructor(private readonly service: ApiService) {}

  /** kind is "thumb" or "image"; id an image id. */
  async get(kind: string, id: string): Promise<FileReply> {
    if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(id)) throw new SaliencyError('bad file id', 'BAD_REQUEST');
    const file = this.service.imagePath(id); // NOT_FOUND unless the id is a registered image
    try {
      if (kind === 'thumb') {
        let body = this.thumbs.get(id);
        if (!body) {
          body = await sharp(file, { failOn: 'none' }).rotate().resize(THUMB_SIDE, THUMB_SIDE, { fit: 'cover' }).jpeg({ quality: 72 }).toBuffer();
          this.thumbs.set(id, body);
        }
        return { contentType: 'image/jpeg', body };
      }
      if (kind === 'image') {
        const body = await sharp(file, { failOn: 'none' }).rotate().resize(VIEW_SIDE, VIEW_SIDE, { fit: 'inside', withoutEnlargement: true }).png({ compressionLevel: 3 }).toBuffer();
        return { contentType: 'image/png', body };
      }
    } catch (e) {
      throw new SaliencyError(`${file}: cannot be read as an image (${(e as Error).message})`, 'BAD_IMAGE');
    }
    throw new SaliencyError(`unknown file kind "${kind}" (thumb or image)`, 'NOT_FOUND');
  }
}
