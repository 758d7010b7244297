// Issue 16 #12: the Electron main-process wiring (src-main/electron/shell.ts) and the preload, exercised in plain
// Node against a small stand-in of the `electron` module that records what the app registers, then plays the
// part of Chromium: navigations, redirects, frame navigations, new windows, permission checks, IPC from our own
// and foreign frames, and custom-protocol requests from the app and from elsewhere. The service behind it is real
// (SQLite store, the demo model). Also checks the electron-builder fuses.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EventEmitter } from 'node:events';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ApiService } from '../../src-main/api/service.ts';
import { resolveDbPath } from '../../src-main/engine/store/paths.ts';
import { APP_ORIGIN, acquireSingleInstance, desktopServiceOptions, isAllowedExternal, registerSchemes, startShell, type ElectronMain } from '../../src-main/electron/shell.ts';
import { REPO } from '../helpers/data.ts';
import { tempDir } from '../helpers/files.ts';

type Handler = (...args: any[]) => any;
// js-yaml (electron-builder's YAML parser) ships no types.
const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };

class FakeContents extends EventEmitter {
  windowOpenHandler: Handler | null = null;
  sent: unknown[] = [];
  setWindowOpenHandler(h: Handler) { this.windowOpenHandler = h; }
  send(channel: string, e: unknown) { this.sent.push([channel, e]); }
}

/** The parts of `electron` the shell uses, recording every registration. */
function standIn() {
  const app = Object.assign(new EventEmitter(), {
    lock: true, quits: 0, exits: [] as number[], isPackaged: false,
    requestSingleInstanceLock() { return this.lock; },
    quit() { this.quits++; },
    exit(code: number) { this.exits.push(code); },
    whenReady: async () => undefined,
  });
  const protocol = {
    schemes: [] as { scheme: string; privileges: Record<string, boolean> }[],
    handlers: new Map<string, (req: Request) => Promise<Response>>(),
    registerSchemesAsPrivileged(s: { scheme: string; privileges: Record<string, boolean> }[]) { this.schemes.push(...s); },
    handle(scheme: string, fn: (req: Request) => Promise<Response>) { this.handlers.set(scheme, fn); },
  };
  const ses = {
    permissionRequest: null as Handler | null, permissionCheck: null as Handler | null, headers: null as Handler | null,
    setPermissionRequestHandler(h: Handler) { this.permissionRequest = h; },
    setPermissionCheckHandler(h: Handler) { this.permissionCheck = h; },
    webRequest: { onHeadersReceived: (h: Handler) => { ses.headers = h; } },
  };
  const ipcMain = { handlers: new Map<string, Handler>(), handle(ch: string, fn: Handler) { this.handlers.set(ch, fn); } };
  const dialog = { showOpenDialog: async () => ({ canceled: false, filePaths: ['/picked/folder'] }) };
  const shell = { external: [] as string[], paths: [] as string[], openExternal: async (u: string) => { shell.external.push(u); }, openPath: async (p: string) => { shell.paths.push(p); return ''; } };
  class BrowserWindow extends EventEmitter {
    static windows: BrowserWindow[] = [];
    webContents = new FakeContents();
    url = '';
    minimized = true;
    focused = false;
    constructor(readonly options: { webPreferences: Record<string, unknown> }) {
      super();
      app.emit('web-contents-created', {}, this.webContents); // as Electron does for every new web contents
      BrowserWindow.windows.push(this);
    }
    async loadURL(u: string) { this.url = u; }
    isDestroyed() { return false; }
    isMinimized() { return this.minimized; }
    restore() { this.minimized = false; }
    focus() { this.focused = true; }
  }
  const electron = { app, protocol, session: { defaultSession: ses }, ipcMain, dialog, shell, BrowserWindow };
  return { ...electron, ses, asElectron: electron as unknown as ElectronMain };
}

/** A navigation-style event: records whether the app stopped it. */
const navEvent = (url: string) => ({ url, prevented: false, preventDefault() { this.prevented = true; } });

let s: ReturnType<typeof standIn>;
let service: ApiService;
let rendererDir: string;
let imageIdOf: string;
let reportFile: string;

describe('Electron shell wiring against a stand-in electron module (issue 16 #12)', () => {
  beforeAll(async () => {
    const root = tempDir('saliency-electron-');
    rendererDir = path.join(root, 'renderer');
    mkdirSync(path.join(rendererDir, 'assets'), { recursive: true });
    writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(path.join(root, 'secret.txt'), 'secret');
    const lib = path.join(root, 'lib');
    mkdirSync(lib);
    copyFileSync(path.join(REPO, 'resources/demo/samples/0033_0.png'), path.join(lib, '0033_0.png'));
    service = new ApiService({ mode: 'electron', dataDir: root, dbFile: path.join(root, 'studio.db') });
    await service.call('model.load', { spec: 'builtin:demo' });
    const opened = await service.call('library.open', { path: lib });
    await service.jobs.idle();
    imageIdOf = (await service.call('images.list', { libraryId: opened.id })).items[0].id;
    reportFile = path.join(root, 'report.html');
    writeFileSync(reportFile, '<p>report</p>');
    service.store.reports.add({ kind: 'html', path: reportFile });
    s = standIn();
    registerSchemes(s.protocol as unknown as ElectronMain['protocol']);
    await startShell(s.asElectron, { service, rendererDir, preload: '/app/preload/index.cjs' });
  }, 0);
  afterAll(() => service?.close());

  it('registers the two schemes as standard and secure, without bypassing the CSP', () => {
    expect(s.protocol.schemes.map((x) => x.scheme)).toEqual(['app', 'saliency-file']);
    for (const x of s.protocol.schemes) {
      expect(x.privileges).toMatchObject({ standard: true, secure: true });
      expect(x.privileges.bypassCSP).toBeFalsy();
    }
  });

  it('opens one sandboxed, context-isolated window on the app origin', () => {
    const [win] = s.BrowserWindow.windows;
    expect(s.BrowserWindow.windows).toHaveLength(1);
    expect(win.url).toBe(`${APP_ORIGIN}/index.html`);
    expect(win.options.webPreferences).toMatchObject({
      preload: '/app/preload/index.cjs', contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false, webSecurity: true, allowRunningInsecureContent: false, webviewTag: false, navigateOnDragDrop: false,
    });
  });

  it('keeps every web contents in the app: navigation, redirects, frame navigation and webviews are stopped', () => {
    const contents = [s.BrowserWindow.windows[0].webContents, new FakeContents()];
    s.app.emit('web-contents-created', {}, contents[1]); // any other web contents is guarded too (app-wide)
    for (const c of contents) {
      for (const ev of ['will-navigate', 'will-redirect']) {
        const bad = navEvent('https://evil.example/');
        c.emit(ev, bad, bad.url);
        expect(bad.prevented, ev).toBe(true);
        const ok = navEvent(`${APP_ORIGIN}/index.html#/library`);
        c.emit(ev, ok, ok.url);
        expect(ok.prevented, ev).toBe(false);
      }
      for (const url of ['file:///etc/passwd', 'https://evil.example/frame', 'app://studio.evil/x']) {
        const frame = navEvent(url);
        c.emit('will-frame-navigate', frame); // Electron passes one details event with .url
        expect(frame.prevented, url).toBe(true);
      }
      const webview = navEvent('');
      c.emit('will-attach-webview', webview);
      expect(webview.prevented).toBe(true);
    }
  });

  it('opens no new windows; only allowlisted https links reach the system browser, reports open by recorded id', () => {
    const open = s.BrowserWindow.windows[0].webContents.windowOpenHandler!;
    for (const url of ['https://evil.example/', 'http://github.com/x', 'javascript:alert(1)', 'file:///etc/passwd', 'https://github.com.evil.example/',
      'https://user:pw@github.com/', 'saliency-file://report/../../x', 'smb://host/share']) {
      expect(open({ url })).toEqual({ action: 'deny' });
    }
    expect(s.shell.external).toEqual([]);
    expect(open({ url: 'https://github.com/onnx/models' })).toEqual({ action: 'deny' });
    expect(s.shell.external).toEqual(['https://github.com/onnx/models']);
    const [report] = service.store.reports.list();
    expect(open({ url: `saliency-file://report/${report.id}` })).toEqual({ action: 'deny' });
    expect(open({ url: 'saliency-file://report/999999' })).toEqual({ action: 'deny' });
    expect(s.shell.paths).toEqual([reportFile]);
    expect(isAllowedExternal('https://arxiv.org/abs/1610.02391')).toBe(true);
  });

  it('grants no permission, asked or checked', () => {
    const answers: boolean[] = [];
    for (const perm of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read']) {
      s.ses.permissionRequest!(null, perm, (ok: boolean) => answers.push(ok));
      answers.push(s.ses.permissionCheck!(null, perm, APP_ORIGIN, {}));
    }
    expect(answers.every((a) => a === false)).toBe(true);
  });

  it('adds the Content-Security-Policy to every response', () => {
    let out: any;
    s.ses.headers!({ responseHeaders: { 'x-a': ['1'] } }, (r: unknown) => { out = r; });
    expect(out.responseHeaders['x-a']).toEqual(['1']);
    expect(out.responseHeaders['Content-Security-Policy'][0]).toContain("script-src 'self'");
  });

  it('answers IPC only from the app\'s own frames, validated as the HTTP API is', async () => {
    const invoke = s.ipcMain.handlers.get('saliency:invoke')!;
    const ours = { senderFrame: { url: `${APP_ORIGIN}/index.html` } };
    const info = await invoke(ours, 'app.info', {});
    expect(info.ok).toBe(true);
    expect(info.result.mode).toBe('electron');
    for (const frame of [{ senderFrame: { url: 'https://evil.example/' } }, { senderFrame: null }, { senderFrame: { url: 'app://studio.evil/' } }]) {
      expect(await invoke(frame, 'app.info', {})).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    }
    expect((await invoke(ours, 'library.delete', {})).error.code).toBe('UNKNOWN_METHOD');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic; // structured clone over IPC allows cycles
    expect((await invoke(ours, 'library.list', cyclic)).error.message).toContain('nested too deeply');
    const choose = s.ipcMain.handlers.get('saliency:choose-folder')!;
    expect(await choose(ours)).toBe('/picked/folder');
    expect(await choose({ senderFrame: { url: 'https://evil.example/' } })).toBeNull();
  });

  it('serves the renderer\'s files only from its folder', async () => {
    const app = s.protocol.handlers.get('app')!;
    const index = await app(new Request(`${APP_ORIGIN}/index.html`));
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toContain("object-src 'none'");
    for (const url of [`${APP_ORIGIN}/%2e%2e/secret.txt`, `${APP_ORIGIN}/..%2fsecret.txt`, `${APP_ORIGIN}/%E0%A4%A`, 'app://other/index.html']) {
      const r = await app(new Request(url));
      expect([403, 404], url).toContain(r.status);
      expect(await r.text()).not.toContain('secret');
    }
  });

  it('serves image bytes only to requests from the app\'s own pages', async () => {
    const files = s.protocol.handlers.get('saliency-file')!;
    const url = `saliency-file://image/${imageIdOf}`;
    const fromApp = await files(new Request(url, { headers: { referer: `${APP_ORIGIN}/index.html` } }));
    expect(fromApp.status).toBe(200);
    expect(fromApp.headers.get('content-type')).toBe('image/png');
    const withOrigin = await files(new Request(url, { headers: { origin: APP_ORIGIN } }));
    expect(withOrigin.status).toBe(200);
    for (const headers of [{}, { origin: 'https://evil.example' }, { referer: 'https://evil.example/page' }, { origin: 'null' }] as Record<string, string>[]) {
      const r = await files(new Request(url, { headers }));
      expect(r.status, JSON.stringify(headers)).toBe(403);
    }
    const bad = await files(new Request('saliency-file://image/%E0%A4%A', { headers: { origin: APP_ORIGIN } }));
    expect(bad.status).toBe(404);
  });

  it('pushes service events to the window', async () => {
    const win = s.BrowserWindow.windows[0];
    const before = win.webContents.sent.length;
    await service.call('annotations.save', { imageId: imageIdOf, boxes: [], mask: null, caption: 'c', concepts: [] });
    await service.call('library.open', { path: path.dirname(service.imagePath(imageIdOf)) });
    expect(win.webContents.sent.length).toBeGreaterThan(before);
    expect((win.webContents.sent.at(-1) as [string])[0]).toBe('saliency:event');
  });
});

describe('single instance (issue 16 #12)', () => {
  it('a second instance quits; the first focuses its window when another launch happens', () => {
    const first = standIn();
    const win = new first.BrowserWindow({ webPreferences: {} });
    expect(acquireSingleInstance(first.asElectron.app, () => win as never)).toBe(true);
    first.app.emit('second-instance');
    expect(win.minimized).toBe(false);
    expect(win.focused).toBe(true);
    const second = standIn();
    second.app.lock = false;
    expect(acquireSingleInstance(second.asElectron.app, () => null)).toBe(false);
    expect(second.app.quits).toBe(1);
  });
});

describe('desktop database (issue 16 #6)', () => {
  it('is the same file the CLI and `saliency serve` use by default', () => {
    const env = { HOME: '/home/u', XDG_DATA_HOME: '' } as NodeJS.ProcessEnv;
    expect(desktopServiceOptions(env).dbFile).toBe(resolveDbPath(undefined, env));
    expect(desktopServiceOptions({ ...env, SALIENCY_DB: '/data/x.db' })).toMatchObject({ dbFile: '/data/x.db', dataDir: '/data', mode: 'electron' });
  });
});

describe('main.ts against the stand-in (issue 16 #6, #12)', () => {
  it('takes the lock, registers the schemes before ready, opens the shared database and the guarded window', async () => {
    const db = path.join(tempDir('saliency-electron-main-'), 'shared.db');
    const s2 = standIn();
    process.env.SALIENCY_DB = db; // the default database (CLI, serve, desktop) moved to a temporary file
    const errors: unknown[] = [];
    const log = console.error;
    console.error = (...a: unknown[]) => { errors.push(a.join(' ')); };
    try {
      vi.doMock('electron', () => s2);
      await import('../../src-main/electron/main.ts');
      // main() runs on: wait for its window (the stand-in records it), i.e. on the app's progress, not a clock.
      await vi.waitFor(() => { if (!s2.BrowserWindow.windows[0]?.url) throw new Error('no window yet'); }, { timeout: 3_600_000, interval: 50 });
    } finally {
      console.error = log;
      vi.doUnmock('electron');
      delete process.env.SALIENCY_DB;
    }
    expect(s2.app.exits).toEqual([]);
    expect(s2.protocol.schemes.map((x) => x.scheme)).toEqual(['app', 'saliency-file']);
    expect(s2.app.listenerCount('second-instance')).toBe(1);
    expect(s2.app.listenerCount('web-contents-created')).toBe(1);
    expect([...s2.protocol.handlers.keys()].sort()).toEqual(['app', 'saliency-file']);
    expect([...s2.ipcMain.handlers.keys()].sort()).toEqual(['saliency:choose-folder', 'saliency:invoke']);
    expect(errors).toContain(`database: ${db}`);
    const info = await s2.ipcMain.handlers.get('saliency:invoke')!({ senderFrame: { url: `${APP_ORIGIN}/index.html` } }, 'app.info', {});
    expect(info.result.features.persistence).toBe(db);
    expect(info.result.model.spec).toBe('builtin:demo');
  }, 0);
});

describe('preload bridge', () => {
  it('exposes exactly four functions, which only relay to the two IPC channels', async () => {
    const exposed: Record<string, any> = {};
    const calls: unknown[][] = [];
    vi.doMock('electron', () => ({
      contextBridge: { exposeInMainWorld: (k: string, v: unknown) => { exposed[k] = v; } },
      ipcRenderer: { invoke: async (...a: unknown[]) => { calls.push(a); return { ok: true }; }, on: () => undefined, removeListener: () => undefined },
      webUtils: { getPathForFile: () => '/dropped' },
    }));
    await import('../../src-main/electron/preload.ts');
    expect(Object.keys(exposed)).toEqual(['saliency']);
    expect(Object.keys(exposed.saliency).sort()).toEqual(['chooseFolder', 'invoke', 'onEvent', 'pathForFile']);
    await exposed.saliency.invoke({ toString: () => 'app.info' }, { a: 1 });
    await exposed.saliency.chooseFolder();
    expect(calls).toEqual([['saliency:invoke', 'app.info', { a: 1 }], ['saliency:choose-folder']]);
    vi.doUnmock('electron');
  });
});

describe('electron-builder fuses (issue 16 #12)', () => {
  it('turns off RunAsNode, NODE_OPTIONS and --inspect, and loads only the integrity-checked asar', () => {
    const config = yaml.load(readFileSync(path.join(REPO, 'build/electron-builder.yml'), 'utf8')) as { asar: boolean; electronFuses: Record<string, boolean> };
    expect(config.asar).toBe(true);
    expect(config.electronFuses).toMatchObject({
      runAsNode: false, enableNodeOptionsEnvironmentVariable: false, enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true, enableEmbeddedAsarIntegrityValidation: true, enableCookieEncryption: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });
});
