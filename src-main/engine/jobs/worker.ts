// A job worker: one Classifier (one ONNX Runtime session) for its lifetime; explains the images it is sent
// and posts each item's result or error back. The runner stores them; a worker never touches the database.
import { parentPort, workerData } from 'node:worker_threads';
import { Classifier } from '../model/classifier.ts';
import { prepareImageFile } from '../image/prepare.ts';
import { topK } from '../util/math.ts';
import { SaliencyError } from '../types.ts';
import { explainerFor } from './methods.ts';
import type { FromWorker, ImageTask, ToWorker, WorkerInit } from './protocol.ts';

const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);
const codeOf = (e: unknown) => (e instanceof SaliencyError ? e.code : 'ERROR');
const messageOf = (e: unknown) => String((e as Error)?.message ?? e);

async function handle(model: Classifier, task: ImageTask): Promise<void> {
  let loaded;
  try {
    loaded = await prepareImageFile(task.path, model);
  } catch (e) {
    for (const it of task.items) post({ type: 'item-error', taskId: task.taskId, itemId: it.itemId, message: messageOf(e), code: codeOf(e) });
    return;
  }
  const { prepared } = loaded;
  const out = await model.predict([prepared.input]);
  const k = Math.min(task.topK, out.numClasses);
  const prediction = topK(out.probabilities, k, 0, out.numClasses).map((c) => ({ classIndex: c, probability: out.probabilities[c], logit: out.logits[c] }));
  for (const it of task.items) {
    try {
      const explainer = explainerFor(it.method);
      const e = await explainer.explain(prepared, { classIndex: prediction[0].classIndex, score: it.score }, explainer.settings(it.settings), it.seed, { model });
      post({
        type: 'result', taskId: task.taskId, itemId: it.itemId, sha256: prepared.id, prediction,
        explanation: {
          method: e.method, targetClass: e.target.classIndex, score: e.target.score, map: e.map, native: e.native ?? null,
          evaluations: e.evaluations, settings: e.settings, seed: e.seed, extras: e.extras, millis: e.millis,
        },
      });
    } catch (err) {
      post({ type: 'item-error', taskId: task.taskId, itemId: it.itemId, message: messageOf(err), code: codeOf(err) });
    }
  }
}

const init = workerData as WorkerInit;
let model: Classifier;
try {
  model = await Classifier.load(init.modelPath, { threads: init.threads });
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
