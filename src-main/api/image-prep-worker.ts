// Worker thread of image-prep.ts: decodes a file and resamples it to the model's input, so neither the decode
// nor the resampling of an odd file (a 20000x1 PNG, a 100-megapixel photo) runs on the server's event loop.
import { parentPort } from 'node:worker_threads';
import { prepareImageFile } from '../engine/image/prepare.ts';
import type { Classifier } from '../engine/model/classifier.ts';
import { SaliencyError } from '../engine/types.ts';
import type { PrepRequest, PrepReply } from './image-prep.ts';

parentPort!.on('message', async (m: PrepRequest) => {
  let reply: PrepReply;
  try {
    // prepareImageFile reads only the model's input size and resize policy.
    const loaded = await prepareImageFile(m.file, { info: m.info } as unknown as Classifier);
    reply = { id: m.id, ok: true, loaded };
    const buffers = [loaded.original.data.buffer, loaded.prepared.input.data.buffer] as ArrayBuffer[];
    parentPort!.postMessage(reply, [...new Set(buffers)]);
    return;
  } catch (e) {
    reply = { id: m.id, ok: false, message: (e as Error).message, code: e instanceof SaliencyError ? e.code : 'BAD_IMAGE' };
  }
  parentPort!.postMessage(reply);
});
parentPort!.postMessage({ id: 0, ok: false, message: 'ready', code: 'READY' } satisfies PrepReply);
