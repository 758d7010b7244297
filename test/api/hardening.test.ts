// Issue 16 regression tests against a live `saliency serve` (a child process on 127.0.0.1): WebSocket abuse
// closes the socket and never the server (#1); malformed %-escapes, deep nesting, "__proto__" keys, empty or
// all-zero weight sets, boxes past the image and a token in the query of POST /api are refused with one clear
// line and change nothing (#11); a symlink inside a library pointing outside it is never served or decoded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import WebSocket from 'ws';
import { REPO } from '../helpers/data.ts';
import { tempDir } from '../helpers/files.ts';
import { IMAGE_EXTENSIONS } from '../../src-main/engine/image/load-image.ts';
import { api, call, closed, dbDigest, jobsIdle, rawWebSocket, request, startServe, type Live } from './hardening-live.ts';

const SAMPLES = path.join(REPO, 'resources/demo/samples');

let live: Live;
let dbFile: string;
let libDir: string;

/** The server still answers a cheap call and its process has not exited. */
async function stillServing(): Promise<void> {
  expect(live.alive()).toBe(true);
  expect((await call(live, 'app.info', {})).version).toBeTruthy();
}

function imageId(relPath: string): string {
  const db = new Database(dbFile, { readonly: true });
  try {
    return String((db.prepare('SELECT id FROM images WHERE rel_path = ?').get(relPath) as { id: number }).id);
  } finally {
    db.close();
  }
}

describe('a live serve under abuse (issue 16 #1, #11)', () => {
  beforeAll(async () => {
    const root = tempDir('saliency-hardening-');
    libDir = path.join(root, 'lib');
    const outside = path.join(root, 'outside');
    mkdirSync(libDir);
    mkdirSync(outside);
    for (const f of ['0033_0.png', '0100_0.png']) copyFileSync(path.join(SAMPLES, f), path.join(libDir, f));
    copyFileSync(path.join(SAMPLES, '0167_0.png'), path.join(outside, 'secret.png'));
    symlinkSync(path.join(outside, 'secret.png'), path.join(libDir, 'escape.png'));
    const data = path.join(root, 'data');
    dbFile = path.join(data, 'studio.db');
    live = await startServe(['--model', 'builtin:demo', '--library', libDir, '--explain', 'none', '--data', data, '--quiet']);
    await jobsIdle(live);
  }, 0);
  afterAll(async () => { await live?.stop(); });

  it('closes a WebSocket that sends a message over 4,096 bytes, and lives', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${live.port}/events?token=${live.token}`);
    await new Promise((r) => ws.once('open', r));
    const code = new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)));
    ws.on('error', () => undefined);
    ws.send('x'.repeat(5000));
    expect(await code).toBe(1009); // message too big
    await stillServing();
  });

  it('closes a WebSocket that sends an unmasked frame, a reserved opcode or a truncated frame, and lives', async () => {
    const frames = [
      Buffer.concat([Buffer.from([0x81, 0x05]), Buffer.from('hello')]), // unmasked text frame (clients must mask)
      Buffer.from([0x83, 0x80, 1, 2, 3, 4]), // reserved opcode 3
      Buffer.from([0xf1, 0x80, 1, 2, 3, 4]), // RSV bits set without an extension
      Buffer.concat([Buffer.from([0x82, 0xff]), Buffer.alloc(8, 0xff)]), // a 64-bit length with the top bit set
    ];
    for (const frame of frames) {
      const sock = await rawWebSocket(live);
      const done = closed(sock);
      sock.write(frame);
      await done;
      await stillServing();
    }
    // A client that vanishes in the middle of a frame.
    const sock = await rawWebSocket(live);
    sock.write(Buffer.from([0x82, 0xfe, 0x10, 0x00, 1, 2, 3, 4, 9, 9]));
    sock.destroy();
    await stillServing();
    expect(live.stderr()).not.toMatch(/Unhandled|uncaught/i);
  });

  it('answers a malformed %-escape in any URL with 400, not 500', async () => {
    const auth = { host: `127.0.0.1:${live.port}`, authorization: `Bearer ${live.token}` };
    for (const [method, p] of [['POST', '/api/app.info%E0%A4%A'], ['POST', '/api/%zz'], ['GET', `/files/image/%E0%A4%A?token=${live.token}`],
      ['GET', `/files/thumb/%?token=${live.token}`], ['GET', '/assets/%E0%A4%A.js'], ['GET', '/%']] as const) {
      const r = await request(live, { method, path: p, headers: auth, body: method === 'POST' ? '{}' : undefined });
      expect(r.status, `${method} ${p}`).toBe(400);
      expect(r.json?.error?.message).toContain('malformed %-escape');
    }
    await stillServing();
  });

  it('says "nested too deeply" for a deeply nested body, and refuses "__proto__" keys by name', async () => {
    const before = dbDigest(dbFile);
    const deep = await api(live, 'library.list', `${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expect(deep.status).toBe(400);
    expect(deep.json?.error?.message).toBe('library.list: the request is nested too deeply (over 32 levels)');
    const objects = await api(live, 'annotations.save', `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`);
    expect(objects.json?.error?.message).toContain('nested too deeply');
    const proto = await api(live, 'ensemble.save', '{"name":"p","source":"manual","weights":{"__proto__":1,"gradcam":1}}');
    expect(proto.status).toBe(400);
    expect(proto.json?.error?.message).toContain('"__proto__" is not allowed');
    expect(dbDigest(dbFile)).toBe(before);
  });

  it('ensemble.save refuses an empty or all-zero weight set with a clear error, and saves a real one', async () => {
    const before = dbDigest(dbFile);
    for (const weights of [{}, { gradcam: 0, occlusion: 0 }]) {
      const r = await api(live, 'ensemble.save', { name: 'empty', source: 'manual', weights });
      expect(r.status).toBe(400);
      expect(r.json?.error?.message).toContain('weights: give at least one method a weight above 0');
    }
    expect(dbDigest(dbFile)).toBe(before);
    expect((await call(live, 'ensemble.list', {})).some((w: { name: string }) => w.name === 'empty')).toBe(false);
    const ok = await call(live, 'ensemble.save', { name: 'real', source: 'manual', weights: { gradcam: 2, occlusion: 0 } });
    expect(ok.name).toBe('real');
  });

  it('annotations.save refuses a box running past the image and keeps the old annotation', async () => {
    const id = imageId('0033_0.png');
    await call(live, 'annotations.save', { imageId: id, boxes: [{ x: 0.5, y: 0.5, w: 0.5, h: 0.5, label: 'edge' }], mask: null, caption: '', concepts: [] });
    const before = await call(live, 'annotations.get', { imageId: id });
    const digest = dbDigest(dbFile);
    for (const box of [{ x: 0.8, y: 0, w: 0.5, h: 0.1 }, { x: 0, y: 0.95, w: 0.1, h: 0.1 }]) {
      const r = await api(live, 'annotations.save', { imageId: id, boxes: [box], mask: null, caption: '', concepts: [] });
      expect(r.status).toBe(400);
      expect(r.json?.error?.message).toContain('boxes.0: the box runs past the image');
    }
    expect(await call(live, 'annotations.get', { imageId: id })).toEqual(before);
    expect(dbDigest(dbFile)).toBe(digest);
  });

  it('POST /api accepts the token only in the Authorization header', async () => {
    const r = await request(live, { method: 'POST', path: `/api/library.list?token=${live.token}`, headers: { host: `127.0.0.1:${live.port}`, 'content-type': 'application/json' }, body: '{}' });
    expect(r.status).toBe(401);
    expect(r.json?.error?.code).toBe('UNAUTHORIZED');
    // Image URLs (used in <img src>) still take it from the query.
    const img = await request(live, { path: `/files/image/${imageId('0033_0.png')}?token=${live.token}`, headers: { host: `127.0.0.1:${live.port}` } });
    expect(img.status).toBe(200);
  });

  it('never serves or decodes a symlink inside a library that points outside it', async () => {
    const id = imageId('escape.png');
    const db = new Database(dbFile, { readonly: true });
    const row = db.prepare('SELECT error, sha256 FROM images WHERE id = ?').get(Number(id)) as { error: string; sha256: string | null };
    db.close();
    expect(row).toEqual({ error: 'links to a file outside the library: not read', sha256: null }); // the scan never read it
    for (const kind of ['image', 'thumb']) {
      const r = await request(live, { path: `/files/${kind}/${id}?token=${live.token}`, headers: { host: `127.0.0.1:${live.port}` } });
      expect(r.status, kind).toBe(403);
      expect(r.json?.error?.code).toBe('PATH_OUTSIDE_LIBRARY');
      expect(r.json?.error?.message).toContain('outside its library');
    }
    const get = await api(live, 'image.get', { imageId: id });
    expect(get.status).toBe(403);
    expect(get.json?.error?.code).toBe('PATH_OUTSIDE_LIBRARY');
    const open = await api(live, 'image.open', { path: path.join(libDir, 'escape.png') });
    expect(open.json?.error?.code).toBe('PATH_OUTSIDE_LIBRARY');
    await stillServing();
  });
});

describe('image formats (issue 16 #11: BMP)', () => {
  it('advertises only formats the decoder can read', async () => {
    const FORMAT: Record<string, string> = { '.jpg': 'jpeg', '.jpeg': 'jpeg', '.png': 'png', '.webp': 'webp', '.tif': 'tiff', '.tiff': 'tiff', '.gif': 'gif', '.avif': 'heif', '.bmp': 'bmp' };
    for (const ext of IMAGE_EXTENSIONS) {
      const format = (sharp.format as unknown as Record<string, { input: { buffer: boolean } } | undefined>)[FORMAT[ext] ?? ext.slice(1)];
      expect(format?.input.buffer, `${ext} is advertised but sharp cannot decode it`).toBe(true);
    }
  });
});
