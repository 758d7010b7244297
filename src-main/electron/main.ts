// Electron main process: a thin shell around the same ApiService that `saliency serve` uses. The renderer is
// sandboxed (contextIsolation, sandbox, no nodeIntegration) and reaches the engine only through one IPC
// channel whose payloads are validated with the contract's zod schemas (createDispatcher), exactly as the
// HTTP transport does. Image bytes come through the saliency-file: protocol, by image id only.
import { app, BrowserWindow, dialog, ipcMain, protocol, session, shell, type IpcMainInvokeEvent } from 'electron';
import { existsSync } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// Packaged: bundled resources (labels, built-in models, demo samples) live beside the app.
if (app.isPackaged && !process.env.SALIENCY_RESOURCES) process.env.SALIENCY_RESOURCES = path.join(process.resourcesPath, 'resources');

const { ApiService } = await import('../api/service.ts');
const { createDispatcher, fail } = await import('../api/dispatch.ts');
const { FileRoutes } = await import('../api/files.ts');
const { contentSecurityPolicy } = await import('../api/server.ts');
const { builtinSamplesDir } = await import('../engine/model/builtin.ts');

const RENDERER_DIR = path.join(here, '../renderer');
const APP_ORIGIN = 'app://studio';

protocol.registerSchemesAsPrivileged([
  { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } },
  { scheme: 'saliency-file', privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };
const CSP = contentSecurityPolicy('').replace("img-src 'self' data: blob:", "img-src 'self' data: blob: saliency-file:");

function fromOurWindow(event: IpcMainInvokeEvent): boolean {
  return event.senderFrame?.url.startsWith(`${APP_ORIGIN}/`) ?? false;
}

async function main(): Promise<void> {
  await app.whenReady();
  const service = new ApiService({ mode: 'electron', dataDir: app.getPath('userData') });
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
  const dispatch = createDispatcher(service);
  const files = new FileRoutes(service);

  // The renderer's own files, only from inside its folder.
  protocol.handle('app', async (req) => {
    const rel = decodeURIComponent(new URL(req.url).pathname).replace(/^\/+/, '') || 'index.html';
    try {
      const real = await realpath(path.resolve(RENDERER_DIR, rel));
      if (!real.startsWith(path.resolve(RENDERER_DIR) + path.sep)) return new Response('forbidden', { status: 403 });
      return new Response(await readFile(real), { headers: { 'content-type': MIME[path.extname(real)] ?? 'application/octet-stream', 'content-security-policy': CSP } });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
  protocol.handle('saliency-file', async (req) => {
    const u = new URL(req.url);
    try {
      const f = await files.get(u.host, decodeURIComponent(u.pathname.slice(1)));
      return new Response(f.body, { headers: { 'content-type': f.contentType } });
    } catch (e) {
      return new Response((e as Error).message, { status: 404 });
    }
  });

  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  session.defaultSession.webRequest.onHeadersReceived((details, cb) => {
    cb({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });

  ipcMain.handle('saliency:invoke', (event, method: unknown, payload: unknown) => {
    if (!fromOurWindow(event)) return fail('FORBIDDEN', 'IPC from an unexpected frame');
    return dispatch(String(method), payload);
  });
  ipcMain.handle('saliency:choose-folder', async (event) => {
    if (!fromOurWindow(event)) return null;
    const r = await dialog.showOpenDialog({ properties: ['openDirectory'] });
    return r.canceled ? null : r.filePaths[0] ?? null;
  });

  const win = new BrowserWindow({
    width: 1400, height: 900, title: 'Saliency Studio', backgroundColor: '#14161a',
    webPreferences: {
      preload: path.join(here, '../preload/index.cjs'),
      contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, spellcheck: false,
    },
  });
  const unsubscribe = service.on((e) => { if (!win.isDestroyed()) win.webContents.send('saliency:event', e); });
  win.on('closed', unsubscribe);
  // No navigation away from the app and no new windows; links open in the system browser.
  win.webContents.on('will-navigate', (e, url) => { if (!url.startsWith(`${APP_ORIGIN}/`)) e.preventDefault(); });
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    // "Open the report": in the system's viewer, from the path the store recorded.
    const report = /^saliency-file:\/\/report\/(\d+)$/.exec(url);
    if (report) { try { void shell.openPath(service.reportPath(report[1])); } catch { /* unknown report id */ } }
    return { action: 'deny' };
  });
  await win.loadURL(`${APP_ORIGIN}/index.html`);
}

app.on('window-all-closed', () => app.quit());
main().catch((e) => {
  console.error(e);
  app.exit(1);
});
