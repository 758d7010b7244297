// Fitting the learned combiner on human annotation masks: per-pixel member values (normalised as the ensemble
// will normalise them) are regressed on the mask with non-negative weights (NNLS on centred data; the intercept
// does not change the map's ranking, so it is left free and not used). Each image counts equally and, within
// an image, object and background pixels count half each, so large masks or large images do not dominate.
// fitAndEvaluate holds images out and reports how well each method, the plain mean and the learned weights
// agree with the held-out masks (ROC AUC of the map against the mask).
import type { Explanation } from '../explain/types.ts';
import { resizeMap } from '../image/upsample.ts';
import { Random } from '../util/random.ts';
import { SaliencyError, type Map2D } from '../types.ts';
import { buildEnsemble, prepareStack } from './build.ts';
import { nnlsGram } from './nnls.ts';
import { averageRanks } from './stats.ts';
import type { EnsembleSpec, WeightSet } from './types.ts';
import { normaliseWeights } from './weights/weight-set.ts';

export interface AnnotatedSample {
  /** Same methods in every sample. */
  explanations: Explanation[];
  /** Non-zero = where the evidence is; any size (resampled to the ensemble grid). */
  mask: Map2D;
  id?: string;
}

export type PrepareSpec = Omit<EnsembleSpec, 'combiner' | 'weights'>;

function methodsOf(samples: AnnotatedSample[]): string[] {
  if (samples.length === 0) throw new SaliencyError('no annotated samples to fit on', 'BAD_INPUT');
  const methods = samples[0].explanations.map((e) => e.method);
  for (const [i, s] of samples.entries()) {
    const m = s.explanations.map((e) => e.method);
    if (m.join('\u0000') !== methods.join('\u0000')) throw new SaliencyError(`sample ${s.id ?? i} has methods ${m.join(', ')}, expected ${methods.join(', ')}`, 'BAD_INPUT');
  }
  return methods;
}

function binaryMask(mask: Map2D, width: number, height: number): Float32Array {
  return resizeMap(mask, width, height).data.map((v) => (Number.isNaN(v) ? NaN : v >= 0.5 ? 1 : 0));
}

export function fitLearnedWeights(samples: AnnotatedSample[], spec: PrepareSpec = {}, name = 'learned'): WeightSet {
  const methods = methodsOf(samples);
  const m = methods.length;
  let S = 0, Sy = 0;
  const Sx = new Float64Array(m), Sxy = new Float64Array(m);
  const Sxx = Array.from({ length: m }, () => new Float64Array(m));
  let used = 0;
  for (const s of samples) {
    const stack = prepareStack(s.explanations, spec);
    const y = binaryMask(s.mask, stack.width, stack.height);
    let pos = 0, neg = 0;
    const ok = (p: number) => !Number.isNaN(y[p]) && stack.maps.every((map) => Number.isFinite(map[p]));
    for (let p = 0; p < y.length; p++) if (ok(p)) { if (y[p]) pos++; else neg++; }
    if (pos === 0 || neg === 0) continue; // nothing to learn from an image that is all object or all background
    used++;
    const x = new Float64Array(m);
    for (let p = 0; p < y.length; p++) {
      if (!ok(p)) continue;
      const w = y[p] ? 0.5 / pos : 0.5 / neg;
      for (let i = 0; i < m; i++) x[i] = stack.maps[i][p];
      S += w; Sy += w * y[p];
      for (let i = 0; i < m; i++) {
        Sx[i] += w * x[i];
        Sxy[i] += w * x[i] * y[p];
        for (let j = 0; j < m; j++) Sxx[i][j] += w * x[i] * x[j];
      }
    }
  }
  if (used === 0) throw new SaliencyError('no sample has both object and background pixels in its mask', 'BAD_INPUT');
  const G = Sxx.map((row, i) => Array.from(row, (v, j) => v - (Sx[i] * Sx[j]) / S));
  const b = Array.from(Sxy, (v, i) => v - (Sx[i] * Sy) / S);
  const raw = nnlsGram(G, b);
  if (raw.every((w) => w === 0)) throw new SaliencyError(`no method correlates positively with the masks (${methods.join(', ')}): the learned weights are all 0`, 'BAD_INPUT');
  return {
    name,
    source: 'annotations',
    weights: normaliseWeights(Object.fromEntries(methods.map((mm, i) => [mm, raw[i]]))),
    provenance: {
      fit: 'NNLS on centred per-pixel values, object/background balanced per image',
      normaliser: spec.normaliser ?? 'minmax', sign: spec.sign ?? 'signed',
      images: used, ids: samples.map((s, i) => s.id ?? String(i)), rawWeights: Object.fromEntries(methods.map((mm, i) => [mm, raw[i]])),
      createdAt: new Date().toISOString(),
    },
  };
}

/** ROC AUC of a map as a detector of the mask (Mann-Whitney U / (pos * neg)); NaN pixels are left out. */
export function maskAuc(map: Map2D, mask: Map2D): number {
  const y = binaryMask(mask, map.width, map.height);
  const keep: number[] = [];
  for (let p = 0; p < y.length; p++) if (!Number.isNaN(y[p]) && !Number.isNaN(map.data[p])) keep.push(p);
  const ranks = averageRanks(keep.map((p) => map.data[p]));
  let pos = 0, sum = 0;
  keep.forEach((p, k) => { if (y[p]) { pos++; sum += ranks[k] + 1; } });
  const neg = keep.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (sum - (pos * (pos + 1)) / 2) / (pos * neg);
}

export interface HeldOutReport {
  weightSet: WeightSet;
  train: string[];
  test: string[];
  /** Mean held-out AUC per single method, 'ensemble:mean' and 'ensemble:learned'. */
  auc: Record<string, number>;
}

/** Fits on a seeded random (1 - testFraction) of the images and evaluates on the rest. */
export function fitAndEvaluate(samples: AnnotatedSample[], opts: PrepareSpec & { testFraction?: number; seed?: number } = {}): HeldOutReport {
  const methods = methodsOf(samples);
  const f = opts.testFraction ?? 0.3;
  if (!(f > 0 && f < 1)) throw new SaliencyError(`testFraction must be in (0,1), got ${f}`, 'BAD_SETTING');
  const order = new Random(opts.seed ?? 0).shuffle(samples.map((_, i) => i));
  const nTest = Math.max(1, Math.round(samples.length * f));
  if (nTest >= samples.length) throw new SaliencyError(`need at least 2 samples to hold some out, got ${samples.length}`, 'BAD_INPUT');
  const test = order.slice(0, nTest).map((i) => samples[i]);
  const train = order.slice(nTest).map((i) => samples[i]);
  const weightSet = fitLearnedWeights(train, opts);
  const sums: Record<string, number[]> = {};
  const add = (k: string, v: number) => { if (Number.isFinite(v)) (sums[k] ??= []).push(v); };
  for (const s of test) {
    const stack = prepareStack(s.explanations, opts);
    methods.forEach((mm, i) => add(mm, maskAuc({ width: stack.width, height: stack.height, data: stack.maps[i] }, s.mask)));
    add('ensemble:mean', maskAuc(buildEnsemble(s.explanations, { ...opts, combiner: 'mean' }).map, s.mask));
    add('ensemble:learned', maskAuc(buildEnsemble(s.explanations, { ...opts, combiner: 'learned', weights: weightSet }).map, s.mask));
  }
  const auc = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v.reduce((a, b) => a + b, 0) / v.length]));
  return { weightSet, train: train.map((s) => s.id ?? ''), test: test.map((s) => s.id ?? ''), auc };
}
