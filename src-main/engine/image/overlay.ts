// Saliency overlays as PNG files (for exports and reports): the map, coloured, blended over the original.
import sharp from 'sharp';
import type { ImageTransform, Map2D } from '../types.ts';
import type { RgbImage } from './load-image.ts';
import { mapToOriginal } from './upsample.ts';
import { colouriseMap, scaleMap, type ColormapName, type ScaleMode } from './colormap.ts';

export interface OverlayOptions {
  colormap?: ColormapName;
  /** 0..1, how strongly the map covers the image. */
  opacity?: number;
  scale?: ScaleMode;
  /** Longest side of the output (the original is scaled down to fit). */
  maxSide?: number;
}

/** The map alone as a coloured PNG (transparent where NaN). */
export async function mapPng(map: Map2D, opts: OverlayOptions = {}): Promise<Buffer> {
  const rgba = colouriseMap(scaleMap(map.data, opts.scale ?? 'normalised'), opts.colormap ?? 'turbo', 1);
  return sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), { raw: { width: map.width, height: map.height, channels: 4 } }).png().toBuffer();
}

/** The map (on the model-input grid) drawn over the original image, as a PNG. */
export async function overlayPng(original: RgbImage, map: Map2D, transform: ImageTransform, opts: OverlayOptions = {}): Promise<Buffer> {
  const projected = mapToOriginal(map, transform, opts.maxSide ?? 1024);
  const { width, height } = projected;
  const base = original.width === width && original.height === height
    ? original.data
    : await sharp(Buffer.from(original.data), { raw: { width: original.width, height: original.height, channels: 3 } }).resize(width, height, { fit: 'fill' }).raw().toBuffer();
  const colours = colouriseMap(scaleMap(projected.data, opts.scale ?? 'normalised'), opts.colormap ?? 'turbo', opts.opacity ?? 0.5);
  const out = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const a = colours[i * 4 + 3] / 255;
    for (let k = 0; k < 3; k++) out[i * 3 + k] = Math.round(base[i * 3 + k] * (1 - a) + colours[i * 4 + k] * a);
  }
  return sharp(out, { raw: { width, height, channels: 3 } }).png().toBuffer();
}
