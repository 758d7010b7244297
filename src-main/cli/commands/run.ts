// saliency run: a batch of explanations (library images x methods) into the database, resumable.
import { parseArgs } from 'node:util';
import { existsSync, statSync } from 'node:fs';
import type { Command } from '../command.ts';
import { progressBar } from '../command.ts';
import { openStore } from '../../engine/store/store.ts';
import { importFolder, scanLibrary } from '../../engine/library/scan.ts';
import { createExplainJob } from '../../engine/jobs/create-job.ts';
import { JobRunner } from '../../engine/jobs/runner.ts';
import { reportJob } from './jobs.ts';
import { SaliencyError, type ScoreKind } from '../../engine/types.ts';

const USAGE = `Usage: saliency run --library <id|folder> --model <file.onnx> --method gradcam[,ablationcam:probability,...]
                    [--score logit|probability] [--seed N] [--workers N] [--db FILE]

Explains every readable image of the library with each method (target: the model's top-1 class) in worker
threads, storing maps, predictions and runs in the database. A folder that is not a library yet is added; a library is rescanned first.
Ctrl-C pauses after the images in flight; a killed run loses nothing committed: finish it with
saliency jobs resume. Exit code 0: all done; 1: some items failed (saliency jobs errors <id>).`;

export const runCommand: Command = {
  name: 'run',
  summary: 'explain a library with several methods, into the database (resumable)',
  usage: USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        library: { type: 'string' }, model: { type: 'string' }, method: { type: 'string' }, score: { type: 'string' },
        seed: { type: 'string' }, workers: { type: 'string' }, db: { type: 'string' },
      },
    });
    if (!values.library || !values.model || !values.method) throw new SaliencyError(`--library, --model and --method are required\n\n${USAGE}`, 'BAD_USAGE');
    if (values.score && values.score !== 'logit' && values.score !== 'probability') throw new SaliencyError('--score must be "logit" or "probability"', 'BAD_USAGE');
    const workers = values.workers !== undefined ? Number(values.workers) : undefined;
    if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) throw new SaliencyError(`--workers must be a positive integer`, 'BAD_USAGE');
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
      const job = await createExplainJob(store, {
        libraryId, modelPath: values.model, methods: values.method.split(',').filter(Boolean),
        score: values.score as ScoreKind | undefined, seed: values.seed !== undefined ? Number(values.seed) : undefined,
      });
      console.log(`job ${job.id}: ${job.counts.total} items (${job.counts.total / job.params.methods.length} images x ${job.params.methods.join(', ')})`);
      return await runInForeground(store, job.id, { workers });
    } finally {
      store.close();
    }
  },
};

/** Runs a job here with a progress bar; Ctrl-C pauses it (a second Ctrl-C quits at once). */
export async function runInForeground(store: ReturnType<typeof openStore>, jobId: number, opts: { workers?: number; retryErrors?: boolean }): Promise<number> {
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
    console.error(`\npausing job ${jobId} after the images in flight (Ctrl-C again to quit now)`);
    runner.pause();
  };
  process.on('SIGINT', onSigint);
  try {
    const job = await runner.run();
    bar?.done();
    reportJob(job);
    if (job.status !== 'done') return 1;
    return job.counts.error > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
