// For a model that is additive over pixels, f(x) = sum_p g(x_p) (the GAP evidence model: per-pixel colour
// detectors, then averages), the Owen value of every region of the partition is exactly that region's own
// effect f(region shown, rest baseline) - f(baseline), whatever the budget. Checked on the quadrants (nodes at
// level 2 of the 64x64 tree) against direct forward passes, for a shallow and a deeper budget.
import { beforeAll, describe, expect, it } from 'vitest';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { getExplainer } from '../../src-main/engine/explain/registry.ts';
import type { PreparedImage } from '../../src-main/engine/explain/types.ts';
import { makeBaseline } from '../../src-main/engine/explain/perturb/masking.ts';
import { PARTITION_SHAP_AUTO_MINIMUM, PARTITION_SHAP_AUTO_PRECISION, type PartitionCheck } from '../../src-main/engine/explain/perturb/partition-shap.ts';
import { gapEvidenceModelBytes, twoSquaresImage, SIZE } from './gap-evidence-model.ts';
import { identityTransform } from '../helpers/prepared.ts';

let model: Classifier;
const input = twoSquaresImage();
const image: PreparedImage = {
  id: 'two-squares', input,
  transform: identityTransform(SIZE),
};

beforeAll(async () => {
  model = await Classifier.load({ bytes: gapEvidenceModelBytes(), name: 'gap-evidence' }, { batchSize: 16 });
});

describe('Partition SHAP on an additive model', () => {
  it('each quadrant gets exactly its own effect (efficiency per node)', async () => {
    const baseline = makeBaseline(input, 'blur');
    const half = SIZE / 2;
    const quadrants = [[0, 0], [half, 0], [0, half], [half, half]] as const;
    const plane = SIZE * SIZE;
    const shown = quadrants.map(([qx, qy]) => {
      const data = baseline.data.slice();
      for (let c = 0; c < 3; c++) for (let y = qy; y < qy + half; y++) for (let x = qx; x < qx + half; x++) data[c * plane + y * SIZE + x] = input.data[c * plane + y * SIZE + x];
      return { width: SIZE, height: SIZE, data };
    });
    const out = await model.predict([baseline, ...shown]);
    const e = getExplainer('partitionshap');
    for (const classIndex of [0, 1]) {
      const f0 = out.logits[classIndex];
      for (const maxEvals of [12, 200]) {
        const r = await e.explain(image, { classIndex, score: 'logit' }, e.settings({ maxEvals, roundSize: 2 }), 1, { model });
        quadrants.forEach(([qx, qy], q) => {
          let sum = 0;
          for (let y = qy; y < qy + half; y++) for (let x = qx; x < qx + half; x++) sum += r.map.data[y * SIZE + x];
          const own = out.logits[(q + 1) * out.numClasses + classIndex] - f0;
          expect(sum, `class ${classIndex}, maxEvals ${maxEvals}, quadrant ${q}`).toBeCloseTo(own, 3);
        });
        expect(Math.abs(own4(out.logits, classIndex, out.numClasses))).toBeGreaterThan(0.5); // the check is not trivially 0 = 0
      }
    }
  });
  it('reports the remaining unexplained mass, which falls as the budget grows, and rank stability between partial maps', async () => {
    const e = getExplainer('partitionshap');
    const masses: number[] = [];
    for (const maxEvals of [20, 200, 1000]) {
      const notes: string[] = [];
      const r = await e.explain(image, { classIndex: 0, score: 'logit' }, e.settings({ maxEvals, progressEvery: 50 }), 1, { model, onProgress: (p) => { if (p.note) notes.push(p.note); } });
      const conv = r.extras.convergence as PartitionCheck[];
      expect(conv.at(-1)!.evaluations).toBe(r.evaluations);
      expect(r.extras.unexplainedMass).toBe(conv.at(-1)!.unexplainedMass);
      masses.push(conv.at(-1)!.unexplainedMass);
      if (maxEvals === 1000) {
        expect(conv.length).toBeGreaterThan(5);
        expect(notes.some((n) => /unexplained mass \d\.\d{3}, Spearman -?\d\.\d{3}, top-10% IoU/.test(n))).toBe(true);
        expect(conv.at(-1)!.spearman!).toBeGreaterThan(conv[1].spearman!);
      }
    }
    console.log(`Partition SHAP unexplained mass at 20 / 200 / 1000 evaluations: ${masses.map((m) => m.toFixed(3)).join(' / ')}`);
    expect(masses[1]).toBeLessThan(masses[0]);
    expect(masses[2]).toBeLessThan(masses[1]);
  });
  it('maxEvals=auto stops at the first check whose unexplained mass reaches the precision, with the cap as the bound', async () => {
    const e = getExplainer('partitionshap');
    const run = (s: Record<string, unknown>) => e.explain(image, { classIndex: 0, score: 'logit' }, e.settings({ progressEvery: 50, ...s }), 1, { model });
    const full = await run({ maxEvals: 1000 });
    const conv = full.extras.convergence as PartitionCheck[];
    // The precision that the fixed run first reaches at its third check (>= the auto minimum of 100).
    const at = conv.findIndex((c, i) => i >= 2 && c.evaluations >= PARTITION_SHAP_AUTO_MINIMUM);
    const precision = conv[at].unexplainedMass;
    const firstBelow = conv.findIndex((c) => c.evaluations >= PARTITION_SHAP_AUTO_MINIMUM && c.unexplainedMass <= precision);
    const r = await run({ maxEvals: 1000, auto: true, precision });
    const auto = r.extras.auto as { evaluations: number; cap: number; precision: number; finalUnexplainedMass: number; stoppedEarly: boolean; rule: string };
    expect(auto).toMatchObject({ cap: 1000, precision, stoppedEarly: true, evaluations: conv[firstBelow].evaluations });
    expect(r.evaluations).toBe(conv[firstBelow].evaluations);
    expect(auto.finalUnexplainedMass).toBeLessThanOrEqual(precision);
    expect(auto.rule).toMatch(/unexplained mass .* <= .* at most 1000/);
    // The stopped map is the fixed run's partial map at that check (same seed, same order of expansion).
    let atStop: Float32Array | undefined;
    await e.explain(image, { classIndex: 0, score: 'logit' }, e.settings({ maxEvals: 1000, progressEvery: 50 }), 1, {
      model, onProgress: (p) => { if (p.partial && p.note?.startsWith(`${auto.evaluations}/`)) atStop = p.partial.data; },
    });
    expect(Array.from(r.map.data)).toEqual(Array.from(atStop!));
    // A precision never reached runs to the cap; the default reads maxEvals=auto alone.
    const never = await run({ maxEvals: 300, auto: true, precision: 1e-9 });
    expect(never.extras.auto).toMatchObject({ stoppedEarly: false, evaluations: 300, cap: 300 });
    expect(e.settings({ maxEvals: 'auto' })).toMatchObject({ auto: true, precision: PARTITION_SHAP_AUTO_PRECISION, maxEvals: 500 });
    expect(() => e.settings({ precision: 0.1 })).toThrow(/partitionshap: precision applies only with maxEvals=auto/);
  });
});


/** The largest quadrant effect, so the test fails if every quadrant's effect were zero. */
function own4(logits: Float32Array, c: number, k: number): number {
  let best = 0;
  for (let q = 1; q <= 4; q++) best = Math.max(best, Math.abs(logits[q * k + c] - logits[c]));
  return best;
}
