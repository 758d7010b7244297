// Energy-based pointing game (Wang et al. 2020, Score-CAM): the share of the map's positive energy that falls
// on the annotated object, sum_{object} max(m,0) / sum_{all} max(m,0). An all-zero map scores 0.
import { defineMetric } from './define.ts';
import { annotationMask } from './annotation.ts';

export const energyPointingGame = defineMetric<Record<string, never>>({
  name: 'energy-pointing-game',
  description: 'Energy-based pointing game (Score-CAM): share of the positive map energy inside the annotated object. Higher is better.',
  tags: { higherIsBetter: true, category: 'localisation', needs: { model: false, annotations: true, explainerReruns: false, referenceMap: false } },
  settings: () => ({}),
  async run(input, map) {
    const mask = annotationMask(input.annotation!, map.width, map.height);
    let inside = 0, total = 0, area = 0;
    for (let i = 0; i < map.data.length; i++) {
      const v = map.data[i] > 0 ? map.data[i] : 0;
      total += v;
      if (mask[i]) { inside += v; area++; }
    }
    return { value: total > 0 ? inside / total : 0, extras: { objectArea: area / map.data.length } };
  },
});
