// Grounding concepts in the image: a concept's box (from the vision endpoint or drawn by an annotator, in
// original-image pixels) compared with a pixel-level saliency map (share of the map's positive energy inside
// the box) and scored on the CNN by filling the boxes with the image's mean colour (AOPC-style), next to
// removing the same number of the map's top pixels.
import type { Classifier } from '../model/classifier.ts';
import type { ImageTransform, Map2D, PlanarImage, Target } from '../types.ts';
import { SaliencyError } from '../types.ts';
import { topK } from '../util/math.ts';
import { type Box, validateBox } from './box.ts';
import { conceptWords } from './words.ts';

/** Boxes of the best concepts first (concepts compared as caption words); boxes of unranked concepts last. */
export function orderBoxesByConcepts<T extends { concept: string }>(boxes: readonly T[], rankedWords: readonly string[]): T[] {
  const rank = (concept: string) => {
    const words = conceptWords(concept);
    const i = rankedWords.findIndex((w) => words.includes(w));
    return i < 0 ? rankedWords.length : i;
  };
  return [...boxes].sort((a, b) => rank(a.concept) - rank(b.concept));
}

/** A pixel mask on a width x height grid covering the model input: 1 where the pixel centre is in the box. */
export function boxMask(box: Box, t: ImageTransform, width = t.inputWidth, height = t.inputHeight): Uint8Array {
  validateBox(box, t.originalWidth, t.originalHeight);
  const mask = new Uint8Array(width * height);
  // Grid pixel centre -> original-image coordinates through the crop the model saw.
  for (let y = 0; y < height; y++) {
    const oy = t.crop.y + ((y + 0.5) / height) * t.crop.height;
    if (oy < box.yMin || oy >= box.yMax) continue;
    for (let x = 0; x < width; x++) {
      const ox = t.crop.x + ((x + 0.5) / width) * t.crop.width;
      if (ox >= box.xMin && ox < box.xMax) mask[y * width + x] = 1;
    }
  }
  return mask;
}

export interface BoxEnergy {
  /** Share of the map's positive mass inside the box (NaN pixels ignored); 0 for a map with no positive value. */
  energy: number;
  /** Share of the (visible) grid the box covers: what a uniform map would score. */
  area: number;
  /** energy / area: above 1 means the map concentrates on the box. */
  lift: number;
}

export function boxEnergy(map: Map2D, box: Box, t: ImageTransform): BoxEnergy {
  const mask = boxMask(box, t, map.width, map.height);
  let inside = 0;
  let total = 0;
  let inArea = 0;
  let area = 0;
  map.data.forEach((v, i) => {
    if (Number.isNaN(v)) return;
    area++;
    inArea += mask[i];
    if (v > 0) {
      total += v;
      if (mask[i]) inside += v;
    }
  });
  if (inArea === 0) throw new SaliencyError('the box lies outside the part of the image the model saw (the centre crop)', 'BOX_OUTSIDE_IMAGE');
  const energy = total > 0 ? inside / total : 0;
  const share = inArea / area;
  return { energy, area: share, lift: energy / share };
}

/** The image with the masked pixels set to the image's mean colour. */
export function fillMean(image: PlanarImage, mask: Uint8Array): PlanarImage {
  const plane = image.width * image.height;
  if (mask.length !== plane) throw new SaliencyError(`mask has ${mask.length} pixels, image ${plane}`, 'BAD_MASK');
  const data = image.data.slice();
  for (let ch = 0; ch < 3; ch++) {
    let mean = 0;
    for (let i = 0; i < plane; i++) mean += image.data[ch * plane + i];
    mean /= plane;
    for (let i = 0; i < plane; i++) if (mask[i]) data[ch * plane + i] = mean;
  }
  return { width: image.width, height: image.height, data };
}

export interface RemovalCurve {
  /** Target score with the first k boxes removed (k = 0..boxes), or the same number of top map pixels. */
  scores: number[];
  /** scores[0] - scores[k]. */
  drops: number[];
  /** Mean drop over k = 0..boxes. */
  aopc: number;
  /** Share of the input grid removed at each step. */
  areas: number[];
}

function scoreOf(out: { logits: Float32Array; probabilities: Float32Array; numClasses: number }, j: number, target: Target): number {
  return (target.score === 'logit' ? out.logits : out.probabilities)[j * out.numClasses + target.classIndex];
}

async function curve(model: Classifier, image: PlanarImage, masks: Uint8Array[], target: Target): Promise<RemovalCurve> {
  const out = await model.predict([image, ...masks.map((m) => fillMean(image, m))]);
  const scores = Array.from({ length: masks.length + 1 }, (_, j) => scoreOf(out, j, target));
  const drops = scores.map((s) => scores[0] - s);
  const areas = [0, ...masks.map((m) => m.reduce((a, b) => a + b, 0) / m.length)];
  return { scores, drops, aopc: drops.reduce((a, b) => a + b, 0) / drops.length, areas };
}

/**
 * Removes the boxes one after another (box 1, boxes 1-2, ...) from the model input and records the target
 * score. With a map, also removes the same number of the map's highest pixels at each step, for comparison.
 */
export async function boxRemovalCurve(model: Classifier, image: PlanarImage, t: ImageTransform, boxes: Box[], target: Target, map?: Map2D): Promise<{ boxes: RemovalCurve; map?: RemovalCurve }> {
  if (boxes.length === 0) throw new SaliencyError('no box to remove', 'BAD_DATA');
  if (image.width !== t.inputWidth || image.height !== t.inputHeight) throw new SaliencyError('the image is not at the model input size of its transform', 'BAD_IMAGE');
  const union = new Uint8Array(image.width * image.height);
  const masks = boxes.map((b) => {
    const m = boxMask(b, t);
    m.forEach((v, i) => { if (v) union[i] = 1; });
    return union.slice();
  });
  const result: { boxes: RemovalCurve; map?: RemovalCurve } = { boxes: await curve(model, image, masks, target) };
  if (map) {
    if (map.width !== image.width || map.height !== image.height) throw new SaliencyError(`map is ${map.width}x${map.height}, the model input ${image.width}x${image.height}`, 'BAD_MAP');
    const values = Float32Array.from(map.data, (v) => (Number.isNaN(v) ? -Infinity : v));
    const order = topK(values, values.length);
    const mapMasks = masks.map((m) => {
      const n = m.reduce((a, b) => a + b, 0);
      const out = new Uint8Array(m.length);
      for (const i of order.slice(0, n)) out[i] = 1;
      return out;
    });
    result.map = await curve(model, image, mapMasks, target);
  }
  return result;
}
