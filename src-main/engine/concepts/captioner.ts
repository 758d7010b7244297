// Captions from a vision endpoint, stored one by one: the file is rewritten atomically after every caption,
// so a failing endpoint (or a crash) loses nothing already stored.
import path from 'node:path';
import { readImageFile } from '../image/load-image.ts';
import { SaliencyError } from '../types.ts';
import { type CaptionFile, imagesDirOf, readCaptionFile, upsertCaption, writeCaptionFileAtomic } from './captions-file.ts';
import { DEFAULT_CAPTION_PROMPT, type OpenAiEndpoint } from './endpoint.ts';

export interface CaptionRunOptions {
  imagesDir?: string;
  /** Images to caption (relative to the images folder). Default: the file's entries with an empty caption. */
  filenames?: string[];
  /** Replace captions that are already there (never done by default). */
  overwrite?: boolean;
  prompt?: string;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, filename: string) => void;
}

export interface CaptionRunResult {
  added: string[];
  skipped: string[];
  failed: { filename: string; error: string; code: string }[];
  /** Set when the run stopped because the endpoint cannot be reached at all. */
  stoppedEarly?: string;
}

export async function captionWithEndpoint(file: string, endpoint: OpenAiEndpoint, modelName: string, opts: CaptionRunOptions = {}): Promise<CaptionRunResult> {
  let data: CaptionFile = await readCaptionFile(file);
  const dir = imagesDirOf(file, data, opts.imagesDir);
  const prompt = opts.prompt ?? DEFAULT_CAPTION_PROMPT;
  const wanted = opts.filenames ?? data.captions.filter((c) => !c.caption.trim()).map((c) => c.filename);
  const result: CaptionRunResult = { added: [], skipped: [], failed: [] };
  for (const [i, filename] of wanted.entries()) {
    opts.onProgress?.(i, wanted.length, filename);
    const existing = data.captions.find((c) => c.filename === filename);
    if (existing?.caption.trim() && !opts.overwrite) {
      result.skipped.push(filename);
      continue;
    }
    try {
      const image = await readImageFile(path.join(dir, filename));
      const caption = await endpoint.caption(image, prompt, opts.signal);
      data = upsertCaption(data, { filename, caption, author: `model:${modelName}`, prompt });
      await writeCaptionFileAtomic(file, data);
      result.added.push(filename);
    } catch (e) {
      const err = e instanceof SaliencyError ? e : new SaliencyError((e as Error).message);
      result.failed.push({ filename, error: err.message, code: err.code });
      if (err.code === 'ENDPOINT_UNREACHABLE' || err.code === 'CANCELLED') {
        result.stoppedEarly = err.message;
        break;
      }
    }
  }
  opts.onProgress?.(wanted.length, wanted.length, '');
  return result;
}
