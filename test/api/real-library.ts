// A real SqueezeNet ApiService over a fresh library of sample images (the files copied to a temporary folder),
// opened and predicted; closed and removed after `body`.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiService } from '../../src-main/api/service.ts';
import { MODELS, model, sample } from '../helpers/data.ts';

export async function withRealLibrary(files: string[], body: (api: ApiService, libraryId: string) => Promise<void>): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'saliency-api-'));
  const lib = path.join(root, 'lib');
  mkdirSync(lib);
  for (const f of files) copyFileSync(sample(f), path.join(lib, f));
  const api = new ApiService({ dataDir: root, model: model(MODELS.squeezenet) });
  try {
    await api.init();
    const library = await api.call('library.open', { path: lib });
    await api.jobs.idle();
    await body(api, library.id);
  } finally {
    api.close();
    rmSync(root, { recursive: true, force: true });
  }
}
