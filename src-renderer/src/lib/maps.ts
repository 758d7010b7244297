// Decoding map payloads and colouring them with the engine's colormaps (same tables as exported PNGs).
import type { MapDataT } from '../../../src-main/api/contract.ts';
import { colouriseMap, scaleMap, type ColormapName, type ScaleMode } from '../../../src-main/engine/image/colormap.ts';

export function decodeMap(m: MapDataT): Float32Array {
  const bin = atob(m.data);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

export function paintMap(canvas: HTMLCanvasElement, m: MapDataT, values: Float32Array, colormap: ColormapName, opacity: number, scale: ScaleMode): void {
  canvas.width = m.width;
  canvas.height = m.height;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(m.width, m.height);
  // Alpha grows with the value: weak evidence lets the image show through.
  colouriseMap(scaleMap(values, scale), colormap, opacity, img.data, true);
  ctx.putImageData(img, 0, 0);
}

export { decodeRuns, encodeRuns } from '../../../src-main/api/mask-runs.ts';
