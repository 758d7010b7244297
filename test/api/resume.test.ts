// A batch job of the app killed with SIGKILL half-way is listed as unfinished after a restart, resumes from
// where it stopped, and ends with exactly one map per image and method.
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HAS_DATA, MODELS, model, sample, manifest } from '../helpers/data.ts';
import { callApi, serve } from '../e2e/helpers.ts';

type Job = { id: string; label: string; state: string; done: number; total: number };

describe.skipIf(!HAS_DATA)('app batch jobs survive a kill', () => {
  it('lists the killed job as unfinished, resumes it, and stores each map exactly once', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'saliency-resume-'));
    const lib = path.join(root, 'lib');
    mkdirSync(lib);
    const files = (await manifest()).slice(0, 6).map((r) => r.filename);
    for (const f of files) copyFileSync(sample(f), path.join(lib, f));
    const dataDir = path.join(root, 'data');
    mkdirSync(dataDir);
    const args = ['--model', model(MODELS.mobilenet), '--library', lib, '--explain', 'none'];

    const first = await serve(args, dataDir);
    const [library] = await callApi<{ id: string }[]>(first, 'library.list', {});
    const job = await callApi<Job>(first, 'jobs.start', { libraryId: library.id, methods: ['gradcam', 'occlusion'] });
    expect(job.total).toBe(12);
    // Kill it once some, but not all, of the maps are stored.
    let seen: Job | undefined;
    for (let i = 0; i < 600; i++) {
      seen = (await callApi<Job[]>(first, 'jobs.list', {})).find((j) => j.id === job.id);
      if (seen && seen.done >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen!.done).toBeGreaterThanOrEqual(2);
    expect(seen!.done).toBeLessThan(12);
    first.proc.kill('SIGKILL');
    await new Promise((r) => first.proc.once('exit', r));

    const second = await serve(args, dataDir);
    try {
      const left = (await callApi<Job[]>(second, 'jobs.list', {})).find((j) => j.id === job.id)!;
      expect(left.state).toBe('paused');
      expect(left.label).toContain('left unfinished');
      expect(left.done).toBeGreaterThanOrEqual(2);
      await callApi(second, 'jobs.resume', { jobId: job.id });
      let end: Job | undefined;
      for (let i = 0; i < 1200 && end?.state !== 'done'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        end = (await callApi<Job[]>(second, 'jobs.list', {})).find((j) => j.id === job.id);
      }
      expect(end).toMatchObject({ state: 'done', done: 12, total: 12 });
      const page = await callApi<{ items: { id: string; methods: string[] }[] }>(second, 'images.list', { libraryId: library.id, limit: 50 });
      let maps = 0;
      for (const img of page.items) {
        const d = await callApi<{ explanations: { method: string }[] }>(second, 'image.get', { imageId: img.id });
        expect(d.explanations.map((e) => e.method).sort()).toEqual(['gradcam', 'occlusion']);
        maps += d.explanations.length;
      }
      expect(maps).toBe(12);
    } finally {
      await second.stop();
    }
  });
});
