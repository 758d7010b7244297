// Writes the known-evidence benchmark's bundled files: the hand-built model, sample images with their ground
// truth, and a README with the measured accuracy and Grad-CAM localisation rate.
//
//   npm run make:known-evidence [-- --out DIR]
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { Classifier } from '../src-main/engine/model/classifier.ts';
import { GradCam } from '../src-main/engine/explain/cam/gradcam.ts';
import { prepareDecoded } from '../src-main/engine/image/prepare.ts';
import { argmax } from '../src-main/engine/util/math.ts';
import {
  buildKnownEvidenceModel, generateKnownEvidence, KNOWN_EVIDENCE_CLASSES, KE_SIZE, KE_PATTERN, type KnownEvidenceImage,
} from '../src-main/engine/model/known-evidence.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SAMPLE_SEED = 2024;
export const CHECK_SEED = 7;
const SAMPLES_PER_CLASS = 3;

export interface BenchmarkCheck {
  n: number;
  accuracy: number;
  /** Fraction of images whose Grad-CAM maximum (on the model-input grid) lies inside the evidence box. */
  hitRate: number;
  misses: number[];
}

/** Classifies `images` and checks where Grad-CAM's maximum falls (target: the true class, logit). */
export async function checkGradCam(model: Classifier, images: KnownEvidenceImage[]): Promise<BenchmarkCheck> {
  const cam = new GradCam();
  const settings = cam.settings({});
  let correct = 0;
  let hits = 0;
  const misses: number[] = [];
  for (const [i, ke] of images.entries()) {
    const { prepared } = prepareDecoded(ke.image, `known-evidence-${i}`, model);
    const e = await cam.explain(prepared, { classIndex: ke.classIndex, score: 'logit' }, settings, 0, { model });
    const top = argmax(e.map.data);
    const x = top % e.map.width;
    const y = Math.floor(top / e.map.width);
    if (ke.mask.data[y * ke.mask.width + x] === 1) hits++;
    else misses.push(i);
  }
  const out = await model.predict(images.map((ke, i) => prepareDecoded(ke.image, `known-evidence-${i}`, model).prepared.input));
  images.forEach((ke, i) => { if (argmax(out.logits, i * out.numClasses, out.numClasses) === ke.classIndex) correct++; });
  return { n: images.length, accuracy: correct / images.length, hitRate: hits / images.length, misses };
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--out');
  const out = path.resolve(i >= 0 ? process.argv[i + 1] : path.join(REPO, 'resources/known-evidence'));
  mkdirSync(path.join(out, 'samples'), { recursive: true });
  const bytes = buildKnownEvidenceModel();
  const modelFile = path.join(out, 'model.onnx');
  writeFileSync(modelFile, bytes);

  // Samples: a few of each class, with their boxes.
  const pool = generateKnownEvidence(200, SAMPLE_SEED);
  const truth: Record<string, unknown>[] = [];
  for (let k = 0; k < KNOWN_EVIDENCE_CLASSES.length; k++) {
    const picked = pool.map((ke, idx) => ({ ke, idx })).filter(({ ke }) => ke.classIndex === k).slice(0, SAMPLES_PER_CLASS);
    for (const { ke, idx } of picked) {
      const file = `${String(idx).padStart(3, '0')}_${ke.className}.png`;
      await sharp(Buffer.from(ke.image.data), { raw: { width: KE_SIZE, height: KE_SIZE, channels: 3 } }).png().toFile(path.join(out, 'samples', file));
      truth.push({ file: `samples/${file}`, classIndex: ke.classIndex, className: ke.className, box: ke.box, distractors: ke.distractors });
    }
  }
  writeFileSync(path.join(out, 'ground-truth.json'), JSON.stringify({
    note: 'evidence box (x, y, width, height in pixels of the 96x96 image) per sample; the mask is 1 inside the box',
    seed: SAMPLE_SEED, generator: 'generateOne(seed, index) in src-main/engine/model/known-evidence.ts', samples: truth,
  }, null, 1) + '\n');

  const model = await Classifier.load(modelFile, { name: 'builtin:known-evidence', threads: 1 });
  const check = await checkGradCam(model, generateKnownEvidence(200, CHECK_SEED));
  await model.dispose();
  console.log(`known-evidence: accuracy ${(100 * check.accuracy).toFixed(1)}%, Grad-CAM maximum inside the evidence on ` +
    `${(100 * check.hitRate).toFixed(1)}% of ${check.n} images (seed ${CHECK_SEED}); model ${bytes.length} bytes`);

  writeFileSync(path.join(out, 'README.md'), `# Known-evidence benchmark (\`builtin:known-evidence\`)

Images in which the evidence for the class sits at a known place, and a hand-built ONNX model that classifies
by that evidence only, so the correct explanation is known by construction. Written by
\`scripts/make-known-evidence.ts\` (\`npm run make:known-evidence\`); do not edit by hand.

**Images** (\`generateKnownEvidence(count, seed)\` in \`src-main/engine/model/known-evidence.ts\`, seeded):
${KE_SIZE}x${KE_SIZE} RGB, colour-noise background, one ${KE_PATTERN}x${KE_PATTERN} evidence pattern (the class:
${KNOWN_EVIDENCE_CLASSES.join(', ')}) at a random place, 2-4 near-miss distractors (a class pattern's structure
in other colours, or its colours in another structure) and 2-4 flat coloured rectangles, none overlapping.
The ground-truth mask is the pattern's box.

**Model** (input \`image\` float32 [batch,3,${KE_SIZE},${KE_SIZE}], RGB /255; \`saliency.preset\`=\`unit\`,
\`saliency.resize\`=\`direct\`): one matched filter per class (the pattern minus its per-channel mean, scaled so
an exact match scores 1; flat colour scores 0) with bias -0.7 -> ReLU -> MaxPool 4 -> the 24x24 last feature
block -> GlobalAveragePool -> Gemm (scaled identity) -> \`logits\`. No weight was learned.

**Measured** on ${check.n} generated images (seed ${CHECK_SEED}): accuracy ${(100 * check.accuracy).toFixed(1)}%;
Grad-CAM's maximum lies inside the evidence box on **${(100 * check.hitRate).toFixed(1)}%** of them.

**Files.** \`model.onnx\` (${bytes.length} bytes); \`samples/\` (${truth.length} images, \`<index>_<class>.png\`,
generated with seed ${SAMPLE_SEED}); \`ground-truth.json\` (each sample's class, evidence box and distractor boxes).
`);
  console.log(`wrote ${modelFile}, ${truth.length} samples, ground-truth.json and README.md in ${out}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
