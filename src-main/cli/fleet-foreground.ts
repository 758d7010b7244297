// A fleet job run from the CLI (saliency run --queue, saliency jobs resume): progress with the fleet's
// workers, rate and time left; Ctrl-C pauses (waiting tasks leave the queue), a second Ctrl-C quits at once
// (the job stays resumable: `saliency jobs resume` collects what the fleet finishes meanwhile).
import type { Store } from '../engine/store/store.ts';
import { FleetRunner } from '../engine/fleet/coordinator.ts';
import { exposureWarning, parseQueueUrl } from '../engine/fleet/redis-url.ts';
import { progressBar } from './command.ts';
import { reportJob } from './commands/jobs.ts';

export async function runFleetInForeground(store: Store, jobId: number, opts: { queue: string; retryErrors?: boolean; sharedPaths?: boolean }): Promise<number> {
  const warning = exposureWarning(parseQueueUrl(opts.queue));
  if (warning) console.error(warning);
  let bar: ReturnType<typeof progressBar> | undefined;
  let note = '';
  let lastWorkers: number | null | undefined;
  const t0 = Date.now();
  let items = 0;
  const runner = new FleetRunner(store, jobId, {
    ...opts,
    onEvent: (e) => {
      if (e.type === 'started') { bar = progressBar(e.pending, `job ${jobId} `); console.log(`job ${jobId}: ${e.pending} items to do on the fleet (${e.workers} worker(s) connected)`); }
      else if (e.type === 'enqueued') console.log(`job ${jobId}: ${e.tasks} tasks in queue ${e.queue}${e.inRedis ? ` (${e.inRedis} were there already)` : ''}`);
      else if (e.type === 'progress') { items++; bar?.tick(note); }
      else if (e.type === 'item-error') console.error(`\nitem ${e.itemId} (image ${e.imageId}, ${e.method}): ${e.error}`);
      else if (e.type === 'requeued') console.error(`\ntask ${e.task} added again: ${e.why}`);
      else if (e.type === 'fleet') {
        note = `${e.workers ?? '?'} workers ${e.itemsPerSecond.toFixed(1)}/s`;
        if (e.workers !== lastWorkers) {
          lastWorkers = e.workers;
          console.log(`fleet: ${e.workers ?? 'unknown number of'} worker(s) on the queue, ${e.waiting} tasks waiting, ${e.active} active${e.etaSeconds !== null ? `, about ${e.etaSeconds.toFixed(0)} s left` : ''}`);
        }
      }
    },
  });
  let interrupts = 0;
  const onSigint = () => {
    // a second Ctrl-C quits at once, as for local jobs: the job stays resumable, its results wait in Redis
    if (++interrupts > 1) process.exit(130);
    console.error(`\npausing job ${jobId}: waiting tasks leave the queue, those being done are collected (Ctrl-C again to quit now)`);
    runner.pause();
  };
  process.on('SIGINT', onSigint);
  try {
    const job = await runner.run();
    bar?.done();
    const secs = (Date.now() - t0) / 1000;
    console.log(`fleet: ${items} items stored in ${secs.toFixed(1)} s (${(items / Math.max(secs, 1e-3)).toFixed(2)} items/s)`);
    reportJob(job);
    if (job.status !== 'done') return 1;
    return job.counts.error > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
