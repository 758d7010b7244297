// The shared perturbation helpers: baselines and masks mean the same thing for every method.
import { describe, expect, it } from 'vitest';
import { applyPixelMask, applySegmentMask, makeBaseline } from '../../src-main/engine/explain/perturb/masking.ts';
import { gridSegmentation } from '../../src-main/engine/explain/segment/segmentation.ts';
import { slic } from '../../src-main/engine/explain/segment/slic.ts';
import { texturedImage } from './evidence-model.ts';
import { Random } from '../../src-main/engine/util/random.ts';
import { PRESETS, presetZeroColour, toModelTensor } from '../../src-main/engine/model/presets.ts';

describe('masking', () => {
  const img = texturedImage(48, 5);
  const plane = 48 * 48;

  it('applySegmentMask takes visible segments from the image and hidden ones from the baseline', () => {
    const seg = slic(img, { segments: 20 });
    const base = makeBaseline(img, 'black');
    const rng = new Random(1);
    for (let t = 0; t < 5; t++) {
      const on = Array.from({ length: seg.count }, () => rng.int(2));
      const out = applySegmentMask(img, base, seg, on);
      for (let c = 0; c < 3; c++) for (let p = 0; p < plane; p++) {
        expect(out.data[c * plane + p]).toBe(on[seg.labels[p]] ? img.data[c * plane + p] : 0);
      }
    }
    expect(applySegmentMask(img, base, seg, new Array(seg.count).fill(1)).data).toEqual(img.data);
  });

  it('segment-mean fills each segment with its own mean colour; mean, gray and black are flat', () => {
    const seg = gridSegmentation(48, 48, 4);
    const b = makeBaseline(img, 'segment-mean', { segments: seg });
    for (let l = 0; l < 4; l++) {
      let s = 0, n = 0, first = NaN;
      for (let p = 0; p < plane; p++) if (seg.labels[p] === l) { s += img.data[p]; n++; if (Number.isNaN(first)) first = b.data[p]; else expect(b.data[p]).toBe(first); }
      expect(first).toBeCloseTo(s / n, 3);
    }
    const mean = makeBaseline(img, 'mean');
    let s = 0;
    for (let p = 0; p < plane; p++) s += img.data[plane + p];
    expect(mean.data[plane + 7]).toBeCloseTo(s / plane, 3);
    expect(makeBaseline(img, 'gray').data.every((v) => v === 127.5)).toBe(true);
    expect(() => makeBaseline(img, 'segment-mean')).toThrow(/needs a segmentation/);
  });

  it("zero is the colour each preset maps to an all-zero input (RISE's and Score-CAM's masked pixels)", () => {
    for (const preset of Object.values(PRESETS)) {
      const zero = makeBaseline(img, 'zero', { zeroColour: presetZeroColour(preset) });
      for (const layout of ['NCHW', 'NHWC'] as const) {
        expect(toModelTensor([zero], preset, layout, 3).every((v) => Math.abs(v) < 1e-4), `${preset.name} ${layout}`).toBe(true);
      }
    }
    expect(presetZeroColour(PRESETS.torchvision).map((v) => +v.toFixed(3))).toEqual([123.675, 116.28, 103.53]);
    expect(presetZeroColour(PRESETS.caffe)).toEqual([123, 117, 104]); // BGR means (104, 117, 123)
    expect(presetZeroColour(PRESETS.unit)).toEqual([0, 0, 0]);
    expect(() => makeBaseline(img, 'zero')).toThrow(/zero colour/);
  });

  it('blur keeps a flat image flat, smooths detail, and keeps the mean', () => {
    const flat = { width: 30, height: 20, data: new Float32Array(1800).fill(80) };
    expect(makeBaseline(flat, 'blur', { blurSigma: 4 }).data.every((v) => Math.abs(v - 80) < 1e-3)).toBe(true);
    const blurred = makeBaseline(img, 'blur', { blurSigma: 6 });
    const tv = (d: Float32Array) => { let t = 0; for (let p = 1; p < plane; p++) t += Math.abs(d[p] - d[p - 1]); return t; };
    expect(tv(blurred.data.subarray(0, plane))).toBeLessThan(0.5 * tv(img.data.subarray(0, plane)));
    expect(() => makeBaseline(img, 'blur', { blurSigma: -1 })).toThrow(/sigma must be positive/);
  });

  it('applyPixelMask blends image and baseline per pixel', () => {
    const base = makeBaseline(img, 'gray');
    const mask = new Float32Array(plane).fill(0.25);
    const out = applyPixelMask(img, base, mask);
    expect(out.data[plane + 10]).toBeCloseTo(0.25 * img.data[plane + 10] + 0.75 * 127.5, 4);
    expect(() => applyPixelMask(img, base, new Float32Array(3))).toThrow(/3 values for 2304 pixels/);
  });
});
