// Map resampling: bilinear with half-pixel centres (as cv2.resize and torch's align_corners=False), and
// projection of a model-input map onto the original image.
import type { ImageTransform, Map2D } from '../types.ts';

export function resizeMap(src: Map2D, width: number, height: number): Map2D {
  if (src.width === width && src.height === height) return { width, height, data: src.data.slice() };
  const out = new Float32Array(width * height);
  const sx = src.width / width;
  const sy = src.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), src.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, src.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), src.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, src.width - 1);
      const wx = fx - x0;
      const a = src.data[y0 * src.width + x0] * (1 - wx) + src.data[y0 * src.width + x1] * wx;
      const b = src.data[y1 * src.width + x0] * (1 - wx) + src.data[y1 * src.width + x1] * wx;
      out[y * width + x] = a * (1 - wy) + b * wy;
    }
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
    const oy = (y + 0.5) / scale;
    const my = (oy - t.crop.y) * sy - 0.5;
    if (my < -0.5 || my > map.height - 0.5) continue;
    const fy = Math.min(Math.max(my, 0), map.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, map.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const ox = (x + 0.5) / scale;
      const mx = (ox - t.crop.x) * sx - 0.5;
      if (mx < -0.5 || mx > map.width - 0.5) continue;
      const fx = Math.min(Math.max(mx, 0), map.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, map.width - 1);
      const wx = fx - x0;
      const a = map.data[y0 * map.width + x0] * (1 - wx) + map.data[y0 * map.width + x1] * wx;
      const b = map.data[y1 * map.width + x0] * (1 - wx) + map.data[y1 * map.width + x1] * wx;
      out[y * width + x] = a * (1 - wy) + b * wy;
    }
  }
  return { width, height, data: out };
}
