// Ground truth for localisation metrics as one object mask on the map's grid (union of boxes and mask).
import { SaliencyError } from '../types.ts';
import type { Annotation } from './types.ts';

export function annotationMask(a: Annotation, width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  let any = false;
  for (const box of a.boxes ?? []) {
    const [x0, y0, x1, y1] = box;
    if (![x0, y0, x1, y1].every(Number.isFinite) || x1 <= x0 || y1 <= y0) {
      throw new SaliencyError(`annotation box ${JSON.stringify(box)} must be [x0, y0, x1, y1] with x1 > x0 and y1 > y0`, 'BAD_ANNOTATION');
    }
    for (let y = Math.max(0, Math.floor(y0)); y < Math.min(height, Math.ceil(y1)); y++) {
      for (let x = Math.max(0, Math.floor(x0)); x < Math.min(width, Math.ceil(x1)); x++) { mask[y * width + x] = 1; any = true; }
    }
  }
  if (a.mask) {
    if (a.mask.width !== width || a.mask.height !== height) {
      throw new SaliencyError(`annotation mask is ${a.mask.width}x${a.mask.height}, the map is ${width}x${height}`, 'BAD_ANNOTATION');
    }
    for (let i = 0; i < mask.length; i++) if (a.mask.data[i] > 0) { mask[i] = 1; any = true; }
  }
  if (!any) throw new SaliencyError('the annotation covers no pixel of the image', 'BAD_ANNOTATION');
  return mask;
}
