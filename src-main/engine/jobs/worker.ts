// A job worker: one Classifier (one ONNX Runtime session) for its lifetime; explains the images it is sent,
// computes the job's metrics for each map, and posts each item's result or error back. The runner stores
// them; a worker never touches the database.
import { parentPort, workerData } from 'node:worker_threads';
import { Classifier } from '../model/classifier.ts';
import { prepareImageFile, type LoadedImage } from '../image/prepare.ts';
import type { PreparedImage } from '../explain/types.ts';
import { computeMetrics, planMetrics, type MetricPlan } from '../pipeline/evaluate-stored.ts';
import { topK } from '../util/math.ts';
import { SaliencyError } from '../types.ts';
import { explainerFor } from './methods.ts';
import type { FromWorker, ImageTask, JudgeItem, MetricsOutcome, ToWorker, WorkerInit } from './protocol.ts';

const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);
const codeOf = (e: unknown) => (e instanceof SaliencyError ? e.code : 'ERROR');
const messageOf = (e: unknown) => String((e as Error)?.message ?? e);

/** The job's metrics for one map. A metric that fails is recorded and the others still run; an unexpected
 *  failure of the whole stage is recorded the same way, so the explanation itself is never lost. */
async function judge(model: Classifier, image: PreparedImage, e: JudgeItem['explanation']): Promise<MetricsOutcome> {
  const out: MetricsOutcome = { rows: [], errors: [] };
  const judged = { id: 0, method: e.method, map: e.map, targetClass: e.targetClass, scoreKind: e.score, settings: e.settings, seed: e.seed };
  for (const plan of plans) {
    try {
      const r = await computeMetrics(model, image, judged, [plan], init.metrics.seed);
      out.rows.push(...r.rows);
      out.errors.push(...r.errors.map((x) => ({ metric: x.metric, error: x.error })));
    } catch (err) {
      out.errors.push({ metric: plan.metric.name, error: messageOf(err) });
    }
  }
  return out;
}

// The image of the last task is kept: an image's ensembles come in a second task once its methods are stored.
let last: { path: string; loaded: Promise<LoadedImage> } | undefined;

async function handle(model: Classifier, task: ImageTask): Promise<void> {
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
  for (const it of task.items) {
    try {
      if (it.kind === 'judge') {
        const t0 = performance.now();
        const metrics = await judge(model, prepared, it.explanation);
        post({ type: 'judged', taskId: task.taskId, itemId: it.itemId, metrics, millis: performance.now() - t0 });
        continue;
      }
      if (!prediction) {
        const out = await model.predict([prepared.input]);
        const k = Math.min(task.topK, out.numClasses);
        prediction = topK(out.probabilities, k, 0, out.numClasses).map((c) => ({ classIndex: c, probability: out.probabilities[c], logit: out.logits[c] }));
      }
      const explainer = explainerFor(it.method);
      const e = await explainer.explain(prepared, { classIndex: prediction[0].classIndex, score: it.score }, explainer.settings(it.settings), it.seed, { model });
      const explanation = {
        method: e.method, targetClass: e.target.classIndex, score: e.target.score, map: e.map, native: e.native ?? null,
        evaluations: e.evaluations, settings: e.settings, seed: e.seed, extras: e.extras, millis: e.millis,
      };
      const metrics = await judge(model, prepared, explanation);
      post({ type: 'result', taskId: task.taskId, itemId: it.itemId, sha256: prepared.id, prediction, explanation, metrics });
    } catch (err) {
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
  chain = chain
    .then(() => handle(model, m))
    .catch((e) => { for (const it of m.items) post({ type: 'item-error', taskId: m.taskId, itemId: it.itemId, message: messageOf(e), code: codeOf(e) }); })
    .then(() => post({ type: 'task-done', taskId: m.taskId }));
});
