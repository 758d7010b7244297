// The known-evidence benchmark: images whose class is decided by one small coloured pattern at a known place
// among near-miss distractors, and a hand-built ONNX model (no training) that classifies by that pattern only.
// Because the model's evidence is known by construction, a correct explanation must point at the pattern's box.
//
// Model: per class a 12x12 RGB matched filter (the zero-mean template, scaled so an exact match scores 1) with
// bias -THRESHOLD -> ReLU: a detector that fires only where its pattern is (near misses and flat colour score far less) ->
// MaxPool 4 -> the 24x24 last feature block -> GlobalAveragePool -> Gemm (a scaled identity) -> logits.
import type { Map2D } from '../types.ts';
import { SaliencyError } from '../types.ts';
import type { RgbImage } from '../image/load-image.ts';
import { Random } from '../util/random.ts';
import { OnnxBuilder } from './onnx-builder.ts';

export const KE_SIZE = 96;
const CELL = 3;
const GRID = 4;
export const KE_PATTERN = CELL * GRID; // 12 px
const POOL = 4;
/** Detector bias: fires when the match score (1 = exact) exceeds this. */
const THRESHOLD = 0.7;
/** Logit of a present pattern seen by one pooled cell at full strength. */
const LOGIT_SCALE = 20;

type Colour = [number, number, number];
const C: Record<string, Colour> = {
  R: [1, 0, 0], G: [0, 1, 0], B: [0, 0, 1], Y: [1, 1, 0], M: [1, 0, 1], Cy: [0, 1, 1], K: [0, 0, 0], W: [1, 1, 1],
};
type Grid = Colour[][]; // GRID x GRID cells

const grid = (f: (i: number, j: number) => Colour): Grid => Array.from({ length: GRID }, (_, i) => Array.from({ length: GRID }, (_, j) => f(i, j)));
const edge = (i: number, j: number) => i === 0 || j === 0 || i === GRID - 1 || j === GRID - 1;

// Every pattern uses one pair of complementary colours, so each colour channel varies across the pattern
// and the per-channel zero-mean matched filter ignores flat colour: only structure scores.
/** The evidence patterns, one per class. */
const PATTERNS: { name: string; grid: Grid }[] = [
  { name: 'checker', grid: grid((i, j) => ((i + j) % 2 ? C.Cy : C.R)) },
  { name: 'ring', grid: grid((i, j) => (edge(i, j) ? C.B : C.Y)) },
  { name: 'stripes', grid: grid((_, j) => (j % 2 ? C.M : C.G)) },
  { name: 'triangle', grid: grid((i, j) => (i >= j ? C.W : C.K)) },
];

/** Near misses: a class pattern's structure in other colours, or its colours in another structure. */
const NEAR_MISSES: Grid[] = [
  grid((i, j) => ((i + j) % 2 ? C.Y : C.B)), // checker in another colour pair
  grid((i, j) => (edge(i, j) ? C.Y : C.B)), // inverted ring
  grid((i) => (i % 2 ? C.M : C.G)), // horizontal stripes
  grid((i, j) => (i <= j ? C.W : C.K)), // the other triangle
  grid((i, j) => (i < 2 === j < 2 ? C.R : C.Cy)), // quadrants in the checker's colours
  grid((_, j) => (j % 2 ? C.K : C.W)), // stripes in the triangle's colours
];

export const KNOWN_EVIDENCE_CLASSES: readonly string[] = PATTERNS.map((p) => p.name);

export interface Box { x: number; y: number; width: number; height: number }

export interface KnownEvidenceImage {
  /** Interleaved 8-bit RGB, KE_SIZE x KE_SIZE (what `prepareDecoded` takes). */
  image: RgbImage;
  classIndex: number;
  className: string;
  /** Where the evidence pattern is. */
  box: Box;
  /** 1 inside the evidence box, 0 elsewhere. */
  mask: Map2D;
  /** Boxes of the distractors (near-miss patterns and plain shapes). */
  distractors: Box[];
}

function paintGrid(data: Uint8Array, g: Grid, x0: number, y0: number): void {
  for (let y = 0; y < KE_PATTERN; y++) for (let x = 0; x < KE_PATTERN; x++) {
    const col = g[Math.floor(y / CELL)][Math.floor(x / CELL)];
    const p = ((y0 + y) * KE_SIZE + x0 + x) * 3;
    for (let c = 0; c < 3; c++) data[p + c] = col[c] * 255;
  }
}

function paintRect(data: Uint8Array, b: Box, col: Colour): void {
  for (let y = b.y; y < b.y + b.height; y++) for (let x = b.x; x < b.x + b.width; x++) {
    const p = (y * KE_SIZE + x) * 3;
    for (let c = 0; c < 3; c++) data[p + c] = col[c] * 255;
  }
}

const GAP = 3;
const overlaps = (a: Box, b: Box) =>
  a.x < b.x + b.width + GAP && b.x < a.x + a.width + GAP && a.y < b.y + b.height + GAP && b.y < a.y + a.height + GAP;

/** Finds a free place for a w x h box (rejection sampling); null if the image is full. */
function place(rng: Random, taken: Box[], width: number, height: number): Box | null {
  for (let attempt = 0; attempt < 200; attempt++) {
    const b = { x: rng.int(KE_SIZE - width + 1), y: rng.int(KE_SIZE - height + 1), width, height };
    if (!taken.some((t) => overlaps(t, b))) return b;
  }
  return null;
}

/** One image with its ground truth; `index` and `seed` fix it completely. */
export function generateOne(seed: number, index: number, classIndex?: number): KnownEvidenceImage {
  const rng = Random.derive(seed, `known-evidence/${index}`);
  const k = classIndex ?? rng.int(PATTERNS.length);
  if (!Number.isInteger(k) || k < 0 || k >= PATTERNS.length) {
    throw new SaliencyError(`known-evidence class ${k} is out of range 0..${PATTERNS.length - 1}`, 'BAD_SETTING');
  }
  const data = new Uint8Array(KE_SIZE * KE_SIZE * 3);
  // Background: colour noise around mid-grey (a matched filter's response to it is ~1% of a match).
  for (let i = 0; i < data.length; i++) data[i] = 64 + rng.int(129);
  const box = place(rng, [], KE_PATTERN, KE_PATTERN)!;
  paintGrid(data, PATTERNS[k].grid, box.x, box.y);
  const taken = [box];
  const distractors: Box[] = [];
  const nearMisses = 2 + rng.int(3);
  for (let d = 0; d < nearMisses; d++) {
    const b = place(rng, taken, KE_PATTERN, KE_PATTERN);
    if (!b) break;
    paintGrid(data, NEAR_MISSES[rng.int(NEAR_MISSES.length)], b.x, b.y);
    taken.push(b);
    distractors.push(b);
  }
  const palette = Object.values(C);
  const shapes = 2 + rng.int(3);
  for (let d = 0; d < shapes; d++) {
    const b = place(rng, taken, 4 + rng.int(15), 4 + rng.int(15));
    if (!b) break;
    paintRect(data, b, palette[rng.int(palette.length)]);
    taken.push(b);
    distractors.push(b);
  }
  const mask = new Float32Array(KE_SIZE * KE_SIZE);
  for (let y = box.y; y < box.y + box.height; y++) mask.fill(1, y * KE_SIZE + box.x, y * KE_SIZE + box.x + box.width);
  return {
    image: { width: KE_SIZE, height: KE_SIZE, data }, classIndex: k, className: PATTERNS[k].name, box,
    mask: { width: KE_SIZE, height: KE_SIZE, data: mask }, distractors,
  };
}

/** `count` images (classes drawn at random), reproducible from `seed`. */
export function generateKnownEvidence(count: number, seed: number): KnownEvidenceImage[] {
  if (!Number.isInteger(count) || count < 0) throw new SaliencyError(`image count must be a non-negative integer (got ${count})`, 'BAD_SETTING');
  return Array.from({ length: count }, (_, i) => generateOne(seed, i));
}

/**
 * The matched filter of a pattern: [3, 12, 12], the template minus its per-channel mean (flat colour scores 0),
 * scaled so an exact match scores 1. For inputs in [0,1] no patch scores higher than the pattern itself.
 */
function matchedFilter(g: Grid): Float32Array {
  const plane = KE_PATTERN * KE_PATTERN;
  const f = new Float64Array(3 * plane);
  let self = 0;
  for (let c = 0; c < 3; c++) {
    const t = new Float64Array(plane);
    for (let y = 0; y < KE_PATTERN; y++) for (let x = 0; x < KE_PATTERN; x++) t[y * KE_PATTERN + x] = g[Math.floor(y / CELL)][Math.floor(x / CELL)][c];
    const mean = t.reduce((a, b) => a + b, 0) / plane;
    for (let i = 0; i < plane; i++) {
      f[c * plane + i] = t[i] - mean;
      self += (t[i] - mean) * t[i];
    }
  }
  return Float32Array.from(f, (v) => v / self);
}

/** The hand-built model as ONNX bytes (deterministic: the bundled file is exactly this). */
export function buildKnownEvidenceModel(): Uint8Array {
  const K = PATTERNS.length;
  const b = new OnnxBuilder({ producer: 'saliency-studio known-evidence (hand-built)', producerVersion: '1', graphName: 'known_evidence' });
  const input = b.input('image', ['batch', 3, KE_SIZE, KE_SIZE]);
  const weights = new Float32Array(K * 3 * KE_PATTERN * KE_PATTERN);
  PATTERNS.forEach((p, k) => weights.set(matchedFilter(p.grid), k * 3 * KE_PATTERN * KE_PATTERN));
  const w = b.initializer('detector.weight', weights, [K, 3, KE_PATTERN, KE_PATTERN]);
  const bias = b.initializer('detector.bias', new Array(K).fill(-THRESHOLD), [K]);
  // 'same' padding for an even kernel: 5 before, 6 after, so a match peaks at the pattern's centre pixel.
  const half = KE_PATTERN / 2;
  const detect = b.relu(b.conv(input, w, bias, { kernel: [KE_PATTERN, KE_PATTERN], pads: [half - 1, half - 1, half, half] }, 'detector'), 'detections');
  const features = b.maxPool(detect, POOL, POOL, 'features');
  const pooled = b.flatten(b.globalAveragePool(features, 'gap'), 'pooled');
  // GAP averages over (96/4)^2 cells; scale back so a full-strength match in one cell gives LOGIT_SCALE.
  const cells = (KE_SIZE / POOL) ** 2;
  const fc = new Float32Array(K * K);
  for (let k = 0; k < K; k++) fc[k * K + k] = (cells * LOGIT_SCALE) / (1 - THRESHOLD);
  const fw = b.initializer('fc.weight', fc, [K, K]);
  const fb = b.initializer('fc.bias', new Array(K).fill(0), [K]);
  b.output(b.gemm(pooled, fw, fb, 'logits'), ['batch', K]);
  b.metadata('saliency.preset', 'unit');
  b.metadata('saliency.resize', 'direct');
  b.metadata('saliency.labels', JSON.stringify(KNOWN_EVIDENCE_CLASSES));
  b.metadata('known_evidence.description',
    `${K} classes, each decided by one ${KE_PATTERN}x${KE_PATTERN} pattern in a ${KE_SIZE}x${KE_SIZE} image among near-miss ` +
    `distractors; matched filters (threshold ${THRESHOLD}) -> ReLU -> MaxPool ${POOL} -> GAP -> Gemm; weights set by hand, no training`);
  b.metadata('known_evidence.generator', 'src-main/engine/model/known-evidence.ts generateKnownEvidence(count, seed)');
  return b.toBytes();
}
