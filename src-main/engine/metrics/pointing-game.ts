// Pointing game (Zhang et al. 2018): a hit when the map's maximum falls on the object, within a tolerance of
// 15 pixels. The value per image is 1 (hit) or 0 (miss); the mean over images is the hit rate.
import { defineMetric, intSetting } from './define.ts';
import { annotationMask } from './annotation.ts';

export type PointingSettings = { tolerance: number };

export const pointingGame = defineMetric<PointingSettings>({
  name: 'pointing-game',
  description: 'Pointing game (Zhang et al.): 1 if the map maximum lies on the annotated object (within 15 px), else 0. Higher is better.',
  tags: { higherIsBetter: true, category: 'localisation', needs: { model: false, annotations: true, explainerReruns: false, referenceMap: false } },
  settings: (p) => ({ tolerance: intSetting(p.tolerance, 15, 'tolerance', 0) }),
  async run(input, map, s) {
    const { width, height, data } = map;
    const mask = annotationMask(input.annotation!, width, height);
    // The first maximum in scan order; NaN never wins.
    let best = -1;
    for (let i = 0; i < data.length; i++) if (!Number.isNaN(data[i]) && (best < 0 || data[i] > data[best])) best = i;
    if (best < 0) return { value: 0, extras: { reason: 'the map has no finite value' } };
    const px = best % width, py = (best - px) / width;
    const t = s.tolerance;
    let hit = false;
    for (let y = Math.max(0, py - t); y <= Math.min(height - 1, py + t) && !hit; y++) {
      for (let x = Math.max(0, px - t); x <= Math.min(width - 1, px + t); x++) {
        if (mask[y * width + x] && (x - px) ** 2 + (y - py) ** 2 <= t * t) { hit = true; break; }
      }
    }
    return { value: hit ? 1 : 0, extras: { maximumAt: [px, py] } };
  },
});
