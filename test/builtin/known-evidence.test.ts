// The known-evidence benchmark: reproducible generator, ground truth consistent with the pixels, the bundled
// hand-built model equal to a fresh build, and Grad-CAM's maximum on the evidence (the issue asks >= 95%).
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { resolveModelSpec } from '../../src-main/engine/model/builtin.ts';
import { readImageFile } from '../../src-main/engine/image/load-image.ts';
import {
  buildKnownEvidenceModel, generateKnownEvidence, generateOne, KNOWN_EVIDENCE_CLASSES, KE_SIZE, KE_PATTERN,
} from '../../src-main/engine/model/known-evidence.ts';
import { checkGradCam } from '../../scripts/make-known-evidence.ts';
import { REPO } from '../helpers/data.ts';

describe('known-evidence generator', () => {
  it('is reproducible from its seed and differs across seeds', () => {
    const a = generateKnownEvidence(5, 3);
    const b = generateKnownEvidence(5, 3);
    const c = generateKnownEvidence(5, 4);
    expect(a.map((x) => x.image.data)).toEqual(b.map((x) => x.image.data));
    expect(a.map((x) => x.box)).toEqual(b.map((x) => x.box));
    expect(a[0].image.data).not.toEqual(c[0].image.data);
  });

  it('gives a mask that is exactly the evidence box, inside the image, apart from every distractor', () => {
    for (const ke of generateKnownEvidence(50, 11)) {
      expect(ke.image.width).toBe(KE_SIZE);
      expect(ke.image.data.length).toBe(KE_SIZE * KE_SIZE * 3);
      expect(ke.box.width).toBe(KE_PATTERN);
      expect(ke.box.x + ke.box.width).toBeLessThanOrEqual(KE_SIZE);
      expect(ke.className).toBe(KNOWN_EVIDENCE_CLASSES[ke.classIndex]);
      const ones = ke.mask.data.reduce((s, v) => s + v, 0);
      expect(ones).toBe(KE_PATTERN * KE_PATTERN);
      expect(ke.mask.data[(ke.box.y + 3) * KE_SIZE + ke.box.x + 3]).toBe(1);
      for (const d of ke.distractors) {
        const apart = d.x >= ke.box.x + ke.box.width || ke.box.x >= d.x + d.width || d.y >= ke.box.y + ke.box.height || ke.box.y >= d.y + d.height;
        expect(apart).toBe(true);
      }
      expect(ke.distractors.length).toBeGreaterThanOrEqual(2);
    }
  });

  it('draws every class, and can be asked for a given class', () => {
    const classes = new Set(generateKnownEvidence(40, 5).map((k) => k.classIndex));
    expect(classes.size).toBe(KNOWN_EVIDENCE_CLASSES.length);
    expect(generateOne(5, 0, 2).classIndex).toBe(2);
    expect(() => generateOne(5, 0, 9)).toThrow(/out of range/);
    expect(() => generateKnownEvidence(-1, 1)).toThrow(/non-negative integer/);
  });
});

describe('known-evidence model', () => {
  let model: Classifier;
  beforeAll(async () => {
    model = await Classifier.load(resolveModelSpec('builtin:known-evidence'), { name: 'builtin:known-evidence', threads: 1 });
  });
  afterAll(async () => { await model?.dispose(); });

  it('bundled file is exactly what the builder makes, with a CAM head and the declared preset', () => {
    const bundled = readFileSync(resolveModelSpec('builtin:known-evidence'));
    expect(Buffer.from(buildKnownEvidenceModel()).equals(bundled)).toBe(true);
    expect(model.info.preset.name).toBe('unit');
    expect(model.info.presetReason).toMatch(/metadata/);
    expect(model.info.resize).toBe('direct');
    expect(model.info.input).toMatchObject({ width: KE_SIZE, height: KE_SIZE, channels: 3, layout: 'NCHW', fixedBatch: null });
    expect(model.info.head.found).toBe(true);
    expect(model.labels.map((l) => l.label)).toEqual([...KNOWN_EVIDENCE_CLASSES]);
  });

  it('classifies 200 fresh images and Grad-CAM puts its maximum inside the evidence on >= 95%', async () => {
    const check = await checkGradCam(model, generateKnownEvidence(200, 123));
    console.log(`known-evidence (seed 123): accuracy ${(100 * check.accuracy).toFixed(1)}%, Grad-CAM max inside the evidence on ${(100 * check.hitRate).toFixed(1)}% of ${check.n} images`);
    expect(check.accuracy).toBeGreaterThanOrEqual(0.99);
    expect(check.hitRate).toBeGreaterThanOrEqual(0.95);
  });

  it('loses its evidence when the pattern is painted over (the model looks at the pattern only)', async () => {
    const images = generateKnownEvidence(20, 99);
    const covered = images.map((ke) => {
      const data = ke.image.data.slice();
      for (let y = ke.box.y; y < ke.box.y + ke.box.height; y++) for (let x = ke.box.x; x < ke.box.x + ke.box.width; x++) data.fill(128, (y * KE_SIZE + x) * 3, (y * KE_SIZE + x) * 3 + 3);
      return toPlanar(data);
    });
    const before = await model.predict(images.map((ke) => toPlanar(ke.image.data)));
    const after = await model.predict(covered);
    images.forEach((ke, i) => {
      expect(before.logits[i * 4 + ke.classIndex]).toBeGreaterThan(5);
      expect(after.logits[i * 4 + ke.classIndex]).toBe(0);
    });
  });

  it('bundled samples match their ground truth and are classified correctly', async () => {
    const dir = path.join(REPO, 'resources/known-evidence');
    const truth = JSON.parse(readFileSync(path.join(dir, 'ground-truth.json'), 'utf8')) as { seed: number; samples: { file: string; classIndex: number; box: unknown }[] };
    expect(truth.samples.length).toBeGreaterThanOrEqual(8);
    for (const s of truth.samples) {
      const img = await readImageFile(path.join(dir, s.file));
      const index = Number(path.basename(s.file).split('_')[0]);
      const fresh = generateOne(truth.seed, index);
      expect(Buffer.from(img.data).equals(Buffer.from(fresh.image.data))).toBe(true);
      expect(fresh.box).toEqual(s.box);
      const out = await model.predict([toPlanar(img.data)]);
      expect(Array.from(out.logits).indexOf(Math.max(...out.logits))).toBe(s.classIndex);
    }
  });
});

function toPlanar(rgb: Uint8Array) {
  const plane = KE_SIZE * KE_SIZE;
  const data = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) data[c * plane + p] = rgb[3 * p + c];
  return { width: KE_SIZE, height: KE_SIZE, data };
}
