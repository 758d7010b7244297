// Decoding images with sharp (JPEG, PNG, WebP, TIFF, GIF; grey, alpha, 16-bit, EXIF orientation) into RGB,
// and preparing the model input while recording how it maps back onto the original.
import { readFile, stat } from 'node:fs/promises';
import sharp from 'sharp';
import type { ImageTransform, PlanarImage, ResizePolicy } from '../types.ts';
import { SaliencyError } from '../types.ts';
import { resizeBilinear, resizeBilinearRegion } from './resample.ts';

/** Images larger than this are refused from their header, before any pixel is decoded. */
export const DEFAULT_MAX_PIXELS = 100_000_000;
export const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif']; // no .bmp: sharp's libvips cannot decode BMP

/** A decoded image: interleaved 8-bit RGB at its original size, upright. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface LoadOptions {
  maxPixels?: number;
  /** Turn the image upright by its EXIF orientation (default true). */
  orient?: boolean;
}

export async function readImageFile(file: string, opts: LoadOptions = {}): Promise<RgbImage> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new SaliencyError(`${file}: file not found`, 'NOT_FOUND');
  }
  if (size === 0) throw new SaliencyError(`${file}: the file is empty`, 'BAD_IMAGE');
  if (size > DEFAULT_MAX_BYTES) throw new SaliencyError(`${file}: the file is ${size} bytes, over the ${DEFAULT_MAX_BYTES}-byte limit`, 'IMAGE_TOO_LARGE');
  return decodeImage(await readFile(file), file, opts);
}

export async function decodeImage(bytes: Uint8Array, label: string, opts: LoadOptions = {}): Promise<RgbImage> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  let meta: sharp.Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new SaliencyError(`${label}: not a readable image (${cleanSharpMessage(e)})`, 'BAD_IMAGE');
  }
  if (!meta.width || !meta.height) throw new SaliencyError(`${label}: the image has no dimensions`, 'BAD_IMAGE');
  if (meta.width * meta.height > maxPixels) {
    throw new SaliencyError(
      `${label}: the image is ${meta.width}x${meta.height} (${(meta.width * meta.height / 1e6).toFixed(0)} megapixels), ` +
      `over the limit of ${(maxPixels / 1e6).toFixed(0)} megapixels; it was not decoded`, 'IMAGE_TOO_LARGE');
  }
  try {
    let pipeline = sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error', pages: 1, ignoreIcc: true });
    if (opts.orient !== false) pipeline = pipeline.rotate(); // EXIF orientation
    const { data, info } = await pipeline
      // Embedded ICC profiles are ignored, as PIL and the training pipelines of most models do.
      .flatten({ background: '#ffffff' }) // alpha composited on white
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e) {
    throw new SaliencyError(`${label}: the image could not be decoded (${cleanSharpMessage(e)})`, 'BAD_IMAGE');
  }
}

function cleanSharpMessage(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0].replace(/^Input (buffer|file) /, '').trim();
}

/** Python's round(): halves go to the even neighbour (torchvision's centre crop uses it). */
const roundHalfEven = (v: number) => {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
};

/** The ImageNet eval transform: shorter side to size/0.875 (longer side rounded), then centre crop. */
function cropGeometry(width: number, height: number, inputWidth: number, inputHeight: number) {
  const short = Math.round(Math.min(inputWidth, inputHeight) / 0.875);
  const [rw, rh] = width <= height ? [short, Math.round(short * height / width)] : [Math.round(short * width / height), short];
  const W = Math.max(rw, inputWidth);
  const H = Math.max(rh, inputHeight);
  return { W, H, left: roundHalfEven((W - inputWidth) / 2), top: roundHalfEven((H - inputHeight) / 2) };
}

/** Where the model input comes from in the original: the centre crop, or all of it. */
export function planTransform(width: number, height: number, inputWidth: number, inputHeight: number, policy: ResizePolicy): ImageTransform {
  let crop = { x: 0, y: 0, width, height };
  if (policy === 'crop') {
    const { W, H, left, top } = cropGeometry(width, height, inputWidth, inputHeight);
    const sx = width / W;
    const sy = height / H;
    crop = { x: left * sx, y: top * sy, width: inputWidth * sx, height: inputHeight * sy };
  }
  return { originalWidth: width, originalHeight: height, crop, inputWidth, inputHeight };
}

/** The model-input image (planar RGB 0..255) for an original image and a transform. */
export function toModelInput(img: RgbImage, t: ImageTransform): PlanarImage {
  let rgb: Uint8Array;
  if (t.crop.width !== img.width || t.crop.height !== img.height) {
    // Only the crop's pixels are resampled: the whole resized image is never made (it can be huge for
    // extreme aspect ratios, e.g. 5,120,000x256 for a 20000x1 image).
    const { W, H, left, top } = cropGeometry(img.width, img.height, t.inputWidth, t.inputHeight);
    rgb = resizeBilinearRegion(img.data, img.width, img.height, W, H, { x: left, y: top, width: t.inputWidth, height: t.inputHeight });
  } else {
    rgb = resizeBilinear(img.data, img.width, img.height, t.inputWidth, t.inputHeight);
  }
  return interleavedToPlanar(rgb, t.inputWidth, t.inputHeight);
}

export function interleavedToPlanar(rgb: Uint8Array, width: number, height: number): PlanarImage {
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    data[p] = rgb[3 * p];
    data[plane + p] = rgb[3 * p + 1];
    data[2 * plane + p] = rgb[3 * p + 2];
  }
  return { width, height, data };
}
