// On a model whose evidence is known by construction (red square -> class 0, green square -> class 1), each
// method's strongest region must lie on that class's square, for the logit and for the probability.
import { beforeAll, describe, expect, it } from 'vitest';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { getExplainer } from '../../src-main/engine/explain/registry.ts';
import type { PreparedImage } from '../../src-main/engine/explain/types.ts';
import type { ScoreKind } from '../../src-main/engine/types.ts';
import { topK } from '../../src-main/engine/util/math.ts';
import { gapEvidenceModelBytes, twoSquaresImage, RED, GREEN, SIZE, inBox } from './gap-evidence-model.ts';
import { identityTransform } from '../helpers/prepared.ts';

let model: Classifier;
const image: PreparedImage = {
  id: 'two-squares',
  input: twoSquaresImage(),
  transform: identityTransform(SIZE),
};

beforeAll(async () => {
  model = await Classifier.load({ bytes: gapEvidenceModelBytes(), name: 'gap-evidence' }, { batchSize: 16 });
});

const METHODS: [string, Record<string, unknown>, number][] = [
  // name, settings (small budgets where the default is for 224-299 px images), minimum share of the top pixels on the box
  ['rise', { masks: 1000 }, 0.75],
  ['occlusion', { window: 8, stride: 4 }, 0.9],
  ['partitionshap', {}, 0.9],
  ['scorecam', {}, 0.9],
  ['ablationcam', {}, 0.9],
];

describe('known-evidence model: the strongest region lies on the evidence', () => {
  it('the model behaves as constructed', async () => {
    const out = await model.predict([image.input], { features: true });
    expect(model.info.head.found).toBe(true);
    expect(out.logits[0]).toBeGreaterThan(3); // both squares are equally strong, so each class has evidence
    expect(out.logits[1]).toBeCloseTo(out.logits[0], 4);
    const blank = { width: SIZE, height: SIZE, data: new Float32Array(3 * SIZE * SIZE).fill(128) };
    const none = await model.predict([blank]);
    expect(Math.abs(none.logits[0])).toBeLessThan(1e-6);
  });

  for (const [name, settings, minShare] of METHODS) {
    for (const score of ['logit', 'probability'] as ScoreKind[]) {
      it(`${name} (${score})`, async () => {
        const explainer = getExplainer(name);
        for (const [classIndex, box] of [[0, RED], [1, GREEN]] as const) {
          const e = await explainer.explain(image, { classIndex, score }, explainer.settings(settings), 7, { model });
          expect(e.map.width).toBe(SIZE);
          const area = (box.x1 - box.x0) * (box.y1 - box.y0);
          const top = topK(e.map.data, area);
          const onBox = top.filter((i) => inBox(box, i % SIZE, Math.floor(i / SIZE))).length / area;
          expect(inBox(box, top[0] % SIZE, Math.floor(top[0] / SIZE)), `${name} class ${classIndex}: argmax at ${top[0] % SIZE},${Math.floor(top[0] / SIZE)}`).toBe(true);
          expect(onBox, `${name} class ${classIndex}: share of the top ${area} pixels on the box`).toBeGreaterThanOrEqual(minShare);
        }
      });
    }
  }
});
