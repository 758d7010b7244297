// A job worker: one Classifier (one ONNX Runtime session) for its lifetime; explains the images it is sent,
// computes the job's metrics for each map, and posts each item's result or error back. The runner stores
// them; a worker never touches the database. An 'abort' (pause, cancel) aborts the task's AbortSignal: the
// scheduler drops the queued batches at once, the batch running completes, and the unfinished items are
// reported as aborted (never as results or errors), so the runner leaves them pending.
import { parentPort, workerData } from 'node:worker_threads';
import { Classifier } from '../model/classifier.ts';
import { prepareImageFile, type LoadedImage } from '../image/prepare.ts';
import type { PreparedImage } from '../explain/types.ts';
import { computeMetrics, planMetrics, type MetricPlan } from '../pipeline/evaluate-stored.ts';
import { topK } from '../util/math.ts';
import { schedulerFor } from '../infer/scheduler.ts';
import { SaliencyError } from '../types.ts';
import { explainerFor } from './methods.ts';
import type { FromWorker, ImageTask, JudgeItem, MetricsOutcome, ToWorker, WorkerInit } from './protocol.ts';

const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);
const codeOf = (e: unknown) => (e instanceof SaliencyError ? e.code : 'ERROR');
const messageOf = (e: unknown) => String((e as Error)?.message ?? e);

/** The job's metrics for one map. A metric that fails is recorded and the others still run; an unexpected
 *  failure of the whole stage is recorded the same way, so the explanation itself is never lost. */
async function judge(model: Classifier, image: PreparedImage, e: JudgeItem['explanation'], signal: AbortSignal): Promise<MetricsOutcome> {
  const out: MetricsOutcome = { rows: [], errors: [] };
  const judged = { id: 0, method: e.method, map: e.map, targetClass: e.targetClass, scoreKind: e.score, settings: e.settings, seed: e.seed };
  for (const plan of plans) {
    try {
      const r = await computeMetrics(model, image, judged, [plan], init.metrics.seed, signal);
      if (signal.aborted) throw new SaliencyError('cancelled', 'CANCELLED'); // a metric may record the abort as its error
      out.rows.push(...r.rows);
      out.errors.push(...r.errors.map((x) => ({ metric: x.metric, error: x.error })));
    } catch (err) {
      if (signal.aborted) throw err;
      out.errors.push({ metric: plan.metric.name, error: messageOf(err) });
    }
  }
  return out;
}

// The image of the last task is kept: an image's ensembles come in a second task once its methods are stored.
let last: { path: string; loaded: Promise<LoadedImage> } | undefined;

/** The task being handled, so an 'abort' message can stop it; evaluated: scheduler count when the abort came. */
let current: { taskId: number; controller: AbortController; evaluatedAtAbort: number } | undefined;

async function handle(model: Classifier, task: ImageTask): Promise<void> {
  const controller = new AbortController();
  const signal = controller.signal;
  current = { taskId: task.taskId, controller, evaluatedAtAbort: 0 };
  const scheduler = schedulerFor(model);
  /** The items not finished when the abort came: reported once the batch in flight has completed. */
  const aborted = async (from: number) => {
    await scheduler.whenIdle();
    const evaluations = scheduler.stats.evaluated;
    const after = evaluations - current!.evaluatedAtAbort;
    for (const it of task.items.slice(from)) post({ type: 'item-aborted', taskId: task.taskId, itemId: it.itemId, evaluations, evaluationsAfterAbort: after });
  };
  let loaded: LoadedImage;
  try {
    if (last?.path !== task.path) last = { path: task.path, loaded: prepareImageFile(task.path, model) };
    loaded = await last.loaded;
  } catch (e) {
    last = undefined;
    for (const it of task.items) post({ type: 'item-error', taskId: task.taskId, itemId: it.itemId, message: messageOf(e), code: codeOf(e) });
    return;
  }
  const { prepared } = loaded;
  let prediction: { classIndex: number; probability: number; logit: number }[] | undefined;
  for (const [i, it] of task.items.entries()) {
    if (signal.aborted) return aborted(i);
    try {
      if (it.kind === 'judge') {
        const t0 = performance.now();
        const metrics = await judge(model, prepared, it.explanation, signal);
        post({ type: 'judged', taskId: task.taskId, itemId: it.itemId, metrics, millis: performance.now() - t0 });
        continue;
      }
      if (!prediction) {
        const out = await model.predict([prepared.input]);
        const k = Math.min(task.topK, out.numClasses);
        prediction = topK(out.probabilities, k, 0, out.numClasses).map((c) => ({ classIndex: c, probability: out.probabilities[c], logit: out.logits[c] }));
      }
      const explainer = explainerFor(it.method);
      const onProgress = (p: { fraction: number }) => post({ type: 'item-progress', taskId: task.taskId, itemId: it.itemId, fraction: p.fraction, evaluations: scheduler.stats.evaluated });
      const e = await explainer.explain(prepared, { classIndex: prediction[0].classIndex, score: it.score }, explainer.settings(it.settings), it.seed, { model, signal, onProgress });
      const explanation = {
        method: e.method, targetClass: e.target.classIndex, score: e.target.score, map: e.map, native: e.native ?? null,
        evaluations: e.evaluations, settings: e.settings, seed: e.seed, extras: e.extras, millis: e.millis,
      };
      const metrics = await judge(model, prepared, explanation, signal);
      post({ type: 'result', taskId: task.taskId, itemId: it.itemId, sha256: prepared.id, prediction, explanation, metrics });
    } catch (err) {
      if (signal.aborted) return aborted(i);
      post({ type: 'item-error', taskId: task.taskId, itemId: it.itemId, message: messageOf(err), code: codeOf(err) });
    }
  }
}

const init = workerData as WorkerInit;
let model: Classifier;
let plans: MetricPlan[];
try {
  plans = planMetrics(init.metrics.names, init.metrics.settings);
  model = await Classifier.load(init.modelPath, { threads: init.threads, provider: init.provider, batchSize: init.batchSize });
} catch (e) {
  post({ type: 'fatal', message: messageOf(e), code: codeOf(e) });
  process.exit(1);
}
post({ type: 'ready', info: model.info });
// Tasks are handled one at a time, in the order they arrive.
let chain = Promise.resolve();
port.on('message', (m: ToWorker) => {
  if (m.type === 'stop') { chain.then(() => model.dispose()).finally(() => port.close()); return; }
  if (m.type === 'abort') {
    if (current?.taskId === m.taskId && !current.controller.signal.aborted) {
      current.evaluatedAtAbort = schedulerFor(model).stats.evaluated;
      current.controller.abort();
    }
    return;
  }
  chain = chain
    .then(() => handle(model, m))
    .catch((e) => { for (const it of m.items) post({ type: 'item-error', taskId: m.taskId, itemId: it.itemId, message: messageOf(e), code: codeOf(e) }); })
    .then(() => post({ type: 'task-done', taskId: m.taskId }));
});
