// Electron main process: a thin shell around the same ApiService that `saliency serve` uses, on the same
// database (engine/store/paths.ts). The renderer is sandboxed (contextIsolation, sandbox, no nodeIntegration)
// and reaches the engine only through one IPC channel whose payloads are validated with the contract's zod
// schemas (createDispatcher), exactly as the HTTP transport does. Image bytes come through the saliency-file:
// protocol, by image id only. The wiring and its guards live in shell.ts (tested against a stand-in).
import * as electron from 'electron';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireSingleInstance, desktopServiceOptions, registerSchemes, startShell } from './shell.ts';

const { app } = electron;
const here = path.dirname(fileURLToPath(import.meta.url));
// Packaged: bundled resources (labels, built-in models, demo samples) live beside the app.
if (app.isPackaged && !process.env.SALIENCY_RESOURCES) process.env.SALIENCY_RESOURCES = path.join(process.resourcesPath, 'resources');

let window: electron.BrowserWindow | null = null;

async function main(): Promise<void> {
  const { ApiService } = await import('../api/service.ts');
  const { builtinSamplesDir } = await import('../engine/model/builtin.ts');
  await app.whenReady();
  const service = new ApiService(desktopServiceOptions());
  console.error(`database: ${service.store.path}`);
  // As `saliency serve`: the demo model (or the known-evidence one) on its bundled samples, Grad-CAM started.
  for (const spec of ['builtin:demo', 'builtin:known-evidence']) {
    const ok = await service.call('model.load', { spec }).then(() => true, (e: Error) => { console.error(`could not load ${spec}: ${e.message}`); return false; });
    if (!ok) continue;
    const samples = builtinSamplesDir(spec);
    if (existsSync(samples) && (await service.call('library.list', {})).length === 0) {
      const lib = await service.call('library.open', { path: samples });
      await service.call('jobs.start', { libraryId: lib.id, methods: ['gradcam'] }).catch(() => undefined);
    }
    break;
  }
  service.listResumableJobs();
  window = await startShell(electron, { service, rendererDir: path.join(here, '../renderer'), preload: path.join(here, '../preload/index.cjs') });
}

if (acquireSingleInstance(app, () => window)) {
  registerSchemes(electron.protocol);
  app.on('window-all-closed', () => app.quit());
  main().catch((e) => {
    console.error(e);
    app.exit(1);
  });
}
