import { describe, expect, it } from 'vitest';
import { fitBradleyTerry, weightsFromPairwise, pairwiseRows, type PairwiseRow } from '../../src-main/engine/ensemble/weights/bradley-terry.ts';
import { weightsFromLikert, likertRows } from '../../src-main/engine/ensemble/weights/likert.ts';
import { metricRows, weightsFromMetrics, weightSetsPer, type MetricRow } from '../../src-main/engine/ensemble/weights/from-metrics.ts';
import { manualWeights } from '../../src-main/engine/ensemble/weights/manual.ts';
import { alignWeights, checkWeightSet, scoresToWeights } from '../../src-main/engine/ensemble/weights/weight-set.ts';
import { parseTable } from '../../src-main/engine/ensemble/weights/table.ts';
import { Random } from '../../src-main/engine/util/random.ts';

/** Pairwise choices drawn from a Bradley-Terry model with the given strengths. */
function simulate(strengths: Record<string, number>, n: number, seed: number): PairwiseRow[] {
  const rng = new Random(seed);
  const names = Object.keys(strengths);
  const rows: PairwiseRow[] = [];
  for (let k = 0; k < n; k++) {
    const i = rng.int(names.length);
    let j = rng.int(names.length - 1);
    if (j >= i) j++;
    const [a, b] = [names[i], names[j]];
    rows.push({ a, b, winner: rng.next() < strengths[a] / (strengths[a] + strengths[b]) ? a : b });
  }
  return rows;
}

describe('Bradley-Terry (MM)', () => {
  it('recovers known strengths from simulated pairwise choices', () => {
    const truth = { gradcam: 0.4, lime: 0.3, rise: 0.2, kernelshap: 0.1 };
    const w = weightsFromPairwise(simulate(truth, 6000, 7));
    for (const [m, s] of Object.entries(truth)) expect(Math.abs(w.weights[m] - s) / s, m).toBeLessThan(0.1);
    expect(w.provenance.converged).toBe(true);
    expect(w.provenance.prior).toBe(0);
    expect(w.source).toBe('ratings');
    // Order is right even with few choices.
    const few = weightsFromPairwise(simulate(truth, 400, 3)).weights;
    expect(few.gradcam).toBeGreaterThan(few.rise);
    expect(few.lime).toBeGreaterThan(few.kernelshap);
  });

  it('two methods: the MLE is the win ratio; ties count half', () => {
    const rows: PairwiseRow[] = [...Array(30).fill({ a: 'x', b: 'y', winner: 'x' }), ...Array(10).fill({ a: 'x', b: 'y', winner: 'y' })];
    const fit = fitBradleyTerry(rows);
    expect(fit.strengths[0] / fit.strengths[1]).toBeCloseTo(3, 6);
    const tied = fitBradleyTerry([...rows, ...Array(20).fill({ a: 'y', b: 'x', winner: 'tie' })]);
    expect(tied.strengths[0] / tied.strengths[1]).toBeCloseTo(40 / 20, 6);
  });

  it('a method that never won: the MLE does not exist, a recorded prior is used instead of 0', () => {
    const rows: PairwiseRow[] = [{ a: 'x', b: 'y', winner: 'x' }, { a: 'x', b: 'y', winner: 'x' }, { a: 'y', b: 'z', winner: 'y' }, { a: 'z', b: 'x', winner: 'x' }];
    const fit = fitBradleyTerry(rows);
    expect(fit.prior).toBe(0.5);
    expect(fit.converged).toBe(true);
    expect(Math.min(...fit.strengths)).toBeGreaterThan(0);
    const [x, y, z] = fit.strengths;
    expect(x).toBeGreaterThan(y);
    expect(y).toBeGreaterThan(z);
  });

  it('rejects unlinked methods, self-comparisons and unknown winners', () => {
    expect(() => fitBradleyTerry([{ a: 'x', b: 'y', winner: 'x' }, { a: 'u', b: 'v', winner: 'u' }])).toThrow(/do not link all methods/);
    expect(() => fitBradleyTerry([{ a: 'x', b: 'x', winner: 'x' }])).toThrow(/compares x with itself/);
    expect(() => fitBradleyTerry([{ a: 'x', b: 'y', winner: 'z' }])).toThrow(/winner must be x, y or tie, got "z"/);
  });

  it('reads A/B choices from CSV', () => {
    const rows = pairwiseRows(parseTable('a,b,winner\nlime,rise,A\nlime,rise,B\nrise,lime,tie\n', 't'));
    expect(rows.map((r) => r.winner)).toEqual(['lime', 'rise', 'tie']);
  });
});

describe('Likert ratings', () => {
  it('weights are the mean rating above the bottom of the scale, normalised', () => {
    const w = weightsFromLikert(likertRows(parseTable('method,score\na,5\na,3\nb,2\nb,2\nc,1\n', 't')));
    // (4-1)/4 : (2-1)/4 : 0
    expect(w.weights.a).toBeCloseTo(0.75, 9);
    expect(w.weights.b).toBeCloseTo(0.25, 9);
    expect(w.weights.c).toBe(0);
    expect((w.provenance.methods as Record<string, { n: number; mean: number }>).a).toMatchObject({ n: 2, mean: 4 });
    expect(() => weightsFromLikert([{ method: 'a', score: 7 }])).toThrow(/outside the scale \[1, 5\]/);
    expect(() => weightsFromLikert([{ method: 'a', score: 1 }])).toThrow(/lowest possible mean rating/);
  });
});

describe('weights from metrics', () => {
  const rows: MetricRow[] = [
    { method: 'a', metric: 'deletion', value: 0.1, higherIsBetter: false, image: 'i1', classIndex: 3 },
    { method: 'b', metric: 'deletion', value: 0.3, higherIsBetter: false, image: 'i1', classIndex: 3 },
    { method: 'a', metric: 'insertion', value: 0.5, higherIsBetter: true, image: 'i1', classIndex: 3 },
    { method: 'b', metric: 'insertion', value: 0.7, higherIsBetter: true, image: 'i1', classIndex: 3 },
    { method: 'a', metric: 'deletion', value: 0.4, higherIsBetter: false, image: 'i2', classIndex: 5 },
    { method: 'b', metric: 'deletion', value: 0.2, higherIsBetter: false, image: 'i2', classIndex: 5 },
  ];

  it('orients each metric, standardises across methods, averages, then transforms', () => {
    // image i1: deletion favours a (z +1 / -1), insertion favours b (-1 / +1): a tie -> equal weights.
    const i1 = weightsFromMetrics(rows, { image: 'i1' });
    expect(i1.weights.a).toBeCloseTo(0.5, 9);
    expect(i1.provenance.scope).toBe('image i1');
    // image i2: only deletion, b lower (better): z = -1 / +1 -> softmax(-1, 1) = (e^-2/(1+e^-2), ...)
    const i2 = weightsFromMetrics(rows, { image: 'i2' });
    expect(i2.weights.b).toBeCloseTo(1 / (1 + Math.exp(-2)), 9);
    const perClass = weightSetsPer(rows, 'class');
    expect(perClass.map((w) => w.name)).toEqual(['metrics-class-3', 'metrics-class-5']);
    // Whole set: deletion means a 0.25, b 0.25 (tie) and insertion favours b.
    const all = weightsFromMetrics(rows, { transform: 'rank' });
    expect(all.weights.b).toBeGreaterThan(all.weights.a);
    expect(() => weightsFromMetrics(rows, { image: 'nope' })).toThrow(/no metric rows for image nope/);
  });

  it('score transforms', () => {
    expect(scoresToWeights({ a: 1, b: 2, c: 3 }, 'rank')).toEqual({ a: 1 / 6, b: 2 / 6, c: 3 / 6 });
    const lin = scoresToWeights({ a: 1, b: 2, c: 3 }, 'linear'); // shares (0, 1, 2) + 2/3
    expect(lin.a).toBeCloseTo((2 / 3) / (3 + 2), 9);
    expect(scoresToWeights({ a: 4, b: 4 }, 'softmax')).toEqual({ a: 0.5, b: 0.5 });
    expect(scoresToWeights({ solo: 0.3 }, 'softmax')).toEqual({ solo: 1 });
  });

  it('reads CSV tables with the documented columns and names bad cells', () => {
    const parsed = metricRows(parseTable('method,metric,value,higherIsBetter,image\n"lime, v2",deletion,0.2,false,x.jpg\n', 't'));
    expect(parsed[0]).toMatchObject({ method: 'lime, v2', value: 0.2, higherIsBetter: false, image: 'x.jpg' });
    expect(() => metricRows(parseTable('method,value,higherIsBetter\nlime,abc,true\n', 't'))).toThrow(/row 1: "value" must be a number, got "abc"/);
  });
});

describe('manual weights and weight sets', () => {
  it('records provenance, normalises, validates', () => {
    const w = manualWeights({ gradcam: 2, lime: 1, rise: 1 }, { author: 'ana', note: 'CAM is trusted here' });
    expect(w.weights).toEqual({ gradcam: 0.5, lime: 0.25, rise: 0.25 });
    expect(w.provenance).toMatchObject({ author: 'ana', note: 'CAM is trusted here', given: { gradcam: 2 } });
    expect(checkWeightSet(JSON.parse(JSON.stringify(w)))).toEqual(w);
    expect(() => manualWeights({ a: -1 })).toThrow(/weight of "a" must be a finite number >= 0/);
    expect(() => checkWeightSet({ name: 'x', source: 'vibes', weights: { a: 1 }, provenance: {} })).toThrow(/"source" must be one of/);
  });

  it('aligns a set with the members: every member needs a weight, extras are dropped', () => {
    expect(alignWeights(['a', 'b'], { a: 1, b: 3, c: 100 })).toEqual([0.25, 0.75]);
    expect(alignWeights(['a', 'b'], undefined)).toEqual([0.5, 0.5]);
    expect(() => alignWeights(['a', 'd'], { a: 1 })).toThrow(/no weight for d/);
    expect(() => alignWeights(['a', 'b'], { a: 0, b: 0, c: 1 })).toThrow(/weights of the members a, b are all 0/);
  });
});
