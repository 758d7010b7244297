// builtin:known-evidence (the project's hand-built benchmark: one 12x12 evidence pattern among near-miss
// distractors on a noisy background): each method's strongest value is attained inside the evidence box.
// (Occlusion and Partition SHAP give plateaus, constant over a window or a region, so the test asks that the
// maximum is reached inside the box, not that the first pixel holding it is.)
import { beforeAll, describe, expect, it } from 'vitest';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { resolveModelSpec } from '../../src-main/engine/model/builtin.ts';
import { generateKnownEvidence, KE_SIZE, type KnownEvidenceImage } from '../../src-main/engine/model/known-evidence.ts';
import { prepareDecoded } from '../../src-main/engine/image/prepare.ts';
import { getExplainer } from '../../src-main/engine/explain/registry.ts';
import type { Map2D, ScoreKind } from '../../src-main/engine/types.ts';

let model: Classifier;
const samples: KnownEvidenceImage[] = generateKnownEvidence(3, 31);

beforeAll(async () => {
  model = await Classifier.load(resolveModelSpec('builtin:known-evidence'), { batchSize: 16 });
});

function maxInBoxIsGlobalMax(map: Map2D, ke: KnownEvidenceImage): { inBox: number; global: number } {
  let global = -Infinity;
  for (const v of map.data) global = Math.max(global, v);
  let inBox = -Infinity;
  const b = ke.box;
  for (let y = b.y; y < b.y + b.height; y++) for (let x = b.x; x < b.x + b.width; x++) inBox = Math.max(inBox, map.data[y * map.width + x]);
  return { inBox, global };
}

const METHODS: [string, Record<string, unknown>, ScoreKind[]][] = [
  ['rise', { masks: 500 }, ['logit']],
  ['occlusion', { window: 12, stride: 6 }, ['logit']],
  ['partitionshap', {}, ['logit']],
  ['scorecam', {}, ['logit', 'probability']],
  ['ablationcam', {}, ['logit', 'probability']],
];

describe('builtin:known-evidence: the strongest value lies on the evidence pattern', () => {
  for (const [name, settings, scores] of METHODS) {
    it(name, async () => {
      const e = getExplainer(name);
      for (const [i, ke] of samples.entries()) {
        const { prepared } = prepareDecoded(ke.image, `known-evidence-${i}`, model);
        expect(prepared.input.width).toBe(KE_SIZE);
        for (const score of scores) {
          const r = await e.explain(prepared, { classIndex: ke.classIndex, score }, e.settings(settings), 3, { model });
          const { inBox, global } = maxInBoxIsGlobalMax(r.map, ke);
          expect(global, `${name} ${score} sample ${i}: the map is flat`).toBeGreaterThan(0);
          expect(inBox, `${name} ${score} sample ${i} (${ke.className} at ${JSON.stringify(ke.box)})`).toBeGreaterThanOrEqual(global * (1 - 1e-6));
        }
      }
    });
  }
});
