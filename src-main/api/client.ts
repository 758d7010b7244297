// The renderer's typed client of the API. One interface, two transports: fetch + WebSocket against
// `saliency serve` (browser mode), or `window.saliency` exposed by the Electron preload (IPC).
// Type-only imports from the contract: the renderer does not need zod at run time.
import type { ApiEvent, Envelope, MethodName, Req, Res } from './contract.ts';

export interface Transport {
  invoke(method: string, payload: unknown): Promise<Envelope>;
  /** Subscribes to server events; returns the unsubscribe function. */
  subscribe(listener: (e: ApiEvent) => void): () => void;
  /** URL of an image's bytes: kind "thumb" or "image". */
  fileUrl(kind: 'thumb' | 'image' | 'report', id: string): string;
}

/** What the Electron preload exposes on window.saliency (nothing else of Node reaches the renderer). */
export interface PreloadBridge {
  invoke(method: string, payload: unknown): Promise<Envelope>;
  onEvent(listener: (e: ApiEvent) => void): () => void;
  /** Absolute path of a dropped file (Electron's webUtils), or '' in other contexts. */
  pathForFile(file: File): string;
  /** Native folder picker (Electron only); null when cancelled. */
  chooseFolder(): Promise<string | null>;
}

export class ApiError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiClient {
  call<M extends MethodName>(method: M, req: Req<M>): Promise<Res<M>>;
  on(listener: (e: ApiEvent) => void): () => void;
  fileUrl(kind: 'thumb' | 'image' | 'report', id: string): string;
}

export function createClient(t: Transport): ApiClient {
  return {
    async call(method, req) {
      const env = await t.invoke(method, req);
      if (!env.ok) throw new ApiError(env.error.code, env.error.message);
      return env.result as never;
    },
    on: (l) => t.subscribe(l),
    fileUrl: (k, id) => t.fileUrl(k, id),
  };
}

/** Browser mode: same origin as the page, token from the page's URL fragment. */
export function browserTransport(origin: string, token: string): Transport {
  const listeners = new Set<(e: ApiEvent) => void>();
  let ws: WebSocket | null = null;
  let retry = 500;
  const connect = () => {
    ws = new WebSocket(`${origin.replace(/^http/, 'ws')}/events?token=${encodeURIComponent(token)}`);
    ws.onmessage = (m) => {
      let e: ApiEvent;
      try { e = JSON.parse(String(m.data)) as ApiEvent; } catch { return; }
      for (const l of listeners) l(e);
    };
    ws.onopen = () => { retry = 500; };
    ws.onclose = () => { ws = null; setTimeout(connect, retry); retry = Math.min(retry * 2, 10_000); };
  };
  return {
    async invoke(method, payload) {
      let res: Response;
      try {
        res = await fetch(`${origin}/api/${encodeURIComponent(method)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(payload ?? {}),
        });
      } catch (e) {
        return { ok: false, error: { code: 'OFFLINE', message: `the server does not answer (${(e as Error).message}); is "saliency serve" still running?` } };
      }
      try {
        return (await res.json()) as Envelope;
      } catch {
        return { ok: false, error: { code: 'BAD_REPLY', message: `the server replied ${res.status} without JSON` } };
      }
    },
    subscribe(l) {
      listeners.add(l);
      if (!ws) connect();
      return () => listeners.delete(l);
    },
    fileUrl: (kind, id) => `${origin}/files/${kind}/${encodeURIComponent(id)}?token=${encodeURIComponent(token)}`,
  };
}

/** Electron: IPC through the preload bridge; image bytes through the saliency-file: protocol. */
export function electronTransport(bridge: PreloadBridge): Transport {
  return {
    invoke: (method, payload) => bridge.invoke(method, payload),
    subscribe: (l) => bridge.onEvent(l),
    fileUrl: (kind, id) => `saliency-file://${kind}/${encodeURIComponent(id)}`,
  };
}
