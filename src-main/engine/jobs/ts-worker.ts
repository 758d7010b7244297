// Starting a worker thread that runs TypeScript. On Node 20, `new Worker(url, { execArgv: ['--import', 'tsx'] })`
// does not apply tsx's hooks to the worker's entry module (it fails with ERR_UNKNOWN_FILE_EXTENSION ".ts"),
// so the worker starts from a tiny ESM bootstrap that registers tsx in the worker and then imports the entry.
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

let tsxApi: string | undefined;
function tsxApiUrl(): string {
  tsxApi ??= new URL('dist/esm/api/index.mjs', pathToFileURL(createRequire(import.meta.url).resolve('tsx/package.json'))).href;
  return tsxApi;
}

const BOOTSTRAP = `import { workerData } from 'node:worker_threads';
const tsx = await import(workerData.__tsxApi);
tsx.register();
await import(workerData.__entry);`;

/** A worker running the TypeScript module at entry; workerData reaches it unchanged. */
export function startTsWorker(entry: URL, workerData: Record<string, unknown> = {}, opts: Omit<WorkerOptions, 'workerData'> = {}): Worker {
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(BOOTSTRAP)}`), {
    ...opts,
    workerData: { ...workerData, __tsxApi: tsxApiUrl(), __entry: entry.href },
  });
}
