// A batch job of the app killed with SIGKILL half-way is listed as unfinished after a restart, resumes from
// where it stopped, and ends with exactly one map per image and method.
// Every wait is on the server's progress (its output, its job events), never on a clock: on a loaded machine the
// run takes longer but cannot time out while the job keeps moving (a wait fails only after 10 minutes without any
// event, and the test itself has no time limit).
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HAS_DATA, MODELS, model, sample, manifest } from '../helpers/data.ts';
import { call, startServe, watchEvents } from './hardening-live.ts';

type Job = { id: string; label: string; state: string; done: number; total: number };
type JobEvent = { type: 'job'; job: Job };

describe.skipIf(!HAS_DATA)('app batch jobs survive a kill', () => {
  it('lists the killed job as unfinished, resumes it, and stores each map exactly once', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'saliency-resume-'));
    const lib = path.join(root, 'lib');
    mkdirSync(lib);
    const files = (await manifest()).slice(0, 6).map((r) => r.filename);
    for (const f of files) copyFileSync(sample(f), path.join(lib, f));
    const dataDir = path.join(root, 'data');
    mkdirSync(dataDir);
    const args = ['--model', model(MODELS.mobilenet), '--library', lib, '--explain', 'none', '--data', dataDir, '--quiet'];

    const first = await startServe(args);
    const firstEvents = await watchEvents(first);
    const [library] = await call<{ id: string }[]>(first, 'library.list', {});
    const job = await call<Job>(first, 'jobs.start', { libraryId: library.id, methods: ['gradcam', 'occlusion'] });
    expect(job.total).toBe(12);
    // Kill it once some, but not all, of the maps are stored.
    const seen = (await firstEvents.waitFor<JobEvent>((e) => e.type === 'job' && e.job.id === job.id && (e.job.done >= 2 || e.job.state !== 'running' && e.job.state !== 'queued'), 'two maps done')).job;
    firstEvents.close();
    expect(seen.done).toBeGreaterThanOrEqual(2);
    expect(seen.done).toBeLessThan(12);
    first.proc.kill('SIGKILL');
    await new Promise((r) => first.proc.once('exit', r));

    const second = await startServe(args);
    try {
      const left = (await call<Job[]>(second, 'jobs.list', {})).find((j) => j.id === job.id)!;
      expect(left.state).toBe('paused');
      expect(left.label).toContain('left unfinished');
      expect(left.done).toBeGreaterThanOrEqual(2);
      const events = await watchEvents(second);
      await call(second, 'jobs.resume', { jobId: job.id });
      const end = (await events.waitFor<JobEvent>((e) => e.type === 'job' && e.job.id === job.id && ['done', 'failed', 'cancelled', 'paused'].includes(e.job.state), 'the resumed job to end')).job;
      events.close();
      expect(end).toMatchObject({ state: 'done', done: 12, total: 12 });
      const page = await call<{ items: { id: string; methods: string[] }[] }>(second, 'images.list', { libraryId: library.id, limit: 50 });
      let maps = 0;
      for (const img of page.items) {
        const d = await call<{ explanations: { method: string }[] }>(second, 'image.get', { imageId: img.id });
        expect(d.explanations.map((e) => e.method).sort()).toEqual(['gradcam', 'occlusion']);
        maps += d.explanations.length;
      }
      expect(maps).toBe(12);
    } finally {
      await second.stop();
    }
  }, 0);
});
