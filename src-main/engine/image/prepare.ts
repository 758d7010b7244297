// From a file to what explainers need: the decoded original, the model input, and the mapping between them.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Classifier } from '../model/classifier.ts';
import type { PreparedImage } from '../explain/types.ts';
import { SaliencyError } from '../types.ts';
import { decodeImage, planTransform, toModelInput, type LoadOptions, type RgbImage } from './load-image.ts';
import { DEFAULT_MAX_BYTES } from './load-image.ts';

export interface LoadedImage {
  prepared: PreparedImage;
  original: RgbImage;
}

export async function prepareImageFile(file: string, model: Classifier, opts: LoadOptions = {}): Promise<LoadedImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SaliencyError(`${file}: ${code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a folder, not an image' : (e as Error).message}`, 'NOT_FOUND');
  }
  if (bytes.length === 0) throw new SaliencyError(`${file}: the file is empty`, 'BAD_IMAGE');
  if (bytes.length > DEFAULT_MAX_BYTES) throw new SaliencyError(`${file}: the file is over ${DEFAULT_MAX_BYTES} bytes`, 'IMAGE_TOO_LARGE');
  const original = await decodeImage(bytes, file, opts);
  return prepareDecoded(original, createHash('sha256').update(bytes).digest('hex'), model);
}

export function prepareDecoded(original: RgbImage, id: string, model: Classifier): LoadedImage {
  const { width, height } = model.info.input;
  const transform = planTransform(original.width, original.height, width, height, model.info.resize);
  return { original, prepared: { id, input: toModelInput(original, transform), transform } };
}
