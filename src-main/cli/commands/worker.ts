// saliency worker: one machine of a fleet. Takes tasks for its model from a Redis queue (BullMQ), explains
// and evaluates them with the engine, leaves the results for the coordinator (saliency run --queue).
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { PROVIDERS, type Provider } from '../../engine/model/classifier.ts';
import { startFleetWorker, type FleetWorker } from '../../engine/fleet/fleet-worker.ts';
import { exposureWarning, parseQueueUrl } from '../../engine/fleet/redis-url.ts';
import { SaliencyError } from '../../engine/types.ts';
import { intOption, resolveModel } from '../common.ts';

const USAGE = `Usage: saliency worker --queue redis://[user:pass@]host:port[/db] --model <file.onnx>
                       [--provider cpu|cuda|dml|coreml] [--concurrency N] [--threads N] [--batch-size N]
                       [--lock-seconds S] [--name NAME] [--quiet]

Serves the queue of this model (named by its sha256): every library job run with
saliency run --queue <same URL> --model <same file> on any machine. --concurrency: images at once, each with
its own ONNX session (default 1); --threads: ONNX threads per session (default cores / concurrency);
--batch-size: images per forward pass of the perturbation methods (GPU: larger). A task whose worker stops
renewing its lock for --lock-seconds (default 30) is retried by another worker. The password can come from
SALIENCY_REDIS_PASSWORD instead of the URL; rediss:// uses TLS (a private CA: SALIENCY_REDIS_CA=<file.pem>).
SIGTERM or Ctrl-C: take no new task, finish those in flight, exit; a second one: put them back in the queue
and exit; a third: exit at once. Prints one line per task (start, done) unless --quiet.`;

export const workerCommand: Command = {
  name: 'worker',
  summary: 'serve a Redis queue of library jobs (a fleet worker)',
  usage: USAGE,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        queue: { type: 'string' }, model: { type: 'string' }, provider: { type: 'string' }, concurrency: { type: 'string' },
        threads: { type: 'string' }, 'batch-size': { type: 'string' }, 'lock-seconds': { type: 'string' }, name: { type: 'string' },
        quiet: { type: 'boolean' },
      },
    });
    if (!values.queue || !values.model) throw new SaliencyError(`--queue and --model are required\n\n${USAGE}`, 'BAD_USAGE');
    if (values.provider && !PROVIDERS.includes(values.provider as Provider)) throw new SaliencyError(`--provider must be one of ${PROVIDERS.join(', ')} (got "${values.provider}")`, 'BAD_SETTING');
    const lock = values['lock-seconds'] !== undefined ? Number(values['lock-seconds']) : 30;
    if (!(lock >= 1)) throw new SaliencyError(`--lock-seconds must be a number >= 1 (got "${values['lock-seconds']}")`, 'BAD_SETTING');
    const q = parseQueueUrl(values.queue);
    const warning = exposureWarning(q);
    if (warning) console.error(warning);
    const concurrency = intOption(values.concurrency, 'concurrency') ?? 1;
    // Signals are taken from the start: the worker may begin a task before its ready line is printed.
    let worker: FleetWorker | undefined;
    let signals = 0;
    let stopped!: () => void;
    const done = new Promise<void>((resolve) => { stopped = resolve; });
    const close = () => void worker!.close(signals === 1 ? 'finish' : 'return').then(stopped);
    const stop = () => {
      // a third signal exits at once (e.g. Redis is gone, so nothing can be finished or given back: the tasks
      // in flight stall and are retried by another worker)
      if (++signals > 2) process.exit(130);
      console.log(signals === 1 ? 'finishing the tasks in flight (signal again to put them back in the queue)' : 'putting the tasks in flight back in the queue (signal again to exit at once)');
      if (worker) close();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    try {
      worker = await startFleetWorker({
        queue: values.queue, modelPath: await resolveModel(values.model), provider: values.provider as Provider | undefined, concurrency,
        threads: intOption(values.threads, 'threads'), batchSize: intOption(values['batch-size'], 'batch-size'), lockMs: lock * 1000, name: values.name,
        log: values.quiet ? undefined : (line) => console.log(line),
      });
      console.log(`worker ${worker.name} ready: model ${values.model} (sha256 ${worker.modelSha256.slice(0, 12)}), queue ${q.display} ${worker.queueName}, concurrency ${concurrency}`);
      if (signals > 0) close();
      await done;
    } finally {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
    }
    console.log(`worker ${worker.name} stopped`);
    return 0;
  },
};
