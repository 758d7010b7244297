// whenAborted: one 'abort' listener per signal however many calls wait on it, each callback once, none after
// it unregisters; and through the inference scheduler: 40 calls in flight on one signal, all cancelled by it.
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { whenAborted } from '../../src-main/engine/util/abort.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { schedulerFor } from '../../src-main/engine/infer/scheduler.ts';
import { evidenceModelBytes, texturedImage } from '../explain-core/evidence-model.ts';

describe('whenAborted', () => {
  it('keeps one listener for many callbacks, calls each registered one once, and none unregistered', () => {
    const c = new AbortController();
    const calls = new Array(50).fill(0);
    const off = calls.map((_, i) => whenAborted(c.signal, () => { calls[i]++; }));
    expect(getEventListeners(c.signal, 'abort')).toHaveLength(1);
    for (let i = 0; i < 50; i += 2) off[i]();
    c.abort();
    c.abort();
    expect(calls).toEqual(calls.map((_, i) => (i % 2 ? 1 : 0)));
    let late = 0;
    whenAborted(c.signal, () => { late++; })(); // already aborted: never called, unregistering is harmless
    expect(late).toBe(0);
    expect(whenAborted(undefined, () => {})).toBeTypeOf('function');
  });

  it('cancels 40 scheduler calls in flight on one signal with one listener on it', async () => {
    const model = await Classifier.load({ bytes: evidenceModelBytes(32, { x0: 4, y0: 4, x1: 12, y1: 12 }), name: 'evidence' });
    try {
      const c = new AbortController();
      const s = schedulerFor(model);
      const calls = Array.from({ length: 40 }, (_, i) => s.evaluate([texturedImage(32, i + 1)], { signal: c.signal }));
      expect(getEventListeners(c.signal, 'abort')).toHaveLength(1);
      c.abort();
      const settled = await Promise.allSettled(calls);
      expect(settled.filter((r) => r.status === 'rejected').length).toBeGreaterThan(0);
      for (const r of settled) if (r.status === 'rejected') expect(String(r.reason)).toMatch(/cancel/i);
      await s.whenIdle();
    } finally {
      await model.dispose();
    }
  });
});
