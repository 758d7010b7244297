// Grounding concept boxes on real images: box geometry through the centre crop, energy of a real Grad-CAM map
// inside annotator boxes, and removing boxes on the real MobileNetV2.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_DATA, MODELS, REPO, model, sample } from '../helpers/data.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { prepareImageFile, type LoadedImage } from '../../src-main/engine/image/prepare.ts';
import { GradCam } from '../../src-main/engine/explain/cam/gradcam.ts';
import { boxEnergy, boxMask, boxRemovalCurve, fillMean } from '../../src-main/engine/concepts/grounding.ts';
import { readCaptionFile } from '../../src-main/engine/concepts/captions-file.ts';
import type { Box } from '../../src-main/engine/concepts/box.ts';
import type { Map2D } from '../../src-main/engine/types.ts';
import { argmax } from '../../src-main/engine/util/math.ts';

describe.skipIf(!HAS_DATA)('grounding concept boxes (toucan, MobileNetV2)', () => {
  let cls: Classifier;
  let img: LoadedImage;
  let map: Map2D;
  let boxes: Record<string, Box>;
  let classIndex: number;
  beforeAll(async () => {
    cls = await Classifier.load(model(MODELS.mobilenet));
    img = await prepareImageFile(sample('n01843383_toucan.JPEG'), cls);
    const out = await cls.predict([img.prepared.input]);
    classIndex = argmax(out.logits);
    const cam = new GradCam();
    map = (await cam.explain(img.prepared, { classIndex, score: 'logit' }, cam.settings({}), 0, { model: cls })).map;
    const captions = await readCaptionFile(path.join(REPO, 'resources/captions/imagenet-samples.json'));
    const entry = captions.captions.find((c) => c.filename === 'n01843383_toucan.JPEG')!;
    boxes = Object.fromEntries(entry.boxes!.map((b) => [b.concept, { xMin: b.box[0], yMin: b.box[1], xMax: b.box[2], yMax: b.box[3] }]));
  });
  afterAll(async () => { await cls?.dispose(); });

  it('maps boxes through the centre crop the model saw', () => {
    const t = img.prepared.transform;
    expect(cls.labels[classIndex].label).toBe('toucan');
    const whole = boxMask({ xMin: 0, yMin: 0, xMax: t.originalWidth, yMax: t.originalHeight }, t);
    expect(whole.every((v) => v === 1)).toBe(true);
    // The left strip the crop cuts off is outside what the model saw.
    const strip: Box = { xMin: 0, yMin: 0, xMax: Math.floor(t.crop.x) - 1, yMax: t.originalHeight };
    expect(boxMask(strip, t).every((v) => v === 0)).toBe(true);
    expect(() => boxEnergy(map, strip, t)).toThrow(/outside the part of the image the model saw/);
    // The left half of the crop is the left half of the grid.
    const half = boxMask({ xMin: 0, yMin: 0, xMax: Math.round(t.crop.x + t.crop.width / 2), yMax: t.originalHeight }, t);
    expect(half.reduce((a, b) => a + b, 0)).toBe(112 * 224);
    expect(() => boxMask({ xMin: 0, yMin: 0, xMax: 600, yMax: 10 }, t)).toThrow(/outside the 500x375 image/);
  });

  it('Grad-CAM concentrates on the beak and the bird, not on the papaya', () => {
    const beak = boxEnergy(map, boxes.beak, img.prepared.transform);
    const papaya = boxEnergy(map, boxes.papaya, img.prepared.transform);
    const bird = boxEnergy(map, boxes.toucan, img.prepared.transform);
    expect(beak.lift).toBeGreaterThan(1.5);
    expect(bird.lift).toBeGreaterThan(1.1);
    expect(papaya.lift).toBeLessThan(0.5);
    const all = boxEnergy(map, { xMin: 0, yMin: 0, xMax: 500, yMax: 375 }, img.prepared.transform);
    expect(all.energy).toBeCloseTo(1, 10);
    expect(all.area).toBe(1);
  });

  it('removing the bird box destroys the toucan score, removing the papaya box does not', async () => {
    const target = { classIndex, score: 'probability' as const };
    const t = img.prepared.transform;
    const bird = await boxRemovalCurve(cls, img.prepared.input, t, [boxes.toucan], target, map);
    const papaya = await boxRemovalCurve(cls, img.prepared.input, t, [boxes.papaya], target);
    expect(bird.boxes.scores[0]).toBeGreaterThan(0.5);
    expect(bird.boxes.drops[1]).toBeGreaterThan(0.5);
    expect(papaya.boxes.drops[1]).toBeLessThan(bird.boxes.drops[1] / 4);
    // The map removes exactly as many pixels as the box covers.
    expect(bird.map!.areas[1]).toBeCloseTo(bird.boxes.areas[1], 12);
    // Cumulative: box 1, then boxes 1-2 (their union).
    const both = await boxRemovalCurve(cls, img.prepared.input, t, [boxes.beak, boxes.papaya], target);
    expect(both.boxes.areas[2]).toBeGreaterThan(both.boxes.areas[1]);
    expect(both.boxes.aopc).toBeCloseTo((both.boxes.drops[0] + both.boxes.drops[1] + both.boxes.drops[2]) / 3, 12);
  });

  it('fills with the image mean colour', () => {
    const mask = new Uint8Array(224 * 224);
    mask[0] = 1;
    const filled = fillMean(img.prepared.input, mask);
    const plane = 224 * 224;
    for (let ch = 0; ch < 3; ch++) {
      let mean = 0;
      for (let i = 0; i < plane; i++) mean += img.prepared.input.data[ch * plane + i];
      expect(filled.data[ch * plane]).toBeCloseTo(mean / plane, 3);
      expect(filled.data[ch * plane + 1]).toBe(img.prepared.input.data[ch * plane + 1]);
    }
  });
});
