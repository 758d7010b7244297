// The shared scheduler on a real model (SqueezeNet): same scores as Classifier.predict, dedup, pooling
// across concurrent callers, LRU eviction, cancellation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_DATA, MODELS, model, sample } from '../helpers/data.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../../src-main/engine/image/prepare.ts';
import { InferenceScheduler, schedulerFor, targetScore } from '../../src-main/engine/infer/scheduler.ts';
import type { PlanarImage } from '../../src-main/engine/types.ts';
import { SaliencyError } from '../../src-main/engine/types.ts';
import { Random } from '../../src-main/engine/util/random.ts';

/** n different images: the photo with a few random pixels blacked out. */
function variants(base: PlanarImage, n: number, seed: number): PlanarImage[] {
  const rng = new Random(seed);
  return Array.from({ length: n }, () => {
    const data = base.data.slice();
    for (let k = 0; k < 200; k++) data[rng.int(data.length)] = 0;
    return { width: base.width, height: base.height, data };
  });
}

describe.skipIf(!HAS_DATA)('InferenceScheduler (SqueezeNet)', () => {
  let m: Classifier;
  let photo: PlanarImage;
  beforeAll(async () => {
    m = await Classifier.load(model(MODELS.squeezenet), { batchSize: 8 });
    photo = (await prepareImageFile(sample('n01440764_tench.JPEG'), m)).prepared.input;
  });
  afterAll(async () => m?.dispose());

  it('gives the same scores as model.predict, bit for bit, in input order', async () => {
    const imgs = variants(photo, 11, 1);
    const s = new InferenceScheduler(m);
    const rows = await s.evaluate(imgs);
    const ref = await m.predict(imgs);
    expect(rows.n).toBe(11);
    expect(Buffer.from(rows.logits.buffer).equals(Buffer.from(ref.logits.buffer))).toBe(true);
    expect(Buffer.from(rows.probabilities.buffer).equals(Buffer.from(ref.probabilities.buffer))).toBe(true);
    const t = { classIndex: 0, score: 'logit' as const };
    expect(targetScore(rows, 3, t)).toBe(ref.logits[3 * 1000]);
    expect(targetScore(rows, 3, { ...t, score: 'probability' })).toBe(ref.probabilities[3 * 1000]);
  });

  it('never evaluates the same pixels twice (within a call, across calls, across concurrent callers)', async () => {
    const imgs = variants(photo, 4, 2);
    const s = new InferenceScheduler(m);
    const copies = imgs.map((im) => ({ ...im, data: im.data.slice() })); // equal pixels, different objects
    const first = await s.evaluate([...imgs, ...copies, imgs[0]]);
    expect(s.stats.requested).toBe(9);
    expect(s.stats.evaluated).toBe(4);
    expect(s.stats.cacheHits).toBe(5);
    expect(first.fresh).toBe(4);
    expect(Array.from(first.logits.subarray(0, 1000))).toEqual(Array.from(first.logits.subarray(8000, 9000)));
    const again = await s.evaluate(copies);
    expect(s.stats.evaluated).toBe(4);
    expect(again.fresh).toBe(0);
    expect(Buffer.from(again.logits.buffer).equals(Buffer.from(first.logits.slice(4000, 8000).buffer))).toBe(true);
    // Two concurrent callers asking for the same new images: evaluated once.
    const more = variants(photo, 3, 3);
    const [a, b] = await Promise.all([s.evaluate(more), s.evaluate(more)]);
    expect(s.stats.evaluated).toBe(7);
    expect(a.fresh! + b.fresh!).toBe(3);
    expect(Array.from(a.logits)).toEqual(Array.from(b.logits));
  });

  it('pools concurrent callers into full batches', async () => {
    const groups = [0, 1, 2, 3].map((g) => variants(photo, 3, 10 + g));
    const alone = new InferenceScheduler(m);
    for (const g of groups) await alone.evaluate(g);
    expect(alone.stats.batches).toBe(4); // 3 images each, one batch per caller
    const pooled = new InferenceScheduler(m);
    const results = await Promise.all(groups.map((g) => pooled.evaluate(g)));
    expect(pooled.stats.evaluated).toBe(12);
    expect(pooled.stats.batches).toBe(2); // 12 images in batches of 8
    // Pooling does not change anyone's scores.
    const ref = await m.predict(groups[2]);
    expect(Buffer.from(results[2].logits.buffer).equals(Buffer.from(ref.logits.buffer))).toBe(true);
  });

  it('keeps only cacheEntries score rows (LRU)', async () => {
    const imgs = variants(photo, 3, 20);
    const s = new InferenceScheduler(m, { cacheEntries: 2 });
    await s.evaluate(imgs);
    await s.evaluate([imgs[2]]); // still cached
    expect(s.stats.evaluated).toBe(3);
    await s.evaluate([imgs[0]]); // evicted: evaluated again
    expect(s.stats.evaluated).toBe(4);
  });

  it('cancels: rejects with CANCELLED, reports progress until then, and drops work nobody waits for', async () => {
    const imgs = variants(photo, 40, 30);
    const s = new InferenceScheduler(m);
    const ac = new AbortController();
    const progress: number[] = [];
    const p = s.evaluate(imgs, {
      signal: ac.signal,
      onProgress: (done, total) => {
        progress.push(done);
        expect(total).toBe(40);
        if (done === 8) ac.abort();
      },
    });
    await expect(p).rejects.toMatchObject({ name: 'SaliencyError', code: 'CANCELLED' });
    await new Promise((r) => setTimeout(r, 300)); // let a running batch finish
    expect(progress.slice(0, 8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(s.stats.evaluated).toBeLessThan(40);
    expect(s.stats.evaluated).toBeGreaterThanOrEqual(8);
    const already = new AbortController();
    already.abort();
    await expect(s.evaluate(imgs, { signal: already.signal })).rejects.toThrow(/cancelled/);
  });

  it('refuses images of the wrong size with a clear error', async () => {
    const s = schedulerFor(m);
    expect(schedulerFor(m)).toBe(s);
    await expect(s.evaluate([{ width: 10, height: 10, data: new Float32Array(300) }])).rejects.toThrow(SaliencyError);
    await expect(s.evaluate([{ width: 10, height: 10, data: new Float32Array(300) }])).rejects.toThrow(/expects 224x224/);
  });
});
