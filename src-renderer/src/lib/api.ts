// The API client for this window: IPC in Electron, HTTP/WebSocket in browser mode.
import { browserTransport, createClient, electronTransport, type PreloadBridge } from '../../../src-main/api/client.ts';

export const bridge = (window as unknown as { saliency?: PreloadBridge }).saliency ?? null;

function browserToken(): string {
  // The token arrives in the URL fragment (never sent to a server); keep it for reloads, then hide it.
  const m = /token=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem('saliency-token', m[1]);
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem('saliency-token') ?? '';
}

export const api = createClient(bridge ? electronTransport(bridge) : browserTransport(location.origin, browserToken()));
export { ApiError } from '../../../src-main/api/client.ts';
