// A live `saliency serve` child process for the hardening, fuzz and soak runs: started with a chosen environment
// (to test the default database), with raw HTTP helpers for requests fetch would normalise or refuse.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import http from 'node:http';
import path from 'node:path';
import { REPO } from '../helpers/data.ts';

export interface Live {
  url: string;
  port: number;
  token: string;
  proc: ChildProcess;
  stderr(): string;
  alive(): boolean;
  stop(): Promise<void>;
}

/** Starts `saliency serve <args>` and resolves once it prints its address (no clock: it waits on the output). */
export async function startServe(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Live> {
  const token = `t${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const proc = spawn(process.execPath, [path.join(REPO, 'bin/saliency.js'), 'serve', ...args], {
    cwd: REPO, env: { ...env, SALIENCY_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d) => { err += d; });
  const openUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /Saliency Studio: (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`saliency serve exited with ${code}:\n${err}`)));
  });
  const url = openUrl.split('#')[0].replace(/\/$/, '');
  return {
    url, token, proc, port: Number(new URL(url).port),
    stderr: () => err,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    stop: () => new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) { resolve(); return; }
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    }),
  };
}

export interface Reply { status: number; text: string; json: { ok: boolean; result?: any; error?: { code: string; message: string } } | null }

/** One raw HTTP request (any method, path, headers and body; nothing normalised). */
export function request(live: Pick<Live, 'port'>, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: live.port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Reply['json'] = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode!, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** POST /api/<method> with the token in the header. */
export function api(live: Pick<Live, 'port' | 'token'>, method: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return request(live, {
    method: 'POST', path: `/api/${method}`, body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { host: `127.0.0.1:${live.port}`, authorization: `Bearer ${live.token}`, 'content-type': 'application/json', ...headers },
  });
}

/** The result of a call that must succeed. */
export async function call<T = any>(live: Pick<Live, 'port' | 'token'>, method: string, body: unknown): Promise<T> {
  const r = await api(live, method, body);
  if (!r.json?.ok) throw new Error(`${method}: ${r.status} ${r.text.slice(0, 300)}`);
  return r.json.result as T;
}

/** Waits until the app's job queue has nothing queued or running (polls the API; no clock limit of its own). */
export async function jobsIdle(live: Pick<Live, 'port' | 'token'>): Promise<void> {
  for (;;) {
    const jobs = await call<{ state: string }[]>(live, 'jobs.list', {});
    if (!jobs.some((j) => j.state === 'queued' || j.state === 'running')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A digest of every row of every table of a database (read-only), to show a request changed nothing. */
export function dbDigest(file: string): string {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const h = createHash('sha256');
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[];
    for (const { name } of tables) {
      h.update(`\u0000table ${name}\u0000`);
      for (const row of db.prepare(`SELECT * FROM "${name.replace(/"/g, '""')}"`).raw().iterate() as Iterable<unknown[]>) {
        h.update(JSON.stringify(row, (_k, v) => (Buffer.isBuffer(v) ? v.toString('hex') : typeof v === 'bigint' ? String(v) : v)));
      }
    }
    return h.digest('hex');
  } finally {
    db.close();
  }
}

export interface EventWatch {
  /** Resolves with the first event (already seen or to come) that satisfies pred. */
  waitFor<T = any>(pred: (e: any) => boolean, what: string): Promise<T>;
  close(): void;
}

/** The server's events over its WebSocket. Waits end on progress, not on a clock: a wait fails only when no event
 * at all has arrived for `stallMs` (the work has stopped moving), however long the whole run takes. */
export async function watchEvents(live: Pick<Live, 'port' | 'token'>, stallMs = 10 * 60_000): Promise<EventWatch> {
  const ws = new WebSocket(`ws://127.0.0.1:${live.port}/events?token=${live.token}`);
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  const seen: unknown[] = [];
  const waiters = new Set<{ pred: (e: any) => boolean; resolve(e: unknown): void }>();
  let lastEvent = Date.now();
  ws.on('message', (m) => {
    const e = JSON.parse(String(m));
    lastEvent = Date.now();
    seen.push(e);
    for (const w of waiters) if (w.pred(e)) { waiters.delete(w); w.resolve(e); }
  });
  return {
    waitFor: (pred, what) => {
      const hit = seen.find(pred);
      if (hit) return Promise.resolve(hit as never);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve: (e: unknown) => { clearInterval(stall); resolve(e as never); } };
        waiters.add(w);
        const stall = setInterval(() => {
          if (Date.now() - lastEvent < stallMs) return;
          clearInterval(stall);
          waiters.delete(w);
          reject(new Error(`waiting for ${what}: no event from the server for ${stallMs / 1000} s`));
        }, 1000);
      });
    },
    close: () => ws.close(),
  };
}

/** A raw TCP connection that has completed the WebSocket handshake on /events (to send any bytes at all). */
export async function rawWebSocket(live: Pick<Live, 'port' | 'token'>): Promise<net.Socket> {
  const sock = net.connect(live.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  sock.write([`GET /events?token=${live.token} HTTP/1.1`, `Host: 127.0.0.1:${live.port}`, 'Upgrade: websocket', 'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13', '', ''].join('\r\n'));
  const head = await new Promise<string>((resolve) => sock.once('data', (d) => resolve(String(d))));
  if (!/^HTTP\/1\.1 101/.test(head)) throw new Error(`no WebSocket handshake: ${head.slice(0, 100)}`);
  return sock;
}

/** Resolves when the server has closed the socket (or reset it). */
export const closed = (sock: net.Socket) => new Promise<void>((resolve) => { sock.on('error', () => undefined); sock.once('close', () => resolve()); });
