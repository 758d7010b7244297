// Browser mode transport: HTTP + WebSocket on 127.0.0.1 only.
//   POST /api/<method>   JSON body, header "Authorization: Bearer <token>" (never the query string) -> Envelope
//   GET  /files/<thumb|image>/<imageId>?token=<token>                       -> image bytes
//   GET  /files/report/<reportId>?token=<token>                             -> an exported report
//   WS   /events?token=<token>                                              -> ApiEvent JSON messages
//   GET  /, /assets/*     the built renderer (no secrets in it; the token arrives in the URL fragment)
// Every API request needs the per-launch token; the Host header must name this server (no DNS rebinding).
// Nothing a client sends may end the process: bad URLs are 400s, WebSocket protocol errors close that socket.
import http from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { HTTP_STATUS, LIMITS, type Envelope } from './contract.ts';
import { createDispatcher, fail } from './dispatch.ts';
import { FileRoutes } from './files.ts';
import type { ApiService } from './service.ts';
import { SaliencyError } from '../engine/types.ts';

export interface ServerOptions {
  service: ApiService;
  /** Folder of the built renderer (index.html + assets). */
  rendererDir: string;
  port?: number;
  /** Fixed token (tests); a random one per launch otherwise. */
  token?: string;
}

export interface RunningServer {
  url: string;
  /** The address to open: url + "#token=...". */
  openUrl: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.json': 'application/json',
};

export function contentSecurityPolicy(connect: string): string {
  return [
    "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:",
    `connect-src 'self' ${connect}`, "object-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
  ].join('; ');
}

function sameToken(given: string | null | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A path segment's %-escapes decoded; a malformed escape is the client's mistake (400), not ours. */
export function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new SaliencyError(`the URL has a malformed %-escape: "${part.slice(0, 80)}"`, 'BAD_REQUEST');
  }
}

function parseUrl(req: http.IncomingMessage, port: number): URL {
  try {
    return new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
  } catch {
    throw new SaliencyError(`not a valid request URL: "${String(req.url).slice(0, 80)}"`, 'BAD_REQUEST');
  }
}

function sendJson(res: http.ServerResponse, env: Envelope): void {
  const status = env.ok ? 200 : (HTTP_STATUS[env.error.code] ?? (env.error.code === 'INTERNAL' ? 500 : 400));
  const body = JSON.stringify(env);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

/** Reads a body up to the limit; past it, stops reading and reports TOO_LARGE. */
function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > LIMITS.maxRequestBytes) {
      reject(new SaliencyError(`the request body is ${declared} bytes, over the ${LIMITS.maxRequestBytes}-byte limit`, 'TOO_LARGE'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > LIMITS.maxRequestBytes) {
        reject(new SaliencyError(`the request body is over the ${LIMITS.maxRequestBytes}-byte limit`, 'TOO_LARGE'));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const dispatch = createDispatcher(opts.service);
  const files = new FileRoutes(opts.service);
  const rendererDir = path.resolve(opts.rendererDir);
  let port = 0;
  let csp = contentSecurityPolicy('');

  const hostOk = (req: http.IncomingMessage) => {
    const host = req.headers.host ?? '';
    return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
  };
  const headerToken = (req: http.IncomingMessage) => {
    const auth = req.headers.authorization;
    return auth?.startsWith('Bearer ') ? auth.slice(7) : null;
  };
  // Image and report URLs go into <img src> and links, so they carry the token in the query; API calls never do
  // (a token in a URL ends up in logs and histories).
  const tokenOf = (req: http.IncomingMessage, url: URL) => headerToken(req) ?? url.searchParams.get('token');

  async function serveStatic(res: http.ServerResponse, pathname: string): Promise<void> {
    const rel = pathname === '/' ? 'index.html' : decodePathPart(pathname).replace(/^\/+/, '');
    const file = path.resolve(rendererDir, rel);
    let real: string;
    try {
      real = await realpath(file);
    } catch {
      if (rel === 'index.html') {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`The renderer is not built (no ${file}). Run: npm run build:renderer`);
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    // Only files inside the renderer folder, whatever "..", "%2e%2e" or symlinks the path holds.
    if (!real.startsWith(rendererDir + path.sep)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden');
      return;
    }
    const body = await readFile(real);
    res.writeHead(200, {
      'content-type': MIME[path.extname(real)] ?? 'application/octet-stream',
      'content-security-policy': csp, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer',
      'cache-control': rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-store',
    });
    res.end(body);
  }

  const server = http.createServer(async (req, res) => {
    try {
      if (!hostOk(req)) {
        sendJson(res, fail('FORBIDDEN', `requests must be addressed to 127.0.0.1:${port}`));
        return;
      }
      const url = parseUrl(req, port);
      if (url.pathname.startsWith('/api/')) {
        if (req.method !== 'POST') { sendJson(res, fail('BAD_REQUEST', 'API calls are POST requests with a JSON body')); return; }
        if (!sameToken(headerToken(req), token)) { sendJson(res, fail('UNAUTHORIZED', 'missing or wrong token: open the address printed by "saliency serve"')); return; }
        let payload: unknown;
        try {
          const text = await readBody(req);
          payload = text ? JSON.parse(text) : {};
        } catch (e) {
          sendJson(res, e instanceof SaliencyError ? fail(e.code, e.message) : fail('BAD_REQUEST', `the body is not valid JSON (${(e as Error).message})`));
          return;
        }
        sendJson(res, await dispatch(decodePathPart(url.pathname.slice(5)), payload));
        return;
      }
      if (url.pathname.startsWith('/files/')) {
        if (!sameToken(tokenOf(req, url), token)) { sendJson(res, fail('UNAUTHORIZED', 'missing or wrong token')); return; }
        const [, , kind, id] = url.pathname.split('/');
        try {
          const f = await files.get(kind ?? '', decodePathPart(id ?? ''));
          // A report opens in a sandboxed page: its embedded figures show, nothing in it can run or call out.
          const sandbox = kind === 'report' ? { 'content-security-policy': "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'" } : {};
          res.writeHead(200, { 'content-type': f.contentType, 'cache-control': 'private, max-age=3600', 'x-content-type-options': 'nosniff', ...sandbox });
          res.end(f.body);
        } catch (e) {
          sendJson(res, e instanceof SaliencyError ? fail(e.code, e.message) : fail('INTERNAL', (e as Error).message));
        }
        return;
      }
      if (req.method !== 'GET') { sendJson(res, fail('BAD_REQUEST', `${req.method} is not allowed here`)); return; }
      await serveStatic(res, url.pathname);
    } catch (e) {
      if (res.headersSent) res.destroy();
      else if (e instanceof SaliencyError) sendJson(res, fail(e.code, e.message));
      else {
        console.error(`${req.method} ${String(req.url).slice(0, 200)} failed:`, e);
        sendJson(res, fail('INTERNAL', (e as Error).message));
      }
    }
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const sockets = new Set<WebSocket>();
  // An 'error' event without a listener ends a Node process: every socket and the server get one. ws reports
  // oversized messages, unmasked frames and other protocol errors there (then closes the socket itself).
  wss.on('error', (e) => console.error(`WebSocket server: ${e.message}`));
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    let url: URL | null = null;
    try { url = parseUrl(req, port); } catch { /* refused below */ }
    const origin = req.headers.origin;
    const originOk = !origin || origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
    if (!url || url.pathname !== '/events' || !hostOk(req) || !originOk || !sameToken(url.searchParams.get('token'), token)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('error', () => ws.terminate());
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', () => ws.close(1008, 'events only: call the API over HTTP'));
    });
  });
  const unsubscribe = opts.service.on((event) => {
    const msg = JSON.stringify(event);
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(msg, () => undefined); // a failed send: the socket's 'error'/'close' handle it
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  csp = contentSecurityPolicy(`ws://127.0.0.1:${port} ws://localhost:${port}`);
  const url = `http://127.0.0.1:${port}/`;
  return {
    url, port, token, openUrl: `${url}#token=${token}`,
    close: async () => {
      unsubscribe();
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
