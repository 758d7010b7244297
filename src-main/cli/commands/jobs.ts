// saliency jobs [list|resume|pause|cancel|errors]: batch jobs in the database.
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { openStore } from '../../engine/store/store.ts';
import type { JobRecord } from '../../engine/store/jobs-repo.ts';
import { processAlive, requestStop, resumableJobs } from '../../engine/jobs/runner.ts';
import { runInForeground } from './run.ts';
import { runFleetInForeground } from '../fleet-foreground.ts';
import { SaliencyError } from '../../engine/types.ts';

const USAGE = `Usage:
  saliency jobs [list] [--db FILE]
  saliency jobs resume [<id> ...] [--workers N] [--retry-errors] [--db FILE]   (no id: every unfinished job;
                                  --retry-errors also redoes the failed items of a done job;
                                  a fleet job resumes on its queue: --queue URL gives it again, with
                                  credentials; --local runs it here instead)
  saliency jobs pause <id> [--db FILE]      (a local job stops at its next model batch, a fleet job after its tasks being done)
  saliency jobs cancel <id> [--db FILE]
  saliency jobs errors <id> [--db FILE]

A job killed or crashed shows as "running (process gone)"; resume finishes exactly its missing items.
A running job ends its line with the processes running it: "pid 1234" or, when a second run joined it,
"pid 1234+5678" (the job's own pid first, then the others claiming its images). Resuming a job that another
process is running joins it (each claims one image at a time).`;

export function reportJob(j: JobRecord): void {
  console.log(`job ${j.id} ${j.status}: ${j.counts.done}/${j.counts.total} done, ${j.counts.error} errors, ${j.counts.pending} pending${j.error ? ` (${j.error})` : ''}`);
}

/** Methods, ensembles and metrics of a job, in one word list. */
function describeParams(j: JobRecord): string {
  const items = [...j.params.methods, ...(j.params.ensembles ?? []).map((e) => `ensemble:${e.combiner}`)].join(',');
  return j.params.metrics?.length ? `${items} (metrics ${j.params.metrics.join(',')})` : items;
}

const jobIds = (rest: string[]) => rest.map((r) => {
  if (!/^\d+$/.test(r)) throw new SaliencyError(`"${r}" is not a job id`, 'BAD_USAGE');
  return Number(r);
});

export const jobsCommand: Command = {
  name: 'jobs',
  summary: 'list, resume, pause or cancel batch jobs',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv, allowPositionals: true,
      options: { db: { type: 'string' }, workers: { type: 'string' }, 'retry-errors': { type: 'boolean' }, queue: { type: 'string' }, local: { type: 'boolean' } },
    });
    const [sub = 'list', ...rest] = positionals;
    const store = openStore(values.db);
    try {
      if (sub === 'list') {
        const crashed = new Set(resumableJobs(store).filter((j) => j.status === 'running').map((j) => j.id));
        const jobs = store.jobs.list();
        if (jobs.length === 0) console.log('no jobs');
        for (const j of jobs) {
          const status = crashed.has(j.id) ? 'running (process gone)' : j.status;
          const pids = store.jobs.runnerPids(j, processAlive);
          console.log(`${String(j.id).padStart(4)}  ${status.padEnd(22)} ${j.counts.done}/${j.counts.total} done, ${j.counts.error} errors  ${describeParams(j)}  ${j.modelPath}${pids.length ? `  pid ${pids.join('+')}` : ''}`);
        }
        return 0;
      }
      if (sub === 'resume') {
        const ids = rest.length ? jobIds(rest) : resumableJobs(store).map((j) => j.id);
        if (ids.length === 0) { console.log('no unfinished jobs'); return 0; }
        const workers = values.workers !== undefined ? Number(values.workers) : undefined;
        let code = 0;
        for (const id of ids) {
          const job = store.jobs.find(id);
          const queue = values.local ? undefined : values.queue ?? job.params.queue;
          if (values.local && job.params.queue && job.status === 'running' && job.pid !== null && processAlive(job.pid)) {
            throw new SaliencyError(`job ${id} runs on the fleet queue ${job.params.queue} (process ${job.pid}): --local cannot join it; pause it first (saliency jobs pause ${id})`, 'JOB_BUSY');
          }
          if (values.local) store.jobs.setQueue(id, null);
          code = Math.max(code, queue
            ? await runFleetInForeground(store, id, { queue, retryErrors: values['retry-errors'] })
            : await runInForeground(store, id, { workers, retryErrors: values['retry-errors'] }));
        }
        return code;
      }
      if (sub === 'pause' || sub === 'cancel') {
        if (rest.length !== 1) throw new SaliencyError(`jobs ${sub} needs one job id`, 'BAD_USAGE');
        reportJob(requestStop(store, jobIds(rest)[0], sub === 'pause' ? 'paused' : 'cancelled'));
        return 0;
      }
      if (sub === 'errors') {
        if (rest.length !== 1) throw new SaliencyError('jobs errors needs one job id', 'BAD_USAGE');
        const id = jobIds(rest)[0];
        store.jobs.find(id);
        for (const e of store.jobs.errors(id)) {
          console.log(`item ${e.itemId}  ${store.images.get(e.imageId)?.relPath ?? `image ${e.imageId}`}  ${e.method}: ${e.error}`);
        }
        return 0;
      }
      throw new SaliencyError(`unknown jobs subcommand "${sub}"\n\n${USAGE}`, 'BAD_USAGE');
    } finally {
      store.close();
    }
  },
};
