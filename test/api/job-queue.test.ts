// The app's background job queue: order, pause/resume, cancel, per-item errors, time left.
import { describe, expect, it } from 'vitest';
import { JobQueue, type JobItem } from '../../src-main/api/job-queue.ts';
import type { Job } from '../../src-main/api/contract.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function items(n: number, ms: number, log: string[], fail: number[] = []): JobItem[] {
  return Array.from({ length: n }, (_, i) => ({
    label: `item ${i}`,
    run: async (signal: AbortSignal) => {
      await sleep(ms);
      if (signal.aborted) throw new Error('aborted');
      if (fail.includes(i)) throw new Error(`item ${i} is broken`);
      log.push(`item ${i}`);
    },
  }));
}

describe('JobQueue', () => {
  it('runs jobs one after another, records per-item errors and goes on', async () => {
    const events: Job[] = [];
    const q = new JobQueue((j) => events.push(j));
    const log: string[] = [];
    const a = q.add('a', items(4, 30, log, [1]));
    const b = q.add('b', items(2, 5, log));
    await q.idle();
    const [jb, ja] = q.list();
    expect([ja.id, jb.id]).toEqual([a.id, b.id]);
    expect(ja).toMatchObject({ state: 'done', done: 4, failed: 1, etaSeconds: 0 });
    expect(ja.errors).toEqual([{ item: 'item 1', message: 'item 1 is broken' }]);
    expect(jb).toMatchObject({ state: 'done', done: 2, failed: 0 });
    expect(log).toEqual(['item 0', 'item 2', 'item 3', 'item 0', 'item 1']);
    // b waited for a: it started after a finished.
    expect(jb.startedAt!).toBeGreaterThanOrEqual(ja.finishedAt!);
    expect(events.some((e) => e.id === a.id && e.state === 'running' && e.etaSeconds !== null && e.etaSeconds > 0)).toBe(true);
  });

  it('pauses after the current item, resumes where it stopped, and cancels keeping finished items', async () => {
    const q = new JobQueue(() => undefined);
    const log: string[] = [];
    const job = q.add('p', items(10, 20, log));
    await sleep(30);
    q.pause(job.id);
    await sleep(80);
    const pausedAt = log.length;
    expect(pausedAt).toBeGreaterThan(0);
    expect(pausedAt).toBeLessThan(10);
    await sleep(60);
    expect(log.length).toBe(pausedAt); // nothing ran while paused
    expect(q.list()[0].state).toBe('paused');
    q.resume(job.id);
    await sleep(50);
    expect(log.length).toBeGreaterThan(pausedAt);
    const cancelled = q.cancel(job.id);
    expect(cancelled.state).toBe('cancelled');
    await q.idle();
    const done = log.length;
    await sleep(60);
    expect(log.length).toBe(done);
    expect(done).toBeLessThan(10);
    expect(() => q.resume(job.id)).toThrow(/cancelled, not paused/);
    expect(() => q.pause('job-nope')).toThrow(/no job with id "job-nope"/);
  });
});
