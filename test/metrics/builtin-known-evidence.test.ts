// On the project's built-in known-evidence benchmark (builtin:known-evidence: the class is decided by one 12x12
// pattern at a known place among near-miss distractors), the true evidence map (the box) gets the best
// deletion, insertion and AOPC scores, and the pointing game hits 100%.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { resolveModelSpec } from '../../src-main/engine/model/builtin.ts';
import { generateOne, type Box } from '../../src-main/engine/model/known-evidence.ts';
import { prepareDecoded } from '../../src-main/engine/image/prepare.ts';
import { getMetric } from '../../src-main/engine/metrics/registry.ts';
import type { Map2D } from '../../src-main/engine/types.ts';
import { Random } from '../../src-main/engine/util/random.ts';

let model: Classifier;
beforeAll(async () => { model = await Classifier.load(resolveModelSpec('builtin:known-evidence'), { batchSize: 8 }); });
afterAll(async () => { await model?.dispose(); });

const boxMap = (w: number, h: number, b: Box): Map2D => {
  const data = new Float32Array(w * h);
  for (let y = b.y; y < b.y + b.height; y++) for (let x = b.x; x < b.x + b.width; x++) data[y * w + x] = 1;
  return { width: w, height: h, data };
};

describe('builtin:known-evidence', () => {
  it('the true evidence box beats distractor, inverted and random maps on every faithfulness metric; pointing game 100%', async () => {
    const metrics = ['deletion', 'insertion', 'aopc-morf'].map((n) => getMetric(n));
    const settings = metrics.map((m) => m.settings(m.name === 'aopc-morf' ? { patch: 6, steps: 30, control: false } : { steps: 25, control: false }));
    const pointing = getMetric('pointing-game');
    let hits = 0, distractorHits = 0;
    const N = 4;
    for (let i = 0; i < N; i++) {
      const ke = generateOne(2024, i);
      const { prepared: image } = prepareDecoded(ke.image, `ke-${i}`, model);
      const { width, height } = image.input;
      expect([width, height]).toEqual([ke.mask.width, ke.mask.height]);
      const target = { classIndex: ke.classIndex, score: 'logit' as const };
      const r = new Random(i);
      const truth = ke.mask;
      const others: Record<string, Map2D> = {
        distractor: boxMap(width, height, ke.distractors[0]),
        inverted: { width, height, data: truth.data.map((v) => 1 - v) },
        random: { width, height, data: Float32Array.from({ length: width * height }, () => r.next()) },
      };
      for (let j = 0; j < metrics.length; j++) {
        const m = metrics[j];
        const score = async (map: Map2D) => (await m.compute({ image, target, map, model }, settings[j], 3)).value;
        const best = await score(truth);
        for (const [name, map] of Object.entries(others)) {
          const v = await score(map);
          expect(m.tags.higherIsBetter ? best > v : best < v, `${m.name} image ${i}: truth ${best} vs ${name} ${v}`).toBe(true);
        }
      }
      const b = ke.box;
      const annotation = { boxes: [[b.x, b.y, b.x + b.width, b.y + b.height]] as [number, number, number, number][] };
      hits += (await pointing.compute({ image, target, map: truth, annotation }, pointing.settings({ tolerance: 0 }), 1)).value;
      distractorHits += (await pointing.compute({ image, target, map: others.distractor, annotation }, pointing.settings({ tolerance: 0 }), 1)).value;
    }
    expect(hits).toBe(N);
    expect(distractorHits).toBe(0);
  }, 180_000);
});
