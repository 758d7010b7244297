// The HTTP/WebSocket transport against a real ApiService: malformed requests are refused with clear errors and
// change nothing; the token, the Host header, the size limit and the library boundary are enforced.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { ApiService } from '../../src-main/api/service.ts';
import { startServer, type RunningServer } from '../../src-main/api/server.ts';
import { LIMITS } from '../../src-main/api/contract.ts';
import { HAS_DATA, MODELS, model, sample } from '../helpers/data.ts';

let server: RunningServer;
let service: ApiService;
let libDir: string;
let outside: string;
let libraryId: string;

async function post(method: string, body: string | object, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}api/${method}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() as { ok: boolean; result?: any; error?: { code: string; message: string } } };
}

/** Raw request, for headers fetch will not let us set (Host) and paths it would normalise (".."). */
function raw(pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path: pathname, method: 'GET', headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!HAS_DATA)('API transport: validation, token, limits, library boundary', () => {
  beforeAll(async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'saliency-api-'));
    libDir = path.join(root, 'lib');
    outside = path.join(root, 'outside');
    mkdirSync(libDir);
    mkdirSync(outside);
    copyFileSync(sample('n01440764_tench.JPEG'), path.join(libDir, 'n01440764_tench.JPEG'));
    copyFileSync(sample('n01440764_tench.JPEG'), path.join(outside, 'secret.JPEG'));
    const renderer = path.join(root, 'renderer');
    mkdirSync(renderer);
    writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>t</title>');
    service = new ApiService({ dataDir: root, model: model(MODELS.mobilenet) });
    await service.init();
    server = await startServer({ service, rendererDir: renderer });
    const opened = await post('library.open', { path: libDir });
    expect(opened.body.ok).toBe(true);
    libraryId = opened.body.result.id;
    await service.jobs.idle();
  });

  afterAll(async () => { await server?.close(); service?.close(); });

  it('answers a well-formed request', async () => {
    const r = await post('images.list', { libraryId });
    expect(r.status).toBe(200);
    expect(r.body.result.total).toBe(1);
    expect(r.body.result.items[0].predicted.label).toBe('tench');
  });

  it('refuses a missing or wrong token with 401 and runs nothing', async () => {
    const missing = await post('library.open', { path: outside }, { authorization: '' });
    expect(missing.status).toBe(401);
    expect(missing.body.error!.code).toBe('UNAUTHORIZED');
    const wrong = await post('library.open', { path: outside }, { authorization: `Bearer ${server.token}x` });
    expect(wrong.status).toBe(401);
    expect((await post('library.list', {})).body.result).toHaveLength(1);
    expect((await raw(`/files/thumb/x`)).status).toBe(401);
  });

  it('refuses wrong types naming the field, and changes nothing', async () => {
    const before = (await post('annotations.get', { imageId: (await post('images.list', { libraryId })).body.result.items[0].id })).body.result;
    const r = await post('annotations.save', { imageId: before.imageId, boxes: [{ x: 'left', y: 0, w: 2, h: 0.1 }], mask: null, caption: '', concepts: [] });
    expect(r.status).toBe(400);
    expect(r.body.error!.code).toBe('BAD_REQUEST');
    expect(r.body.error!.message).toContain('boxes.0.x');
    expect(r.body.error!.message).toContain('boxes.0.w');
    const after = (await post('annotations.get', { imageId: before.imageId })).body.result;
    expect(after).toEqual(before);

    const extra = await post('ratings.likert', { explanationId: 'exp-1', rater: 'r', score: 9, blind: false, admin: true });
    expect(extra.status).toBe(400);
    expect(extra.body.error!.message).toMatch(/score/);
    expect(extra.body.error!.message).toMatch(/admin/);
    const badJson = await post('library.list', '{"oops":');
    expect(badJson.status).toBe(400);
    expect(badJson.body.error!.message).toContain('not valid JSON');
    const unknown = await post('library.delete', {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.error!.message).toContain('unknown API method');
  });

  it('refuses a payload over the size limit with 413 before reading it all', async () => {
    const huge = JSON.stringify({ imageId: 'img-x', boxes: [], mask: null, caption: 'x'.repeat(LIMITS.maxRequestBytes + 10), concepts: [] });
    const r = await post('annotations.save', huge);
    expect(r.status).toBe(413);
    expect(r.body.error!.code).toBe('TOO_LARGE');
    expect(r.body.error!.message).toContain(`${LIMITS.maxRequestBytes}-byte limit`);
  });

  it('refuses paths outside every registered library, including ../ traversal', async () => {
    for (const p of [path.join(outside, 'secret.JPEG'), path.join(libDir, '..', 'outside', 'secret.JPEG'), '/etc/passwd']) {
      const r = await post('image.open', { path: p });
      expect(r.status).toBe(403);
      expect(r.body.error!.code).toBe('PATH_OUTSIDE_LIBRARY');
      expect(r.body.error!.message).toContain('outside every registered library');
    }
    const inside = await post('image.open', { path: path.join(libDir, 'n01440764_tench.JPEG') });
    expect(inside.body.ok).toBe(true);
    // Static files: only inside the renderer folder.
    for (const p of ['/../../../../etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/assets/..%2f..%2f..%2fetc%2fpasswd']) {
      const r = await raw(p);
      expect(r.status === 403 || r.status === 404).toBe(true);
      expect(r.text).not.toContain('root:');
    }
    // Files are served by image id only.
    const f = await raw(`/files/image/${encodeURIComponent('../../etc/passwd')}?token=${server.token}`);
    expect(f.status).toBe(400);
  });

  it('serves the renderer with a strict Content-Security-Policy (no inline or remote scripts)', async () => {
    const r = await raw('/');
    expect(r.status).toBe(200);
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${server.port}`);
    expect(csp).not.toMatch(/script-src[^;]*(unsafe|\*)/);
  });

  it('refuses requests addressed to another host name (DNS rebinding)', async () => {
    const r = await raw(`/files/thumb/x?token=${server.token}`, { host: `evil.example:${server.port}` });
    expect(r.status).toBe(403);
  });

  it('pushes job events over the WebSocket only with the token', async () => {
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/events`);
      ws.on('open', () => resolve('open'));
      ws.on('error', (e) => resolve(e.message));
    });
    expect(refused).toContain('401');
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/events?token=${server.token}`);
    await new Promise((r) => ws.on('open', r));
    const events: any[] = [];
    ws.on('message', (m) => events.push(JSON.parse(String(m))));
    const image = (await post('images.list', { libraryId })).body.result.items[0];
    const job = await post('jobs.start', { imageIds: [image.id], methods: ['gradcam'] });
    expect(job.body.ok).toBe(true);
    await service.jobs.idle();
    // The event is already on its way when the queue is idle: wait for it as long as it takes (1 s by default).
    await expect.poll(() => events.some((e) => e.type === 'job' && e.job.id === job.body.result.id && e.job.state === 'done'), { timeout: 3_600_000 }).toBe(true);
    ws.close();
    const detail = await post('image.get', { imageId: image.id });
    expect(detail.body.result.explanations.map((e: { method: string }) => e.method)).toEqual(['gradcam']);
    const map = await post('map.get', { explanationId: detail.body.result.explanations[0].id, maxSide: 64 });
    expect(Math.max(map.body.result.width, map.body.result.height)).toBe(64);
  });

  it('refuses unknown methods, out-of-range targets and cross-image comparisons with clear errors', async () => {
    const image = (await post('images.list', { libraryId })).body.result.items[0];
    const unknown = await post('jobs.start', { imageIds: [image.id], methods: ['magic'] });
    expect(unknown.body.error!.message).toContain('known methods: gradcam');
    const target = await post('jobs.start', { imageIds: [image.id], methods: ['gradcam'], target: { classIndex: 5000, score: 'logit' } });
    expect(target.body.error!.message).toContain('out of range');
    const both = await post('jobs.start', { imageIds: [image.id], libraryId, methods: ['gradcam'] });
    expect(both.body.error!.message).toContain('exactly one of libraryId or imageIds');
    expect((await post('jobs.list', {})).body.result.filter((j: { label: string }) => j.label.startsWith('gradcam'))).toHaveLength(1);
  });
});
