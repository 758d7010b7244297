// Map resampling: bilinear with half-pixel centres (as cv2.resize and torch's align_corners=False), and
// projection of a model-input map onto the original image.
import type { ImageTransform, Map2D } from '../types.ts';

/** Bilinear sample of a map at continuous pixel coordinates (clamped to the edges). */
function sample(src: Map2D, fx: number, fy: number): number {
  const x = Math.min(Math.max(fx, 0), src.width - 1);
  const y = Math.min(Math.max(fy, 0), src.height - 1);
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const x1 = Math.min(x0 + 1, src.width - 1);
  const y1 = Math.min(y0 + 1, src.height - 1);
  const wx = x - x0;
  const wy = y - y0;
  const d = src.data;
  const a = d[y0 * src.width + x0] * (1 - wx) + d[y0 * src.width + x1] * wx;
  const b = d[y1 * src.width + x0] * (1 - wx) + d[y1 * src.width + x1] * wx;
  return a * (1 - wy) + b * wy;
}

export function resizeMap(src: Map2D, width: number, height: number): Map2D {
  if (src.width === width && src.height === height) return { width, height, data: src.data.slice() };
  const out = new Float32Array(width * height);
  const sx = src.width / width;
  const sy = src.height / height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) out[y * width + x] = sample(src, (x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5);
  }
  return { width, height, data: out };
}

/**
 * The map drawn on the original image (optionally scaled down to fit maxSide). Pixels outside the region
 * the model saw (the centre crop) are NaN: the model never looked there.
 */
export function mapToOriginal(map: Map2D, t: ImageTransform, maxSide = Infinity): Map2D {
  const scale = Math.min(1, maxSide / Math.max(t.originalWidth, t.originalHeight));
  const width = Math.max(1, Math.round(t.originalWidth * scale));
  const height = Math.max(1, Math.round(t.originalHeight * scale));
  const out = new Float32Array(width * height).fill(NaN);
  const sx = map.width / t.crop.width;
  const sy = map.height / t.crop.height;
  for (let y = 0; y < height; y++) {
    const my = ((y + 0.5) / scale - t.crop.y) * sy - 0.5;
    if (my < -0.5 || my > map.height - 0.5) continue;
    for (let x = 0; x < width; x++) {
      const mx = ((x + 0.5) / scale - t.crop.x) * sx - 0.5;
      if (mx < -0.5 || mx > map.width - 0.5) continue;
      out[y * width + x] = sample(map, mx, my);
    }
  }
  return { width, height, data: out };
}
