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
  colouriseMap(scaleMap(values, scale), colormap, opacity, img.data);
  ctx.putImageData(img, 0, 0);
}

/** Run-length encoding of a binary mask (runs alternate 0,1,0,... starting with zeros). */
export function encodeRuns(mask: Uint8Array): number[] {
  const runs: number[] = [];
  let cur = 0;
  let n = 0;
  for (const v of mask) {
    const b = v ? 1 : 0;
    if (b === cur) n++;
    else { runs.push(n); cur = b; n = 1; }
  }
  runs.push(n);
  return runs;
}

export function decodeRuns(runs: number[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let p = 0;
  runs.forEach((n, i) => { if (i % 2) out.fill(1, p, p + n); p += n; });
  return out;
}
