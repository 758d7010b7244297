// Agreement between two explanations of the same image: Spearman rank correlation, and the IoU of their top-k
// pixels (k = 10% of the pixels by default). Both are higher when the methods agree.
import { defineMetric, numSetting } from './define.ts';
import { spearman, topKIoU } from './rank.ts';
import type { MetricTags } from './types.ts';

const AGREEMENT: MetricTags = { higherIsBetter: true, category: 'agreement', needs: { model: false, annotations: false, explainerReruns: false, referenceMap: true } };

export const rankAgreement = defineMetric<Record<string, never>>({
  name: 'spearman',
  description: 'Spearman rank correlation between two maps of the same image (ties averaged; 0 if one is constant).',
  tags: AGREEMENT,
  settings: () => ({}),
  run: async (input, map) => ({ value: spearman(map, input.reference!) }),
});

export type TopKSettings = { fraction: number };

export const topKAgreement = defineMetric<TopKSettings>({
  name: 'topk-iou',
  description: 'Intersection over union of the top 10% pixels of two maps of the same image.',
  tags: AGREEMENT,
  settings: (p) => ({ fraction: numSetting(p.fraction, 0.1, 'fraction', 1e-9, 1) }),
  run: async (input, map, s, seed) => ({ value: topKIoU(map, input.reference!, s.fraction, seed) }),
});
