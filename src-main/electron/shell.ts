// The Electron main-process wiring, written against the parts of the `electron` module it uses (passed in), so
// every handler, guard and option can be exercised in plain Node against a stand-in (test/electron/).
// Follows Electron's security checklist: sandboxed, context-isolated renderer; no navigation, redirect, frame
// navigation, webview or new window away from the app, in any web contents (app-wide guard); no permissions;
// IPC only from our own frames; custom protocols serve only requests made by the app's own pages; external links
// only to an allowlist; one instance.
import type * as Electron from 'electron';
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { ApiService, ServiceOptions } from '../api/service.ts';
import { createDispatcher, fail } from '../api/dispatch.ts';
import { FileRoutes } from '../api/files.ts';
import { contentSecurityPolicy } from '../api/server.ts';
import { resolveDbPath } from '../engine/store/paths.ts';

export type ElectronMain = Pick<typeof Electron, 'app' | 'BrowserWindow' | 'dialog' | 'ipcMain' | 'protocol' | 'session' | 'shell'>;

export const APP_ORIGIN = 'app://studio';
/** Sites a link in the app may open in the system browser (https only); everything else is dropped. */
export const EXTERNAL_HOSTS = ['github.com', 'arxiv.org', 'doi.org', 'onnx.ai', 'pytorch.org'];

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };
export const CSP = contentSecurityPolicy('').replace("img-src 'self' data: blob:", "img-src 'self' data: blob: saliency-file:");

/** The desktop app uses the same database as the CLI and `saliency serve` ($SALIENCY_DB, else the user data
 * folder; engine/store/paths.ts), not Electron's userData folder, so results made anywhere show everywhere. */
export function desktopServiceOptions(env: NodeJS.ProcessEnv = process.env): ServiceOptions {
  const dbFile = resolveDbPath(undefined, env);
  return { mode: 'electron', dbFile, dataDir: path.dirname(dbFile) };
}

export function isAppUrl(url: string): boolean {
  return url.startsWith(`${APP_ORIGIN}/`);
}

export function isAllowedExternal(url: string): boolean {
  let u: URL;
  try { u = new URL(url); } catch { return false; }
  return u.protocol === 'https:' && !u.username && !u.password && EXTERNAL_HOSTS.some((h) => u.hostname === h || u.hostname.endsWith(`.${h}`));
}

/** True when a custom-protocol request comes from one of the app's own pages (Origin or Referer). */
export function requestFromApp(req: Request): boolean {
  const origin = req.headers.get('origin');
  if (origin) return origin === APP_ORIGIN;
  const referrer = req.headers.get('referer') ?? (req.referrer && req.referrer !== 'about:client' ? req.referrer : '');
  return isAppUrl(referrer);
}

/** Before app ready: the two custom schemes (standard and secure; no CSP bypass). */
export function registerSchemes(protocol: ElectronMain['protocol']): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } },
    { scheme: 'saliency-file', privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);
}

/** One instance: a second launch focuses the first window and exits. Returns false in the second instance. */
export function acquireSingleInstance(app: ElectronMain['app'], window: () => Electron.BrowserWindow | null): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on('second-instance', () => {
    const win = window();
    if (!win || win.isDestroyed()) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  return true;
}

type NavEvent = { url?: string; preventDefault(): void };

/** Guards for every web contents the app creates (windows, and anything else that appears). */
export function guardContents(contents: Electron.WebContents, electron: Pick<ElectronMain, 'shell'>, openReport: (id: string) => void): void {
  const stayInApp = (e: NavEvent, url?: string) => { if (!isAppUrl(url ?? e.url ?? '')) e.preventDefault(); };
  contents.on('will-navigate', stayInApp);
  contents.on('will-redirect', stayInApp);
  contents.on('will-frame-navigate', (e) => stayInApp(e));
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    // "Open the report": in the system's viewer, from the path the store recorded; allowlisted sites in the browser.
    const report = /^saliency-file:\/\/report\/(\d+)$/.exec(url);
    if (report) openReport(report[1]);
    else if (isAllowedExternal(url)) void electron.shell.openExternal(url);
    return { action: 'deny' };
  });
}

export interface ShellOptions {
  service: ApiService;
  /** The built renderer (index.html + assets). */
  rendererDir: string;
  /** The built preload script. */
  preload: string;
}

/** After app ready: protocols, session policy, IPC, the app-wide guard and the window. */
export async function startShell(electron: ElectronMain, opts: ShellOptions): Promise<Electron.BrowserWindow> {
  const { app, BrowserWindow, dialog, ipcMain, protocol, session, shell } = electron;
  const { service } = opts;
  const dispatch = createDispatcher(service);
  const files = new FileRoutes(service);
  const rendererDir = path.resolve(opts.rendererDir);
  const openReport = (id: string) => {
    try { void shell.openPath(service.reportPath(id)); } catch { /* unknown report id */ }
  };

  app.on('web-contents-created', (_e, contents) => guardContents(contents, electron, openReport));

  // The renderer's own files, only from inside its folder.
  protocol.handle('app', async (req) => {
    try {
      const u = new URL(req.url);
      if (u.host !== 'studio') return new Response('not found', { status: 404 });
      const rel = decodeURIComponent(u.pathname).replace(/^\/+/, '') || 'index.html';
      const real = await realpath(path.resolve(rendererDir, rel));
      if (!real.startsWith(rendererDir + path.sep)) return new Response('forbidden', { status: 403 });
      return new Response(await readFile(real), { headers: { 'content-type': MIME[path.extname(real)] ?? 'application/octet-stream', 'content-security-policy': CSP } });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
  // Image and report bytes by id, only for the app's own pages.
  protocol.handle('saliency-file', async (req) => {
    if (!requestFromApp(req)) return new Response('forbidden: not requested by the app', { status: 403 });
    try {
      const u = new URL(req.url);
      const f = await files.get(u.host, decodeURIComponent(u.pathname.slice(1)));
      return new Response(new Uint8Array(f.body), { headers: { 'content-type': f.contentType, 'x-content-type-options': 'nosniff' } });
    } catch (e) {
      return new Response((e as Error).message, { status: 404 });
    }
  });

  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  ses.setPermissionCheckHandler(() => false);
  ses.webRequest.onHeadersReceived((details, cb) => {
    cb({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });

  const fromOurWindow = (event: Electron.IpcMainInvokeEvent) => isAppUrl(event.senderFrame?.url ?? '');
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
      preload: opts.preload,
      contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInWorker: false, nodeIntegrationInSubFrames: false,
      webSecurity: true, allowRunningInsecureContent: false, webviewTag: false, navigateOnDragDrop: false, spellcheck: false,
    },
  });
  const unsubscribe = service.on((e) => { if (!win.isDestroyed()) win.webContents.send('saliency:event', e); });
  win.on('closed', unsubscribe);
  await win.loadURL(`${APP_ORIGIN}/index.html`);
  return win;
}
