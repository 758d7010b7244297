// Score-CAM as pytorch-grad-cam computes it: every channel scored, align_corners upsampling, (a-min)/(max-min+1e-8)
// masks on the model's zero input, weights = softmax over channels of the target's logit on the masked inputs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { ScoreCam, upsampleAlignCorners } from '../../src-main/engine/explain/cam/scorecam.ts';
import type { PreparedImage } from '../../src-main/engine/explain/types.ts';
import type { TensorData } from '../../src-main/engine/types.ts';
import { gapEvidenceModelBytes, twoSquaresImage, SIZE } from './gap-evidence-model.ts';
import { identityTransform } from '../helpers/prepared.ts';

let model: Classifier;
const image: PreparedImage = {
  id: 'two-squares-scorecam', input: twoSquaresImage(),
  transform: identityTransform(SIZE),
};
beforeAll(async () => { model = await Classifier.load({ bytes: gapEvidenceModelBytes(), name: 'gap-evidence' }, { batchSize: 4 }); });
afterAll(async () => { await model?.dispose(); });

describe('Score-CAM follows pytorch-grad-cam', () => {
  it('upsamples with align_corners=True (torch.nn.UpsamplingBilinear2d)', () => {
    // torch: UpsamplingBilinear2d(size=(3,3))(tensor([[[[0,2],[4,6]]]])) = [[0,1,2],[2,3,4],[4,5,6]]
    expect(Array.from(upsampleAlignCorners(Float32Array.from([0, 2, 4, 6]), 2, 2, 3, 3))).toEqual([0, 1, 2, 2, 3, 4, 4, 5, 6]);
  });

  for (const score of ['logit', 'probability'] as const) {
    it(`every channel is scored and weighted by the softmax of its masked ${score}`, async () => {
      const target = { classIndex: 0, score };
      const sc = new ScoreCam();
      const e = await sc.explain(image, target, sc.settings({}), 1, { model });
      const out = await model.predict([image.input], { features: true });
      const f = out.features as TensorData;
      const [, C, h, w] = f.dims;
      expect(e.extras.channelsScored).toBe(C);
      expect(e.evaluations).toBe(1 + C);
      // Reference, written out: mask each channel, score, softmax, weighted sum, ReLU.
      const plane = h * w;
      const masked = [];
      for (let c = 0; c < C; c++) {
        const up = upsampleAlignCorners(f.data.subarray(c * plane, (c + 1) * plane), w, h, SIZE, SIZE);
        let lo = Infinity, hi = -Infinity;
        for (const v of up) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
        const data = new Float32Array(3 * SIZE * SIZE);
        for (let k = 0; k < 3; k++) for (let p = 0; p < SIZE * SIZE; p++) data[k * SIZE * SIZE + p] = image.input.data[k * SIZE * SIZE + p] * (up[p] - lo) / (hi - lo + 1e-8); // unit preset: zero input = black
        masked.push({ width: SIZE, height: SIZE, data });
      }
      const r = await model.predict(masked);
      const s = Array.from({ length: C }, (_, c) => (score === 'logit' ? r.logits : r.probabilities)[c * r.numClasses]);
      const m = Math.max(...s);
      const z = s.reduce((a, v) => a + Math.exp(v - m), 0);
      const wts = s.map((v) => Math.exp(v - m) / z);
      const cam = new Float32Array(plane);
      for (let c = 0; c < C; c++) for (let p = 0; p < plane; p++) cam[p] += wts[c] * f.data[c * plane + p];
      cam.forEach((v, p) => expect(e.native!.data[p]).toBeCloseTo(Math.max(0, v), 4));
      if (score === 'logit') expect(Math.max(...wts)).toBeGreaterThan(0.9); // the red channel's masked logit dominates
      else expect(Math.max(...wts)).toBeLessThan(0.75); // probabilities in [0,1]: the softmax is close to uniform
    });
  }
});
