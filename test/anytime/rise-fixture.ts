// Shared by the RISE control-variate tests: RISE on the evidence model (a 48 x 48 textured image whose evidence is
// one square), and the spread of a configuration's maps over seeds.
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import type { Explanation, PreparedImage } from '../../src-main/engine/explain/types.ts';
import type { PlanarImage, Target } from '../../src-main/engine/types.ts';
import { evidenceModelBytes, texturedImage, type Square } from '../explain-core/evidence-model.ts';
import { identityTransform } from '../helpers/prepared.ts';

export const SIZE = 48;
const SQ: Square = { x0: 28, y0: 6, x1: 42, y1: 20 };
export const input: PlanarImage = texturedImage(SIZE, 2);
export const image: PreparedImage = { id: 'rise-cv', input, transform: identityTransform(SIZE) };
export const target: Target = { classIndex: 0, score: 'logit' };
export const base = { masks: 256, cells: 4, p: 0.5, progressEvery: 64 };

export function loadEvidenceModel(): Promise<Classifier> {
  return Classifier.load({ bytes: evidenceModelBytes(SIZE, SQ), name: 'evidence' });
}

/** Over the seeds: the mean map, the per-pixel variance across seeds (averaged over pixels), the SD of the mean
 *  map over pixels (its contrast) and the RMS of the reported relative SEs. */
export async function seedSpread(run: (seed: number) => Promise<Explanation>, seeds: number[]) {
  const P = SIZE * SIZE;
  const maps = [];
  let se2 = 0;
  for (const s of seeds) {
    const e = await run(s);
    maps.push(e.map.data);
    se2 += (e.extras.finalRelativeSE as number) ** 2;
  }
  const mean = new Float64Array(P);
  for (const m of maps) for (let q = 0; q < P; q++) mean[q] += m[q] / maps.length;
  let variance = 0;
  for (let q = 0; q < P; q++) for (const m of maps) variance += (m[q] - mean[q]) ** 2 / (maps.length - 1) / P;
  const mu = mean.reduce((a, b) => a + b, 0) / P;
  let contrast = 0;
  for (let q = 0; q < P; q++) contrast += (mean[q] - mu) ** 2 / P;
  return { mean, variance, contrast: Math.sqrt(contrast), relativeSE: Math.sqrt(se2 / seeds.length) };
}

/** RMS difference of two mean maps. */
export function rmsDistance(a: Float64Array, b: Float64Array): number {
  let d2 = 0;
  for (let q = 0; q < a.length; q++) d2 += (a[q] - b[q]) ** 2 / a.length;
  return Math.sqrt(d2);
}

/** Reported relative SE over the observed one (the spread across seeds over the mean map's contrast): 1 = calibrated. */
export function seCalibration(s: { variance: number; contrast: number; relativeSE: number }): number {
  return s.relativeSE / (Math.sqrt(s.variance) / s.contrast);
}
