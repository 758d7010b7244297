// Early partial maps (issue 15): RISE reports its first partial map after one model batch of masks, LIME and
// KernelSHAP their first partial fit after 50 samples, then at doubling counts up to every progressEvery; the
// final map is bit-identical whatever the schedule (partial maps only read the running sums / the scored prefix).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { getExplainer } from '../../src-main/engine/explain/registry.ts';
import { schedulerFor } from '../../src-main/engine/infer/scheduler.ts';
import { defaultChunk } from '../../src-main/engine/explain/perturb/chunked-eval.ts';
import { SEGMENT_FIRST_PARTIAL, nextCheckpoint } from '../../src-main/engine/explain/perturb/checkpoints.ts';
import type { Explanation, PreparedImage } from '../../src-main/engine/explain/types.ts';
import type { PlanarImage, Target } from '../../src-main/engine/types.ts';
import { evidenceModelBytes, texturedImage, type Square } from '../explain-core/evidence-model.ts';
import { identityTransform } from '../helpers/prepared.ts';

const schedule = (first: number, every: number, upTo: number) => {
  const out: number[] = [];
  for (let c = nextCheckpoint(0, first, every); c <= upTo; c = nextCheckpoint(c, first, every)) out.push(c);
  return out;
};
const sameBits = (a: Explanation, b: Explanation) => Buffer.from(a.map.data.buffer).equals(Buffer.from(b.map.data.buffer));

describe('partial-map checkpoints', () => {
  it('start at the first chunk and double until the gap reaches progressEvery', () => {
    expect(schedule(32, 500, 2000)).toEqual([32, 64, 128, 256, 500, 1000, 1500, 2000]);
    expect(schedule(50, 100, 500)).toEqual([50, 100, 200, 300, 400, 500]);
    expect(schedule(32, 16, 80)).toEqual([16, 32, 48, 64, 80]); // first >= every: every progressEvery, as before
    expect(nextCheckpoint(33, 32, 500)).toBe(64);
    expect(nextCheckpoint(499, 32, 500)).toBe(500);
  });
});

describe('early partial maps, unchanged final maps', () => {
  const SIZE = 64;
  const SQ: Square = { x0: 40, y0: 8, x1: 56, y1: 24 };
  let m: Classifier;
  const input: PlanarImage = texturedImage(SIZE, 1);
  const image: PreparedImage = { id: 'checkpoints', input, transform: identityTransform(SIZE) };
  const target: Target = { classIndex: 0, score: 'logit' };
  beforeAll(async () => { m = await Classifier.load({ bytes: evidenceModelBytes(SIZE, SQ), name: 'evidence' }); });
  afterAll(async () => m?.dispose());

  async function run(method: string, settings: Record<string, unknown>) {
    schedulerFor(m).clearCache(); // the model really runs again: equal maps mean the schedule does not matter
    const ex = getExplainer(method);
    const total = (settings.masks ?? settings.samples) as number;
    const partials: number[] = []; // evaluations done at each partial map
    const e: Explanation = await ex.explain(image, target, ex.settings(settings), 5, {
      model: m, onProgress: (p) => { if (p.partial && p.fraction < 1) partials.push(Math.round(p.fraction * total)); },
    });
    return { e, partials };
  }

  it('RISE: first partial map after one model batch (its own first chunk), then doubling; the final map is bit-identical', async () => {
    const batch = schedulerFor(m).batchSize;
    const a = await run('rise', { masks: 1200, cells: 4 });
    console.log(`RISE partial maps at masks ${a.partials.join(', ')} of 1200 (batch ${batch}, chunk ${defaultChunk(m)})`);
    expect(a.partials[0]).toBe(batch);
    expect(a.partials[0]).toBeLessThan(defaultChunk(m));
    expect(a.partials).toEqual(schedule(batch, 500, 1199));
    const every = await run('rise', { masks: 1200, cells: 4, progressEvery: 1 });
    expect(every.partials.length).toBe(1199);
    expect(sameBits(every.e, a.e)).toBe(true);
    const never = await run('rise', { masks: 1200, cells: 4, progressEvery: 1200 });
    expect(sameBits(never.e, a.e)).toBe(true);
  });

  for (const method of ['lime', 'kernelshap']) {
    it(`${method}: first partial fit after ${SEGMENT_FIRST_PARTIAL} samples, then doubling; the final map is bit-identical`, async () => {
      const s = { samples: 700, segments: 16, segmentation: 'grid' };
      const a = await run(method, { ...s, progressEvery: 300 });
      expect(a.partials).toEqual([50, 100, 200, 300, 600]);
      const b = await run(method, { ...s, progressEvery: 7 }); // other chunk boundaries, a refit every 7 rows
      expect(b.partials[0]).toBe(7);
      expect(sameBits(b.e, a.e)).toBe(true);
      expect(a.e.evaluations).toBe(700);
    });
  }

  it('masks=auto still decides to stop only at multiples of progressEvery', async () => {
    const ex = getExplainer('rise');
    const e = await ex.explain(image, target, ex.settings({ masks: 4000, auto: true, precision: 0.9, cells: 4, progressEvery: 300 } as never), 1, { model: m });
    const conv = e.extras.convergence as { masks: number; relativeSE: number }[];
    // The stop is decided at the first multiple of 300 (>= the 300-mask minimum) within the precision; the chunk
    // already in flight is consumed after it. Earlier (non-multiple) checkpoints only report.
    const decided = conv.find((c) => c.masks % 300 === 0 && c.relativeSE <= 0.9)!;
    expect(decided).toBeDefined();
    expect(e.evaluations - decided.masks).toBeLessThanOrEqual(2 * defaultChunk(m));
    expect(conv.some((c) => c.masks % 300 !== 0 && c.masks < decided.masks)).toBe(true);
    expect((e.extras.auto as { stoppedEarly: boolean }).stoppedEarly).toBe(true);
  });
});
