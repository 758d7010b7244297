// A local HTTP server on 127.0.0.1 that replays queued answers (OpenAI-format fixtures) and records requests.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), 'utf8');

export interface Reply { status?: number; body: string; delayMs?: number }
export interface Recorded { url: string; headers: http.IncomingHttpHeaders; body: any }

export class ReplayServer {
  readonly requests: Recorded[] = [];
  private queue: (Reply | ((body: any) => Reply))[] = [];
  private server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      this.requests.push({ url: req.url ?? '', headers: req.headers, body: raw ? JSON.parse(raw) : null });
      const next = this.queue.shift() ?? { status: 500, body: '{"error":"no reply queued"}' };
      const reply = typeof next === 'function' ? next(this.requests[this.requests.length - 1].body) : next;
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
        res.end(reply.body);
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });

  static async start(): Promise<ReplayServer> {
    const s = new ReplayServer();
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    return s;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** Queues answers, each a fixed reply or one computed from the request body. */
  reply(...replies: (Reply | ((body: any) => Reply))[]): void {
    this.queue.push(...replies);
  }

  reset(): void {
    this.queue = [];
    this.requests.length = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A port on 127.0.0.1 with nothing listening (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
