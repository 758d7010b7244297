// saliency run: a batch of explanations (library images x methods) into the database, resumable.
import { parseArgs } from 'node:util';
import { existsSync, statSync } from 'node:fs';
import type { Command } from '../command.ts';
import { progressBar } from '../command.ts';
import { openStore } from '../../engine/store/store.ts';
import { importFolder, scanLibrary } from '../../engine/library/scan.ts';
import { createExplainJob } from '../../engine/jobs/create-job.ts';
import { JobRunner, processAlive } from '../../engine/jobs/runner.ts';
import { reportJob } from './jobs.ts';
import { runFleetInForeground } from '../fleet-foreground.ts';
import { checkQueue } from '../../engine/fleet/queue.ts';
import { SaliencyError, type ScoreKind } from '../../engine/types.ts';
import type { JobRecord } from '../../engine/store/jobs-repo.ts';
import { parseSettings } from './explain.ts';
import { intOption, resolveModel } from '../common.ts';
import { ensembleSpecs, loadWeights } from '../../engine/ensemble/weights/load.ts';

const USAGE = `Usage: saliency run --library <id|folder> --model <file.onnx> --method gradcam[,ablationcam:probability,...]
                    [--metric deletion,insertion,...] [--ensemble mean,weighted,...] [--weights <file|saved-name>] [--set name.key=value ...]
                    [--score logit|probability] [--seed N] [--workers N] [--threads N] [--db FILE]
                    [--queue redis://[user:pass@]host:port[/db] [--shared-paths]]

Explains every readable image of the library with each method (target: the model's top-1 class, on the
method's reference score unless --score or method:score says otherwise, docs/protocol.md) in worker
threads, storing maps, predictions and runs in the database. --metric: computed for every map (faithfulness
metrics on the target's probability with their random-map control). --ensemble: per image, the methods' maps combined (stored as
method ensemble:<combiner>) and measured too; --weights: the weight set of weighted ensembles (a JSON
file from saliency ensemble-weights, {"gradcam": 2, ...}, or the name of a set saved in the database). --set lime.samples=300, --set deletion.steps=20 or
--set mean.<option>=... sets a method's, a metric's or an ensemble's setting; --seed seeds explainers and metrics. A folder that is not a library yet is added; a library is rescanned first.
Ctrl-C pauses at the next batch (the items in flight stay pending); a killed run loses nothing committed:
finish it with saliency jobs resume. A second run with the same work while the first runs joins its job
(each process claims one image at a time; each prints how many items it did); other work runs as its own job.
--workers: worker threads, each with its own model session (default 1 per 2 cores); --threads: ONNX Runtime
threads per worker (default cores / workers). Exit code 0: all done; 1: some items failed (saliency jobs errors <id>).
--queue: the images go to a Redis queue served by \`saliency worker\` processes on any machines (BullMQ);
this process stores their results (see docs/fleet.md). --shared-paths: send file paths, not the images'
bytes, when every worker reads the library at the same path.`;

export const runCommand: Command = {
  name: 'run',
  summary: 'explain a library with several methods, into the database (resumable)',
  usage: USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        library: { type: 'string' }, model: { type: 'string' }, method: { type: 'string' }, score: { type: 'string' },
        seed: { type: 'string' }, workers: { type: 'string' }, threads: { type: 'string' }, db: { type: 'string' },
        metric: { type: 'string' }, ensemble: { type: 'string' }, set: { type: 'string', multiple: true },
        queue: { type: 'string' }, 'shared-paths': { type: 'boolean' }, weights: { type: 'string' },
      },
    });
    if (!values.library || !values.model || !values.method) throw new SaliencyError(`--library, --model and --method are required\n\n${USAGE}`, 'BAD_USAGE');
    if (values.score && values.score !== 'logit' && values.score !== 'probability') throw new SaliencyError('--score must be "logit" or "probability"', 'BAD_USAGE');
    const workers = intOption(values.workers, 'workers');
    const threadsPerWorker = intOption(values.threads, 'threads');
    const list = (v: string | undefined) => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);
    const methods = list(values.method);
    const metrics = list(values.metric);
    const ensembles = list(values.ensemble);
    const custom = parseSettings(values.set ?? []);
    if (values.weights && !ensembles.length) throw new SaliencyError('--weights is for --ensemble (e.g. --ensemble weighted)', 'BAD_USAGE');
    const methodNames = methods.map((m) => m.split(':')[0]);
    for (const k of Object.keys(custom)) {
      if (![...methodNames, ...metrics, ...ensembles].includes(k)) throw new SaliencyError(`--set names "${k}", which is none of --method, --metric or --ensemble`, 'BAD_SETTING');
    }
    const seed = intOption(values.seed, 'seed', 0);
    if (values.queue) await checkQueue(values.queue); // a bad URL or password: one line, and no job created
    const store = openStore(values.db);
    try {
      let libraryId: number;
      const isFolder = existsSync(values.library) && statSync(values.library).isDirectory();
      if (isFolder && !store.libraries.byRoot(values.library)) {
        const { library, scan } = await importFolder(store, values.library);
        console.log(`added library ${library.id} ${library.root}: ${scan.files} files, ${scan.errors} with errors`);
        libraryId = library.id;
      } else {
        // an existing library is rescanned first (only new or changed files are read) so the batch covers it as it is now
        libraryId = store.libraries.find(values.library).id;
        const scan = await scanLibrary(store, libraryId);
        if (scan.added + scan.changed + scan.removed > 0) console.log(`library ${libraryId}: ${scan.added} new, ${scan.changed} changed, ${scan.removed} removed files`);
      }
      const pick = (names: string[]) => Object.fromEntries(Object.entries(custom).filter(([k]) => names.includes(k)));
      const made = await createExplainJob(store, {
        libraryId, modelPath: await resolveModel(values.model), methods, score: values.score as ScoreKind | undefined, seed,
        settings: pick(methodNames), metrics, metricSettings: pick(metrics),
        ensembles: ensembleSpecs(ensembles, values.weights ? await loadWeights(values.weights, store.weightSets) : undefined, custom),
      });
      const { job, found } = store.jobs.sameWorkLive(made.id, process.pid, processAlive);
      if (found) return await joinLiveJob(store, job, { workers, threadsPerWorker, queue: values.queue });
      const perImage = job.params.methods.length + ensembles.length;
      const what = [...job.params.methods, ...ensembles.map((e) => `ensemble:${e}`)].join(', ');
      console.log(`job ${job.id}: ${job.counts.total} items (${job.counts.total / perImage} images x ${what})${metrics.length ? `, metrics ${metrics.join(', ')}` : ''}`);
      if (values.queue) return await runFleetInForeground(store, job.id, { queue: values.queue, sharedPaths: values['shared-paths'] });
      return await runInForeground(store, job.id, { workers, threadsPerWorker });
    } finally {
      store.close();
    }
  },
};

/**
 * A second run with the same work (library, model, methods, settings, metrics, ensembles, seed and images) as a
 * job a live process is running joins that job: both claim its images one at a time, so nothing is computed
 * twice and either may stop or be killed without losing the other's work. Different work on the same library
 * (other methods or settings) runs as its own job, so each job keeps its own progress, pause and resume; items
 * the two jobs share (same method, settings and image) are then computed by each (their stores are upserts:
 * no duplicate rows). A fleet job (its items are in Redis) is never joined, nor joined from the fleet path: one line.
 */
async function joinLiveJob(store: ReturnType<typeof openStore>, job: JobRecord, opts: { workers?: number; threadsPerWorker?: number; queue?: string }): Promise<number> {
  if (job.params.queue || opts.queue) {
    throw new SaliencyError(`job ${job.id} with the same work is being run by process ${job.pid}${job.params.queue ? ` on the fleet queue ${job.params.queue}` : ' locally'}: ` +
      `${job.params.queue ? 'add capacity with saliency worker' : 'run without --queue to join it'}, or wait for it (saliency jobs list)`, 'JOB_BUSY');
  }
  console.log(`job ${job.id} is being run by process ${job.pid}: joining it, items are claimed one image at a time`);
  return runInForeground(store, job.id, opts);
}

/** Runs a job here with a progress bar; Ctrl-C pauses it (a second Ctrl-C quits at once). */
export async function runInForeground(store: ReturnType<typeof openStore>, jobId: number, opts: { workers?: number; threadsPerWorker?: number; retryErrors?: boolean }): Promise<number> {
  let bar: ReturnType<typeof progressBar> | undefined;
  const runner = new JobRunner(store, jobId, {
    ...opts,
    onEvent: (e) => {
      if (e.type === 'started') { bar = progressBar(e.pending, `job ${jobId} `); console.log(`job ${jobId}: ${e.pending} items to do with ${e.workers} worker(s)`); }
      else if (e.type === 'progress') bar?.tick();
      else if (e.type === 'item-error') console.error(`\nitem ${e.itemId} (image ${e.imageId}, ${e.method}): ${e.error}`);
    },
  });
  let interrupts = 0;
  const onSigint = () => {
    if (++interrupts > 1) process.exit(130);
    console.error(`\npausing job ${jobId} at the next batch (Ctrl-C again to quit now)`);
    runner.pause();
  };
  process.on('SIGINT', onSigint);
  try {
    const job = await runner.run();
    bar?.done();
    // This process's share: with several processes on one job each did some of its items.
    console.log(`process ${process.pid}: ${runner.share.done} items done here, ${runner.share.error} failed`);
    if (runner.leftTo.length) {
      console.log(`job ${jobId}: nothing left to claim; its last images are being done by process ${runner.leftTo.join(', ')}`);
      return runner.share.error > 0 ? 1 : 0;
    }
    reportJob(job);
    if (job.status !== 'done') return 1;
    return job.counts.error > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
