// Issue 16: a seeded fuzz of the HTTP API against a live `saliency serve` on 127.0.0.1 (a child process).
// 1,200 requests: valid calls of every method with their payloads mutated (types, ranges, keys, ids, sizes,
// "__proto__", nesting, broken JSON and UTF-8), random methods and bodies, wrong verbs, tokens, hosts, paths and
// %-escapes, file routes with random ids. Must hold: no 500 (or INTERNAL) ever, the server never exits, and no
// refused request changes a byte of the stored data (a digest of every table before and after it).
// Seeded: FUZZ_SEED=<n> reproduces a run; FUZZ_REQUESTS=<n> sets the count.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from '../helpers/data.ts';
import { tempDir } from '../helpers/files.ts';
import { API } from '../../src-main/api/contract.ts';
import { EXPLAINER_NAMES } from '../../src-main/engine/explain/registry.ts';
import { call, closed, dbDigest, jobsIdle, rawWebSocket, request, startServe, type Live, type Reply } from './hardening-live.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const COUNT = Number(process.env.FUZZ_REQUESTS ?? 1200);

/** mulberry32: small, seeded, good enough to pick mutations. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof rng>;

let live: Live;
let root: string;
let dbFile: string;
const ids = { library: '', images: [] as string[], explanations: [] as string[], jobs: [] as string[] };

/** A valid request of each method (from the ids of the fixture), the starting point of mutations. */
function valid(method: string, r: Rng): Record<string, unknown> {
  const image = r.pick(ids.images);
  const expl = r.pick(ids.explanations);
  const lib = ids.library;
  const table: Record<string, () => Record<string, unknown>> = {
    'model.load': () => ({ spec: r.pick(['builtin:demo', 'builtin:known-evidence', 'builtin:demo']) }),
    'library.open': () => ({ path: path.join(root, 'lib') }),
    'images.list': () => ({ libraryId: lib, offset: r.int(4), limit: 1 + r.int(50), filter: r.pick([{}, { text: 'png' }, { method: 'gradcam' }, { correct: 'yes' }, { predictedClass: r.int(10) }, { rated: true }]) }),
    'image.get': () => ({ imageId: image }),
    'image.open': () => ({ path: path.join(root, 'lib', '0033_0.png') }),
    'map.get': () => ({ explanationId: expl, maxSide: 16 + r.int(200) }),
    'jobs.start': () => (r.chance(0.5) ? { imageIds: [image], methods: [r.pick(['gradcam', 'occlusion', 'saliency'])], seed: r.int(5) } : { libraryId: lib, methods: ['gradcam'] }),
    'jobs.pause': () => ({ jobId: r.pick([...ids.jobs, 'job-x']) }),
    'jobs.resume': () => ({ jobId: r.pick([...ids.jobs, 'job-x']) }),
    'jobs.cancel': () => ({ jobId: r.pick([...ids.jobs, 'job-x']) }),
    'ratings.queue': () => ({ libraryId: lib, rater: 'fuzz', mode: r.pick(['likert', 'pairwise']), blind: r.chance(0.5), seed: r.int(9), limit: 1 + r.int(20) }),
    'ratings.likert': () => ({ explanationId: expl, rater: 'fuzz', score: 1 + r.int(5), blind: r.chance(0.5) }),
    'ratings.pairwise': () => ({ a: ids.explanations[0], b: ids.explanations[1], winner: r.pick(['a', 'b', 'tie']), rater: 'fuzz', blind: false }),
    'ratings.summary': () => ({ libraryId: lib }),
    'ratings.undo': () => ({ rater: 'fuzz', mode: r.pick(['likert', 'pairwise']) }),
    'annotations.get': () => ({ imageId: image }),
    'annotations.save': () => ({ imageId: image, boxes: [{ x: 0.1, y: 0.2, w: 0.3, h: 0.4, label: 'digit' }], mask: { width: 2, height: 2, runs: [1, 2, 1] }, caption: 'a digit', concepts: ['stroke'], author: 'fuzz' }),
    'ensemble.derive': () => ({ source: r.pick(['manual', 'likert', 'bradley-terry']), manual: { gradcam: 1, occlusion: 2 }, libraryId: lib }),
    'ensemble.preview': () => ({ imageId: image, weights: { gradcam: 1, occlusion: 1 }, maxSide: 32 }),
    'ensemble.save': () => ({ name: `w${r.int(5)}`, weights: { gradcam: 1, occlusion: r.int(3) }, source: 'manual' }),
    'metrics.curves': () => ({ explanationIds: [expl], steps: 4 + r.int(8) }),
    'metrics.list': () => ({ explanationIds: [expl] }),
    'concepts.image': () => ({ imageId: image }),
    'reports.export': () => ({ libraryId: lib, format: r.pick(['json', 'csv', 'html']) }),
    'study.summary': () => ({ libraryId: lib }),
    'study.estimate': () => ({ libraryId: lib, methods: ['gradcam'] }),
  };
  return (table[method] ?? (() => ({})))();
}

const WEIRD: unknown[] = [null, true, false, 0, -1, 1.5, -0, 1e308, -1e308, 2 ** 53 + 1, 4294967297, '', ' ', '0', '-1', '1e3', ' 1', 'NaN', 'null',
  '../../etc/passwd', '/etc/passwd', '%00', '\u0000', 'é😀\u202e', 'x'.repeat(5000), [], [[]], {}, { a: 1 }, 'builtin:../../x', 'img-1', '999999999999',
  'a'.repeat(129), 'javascript:alert(1)', '<script>', '\ud800'];
const KEYS = ['__proto__', 'constructor', 'prototype', 'admin', '', 'x'.repeat(300), 'imageId', 'libraryId', 'path', 'toString'];

/** One random structural mutation of a JSON value. */
function mutate(v: unknown, r: Rng, depth = 0): unknown {
  if (depth > 3 || v === null || typeof v !== 'object' || r.chance(0.25)) {
    const op = r.int(6);
    if (op === 0) return r.pick(WEIRD);
    if (op === 1 && typeof v === 'number') return r.pick([v * -1, v + 1e9, v + 0.5, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]);
    if (op === 2 && typeof v === 'string') return r.pick([v + r.pick(['/..', '\u0000', ' ', '%', 'é']), v.slice(1), v.toUpperCase(), v.repeat(50)]);
    if (op === 3) return [v, v];
    if (op === 4) return { value: v };
    return r.pick(WEIRD);
  }
  if (Array.isArray(v)) {
    const a = [...v];
    const op = r.int(4);
    if (op === 0 && a.length) a.splice(r.int(a.length), 1);
    else if (op === 1) a.push(...Array(1 + r.int(300)).fill(a[0] ?? r.pick(WEIRD)));
    else if (a.length) a[r.int(a.length)] = mutate(a[r.int(a.length)], r, depth + 1);
    else a.push(r.pick(WEIRD));
    return a;
  }
  const o: Record<string, unknown> = { ...(v as Record<string, unknown>) };
  const keys = Object.keys(o);
  const op = r.int(4);
  if (op === 0 && keys.length) delete o[r.pick(keys)];
  else if (op === 1) Object.defineProperty(o, r.pick(KEYS), { value: r.pick(WEIRD), enumerable: true, configurable: true, writable: true });
  else if (keys.length) { const k = r.pick(keys); o[k] = mutate(o[k], r, depth + 1); }
  return o;
}

function randomJson(r: Rng, depth = 0): unknown {
  const kind = r.int(depth > 3 ? 3 : 6);
  if (kind === 0) return r.pick(WEIRD);
  if (kind === 1) return r.next() * 1e6 - 5e5;
  if (kind === 2) return Array.from({ length: r.int(20) }, () => String.fromCharCode(32 + r.int(95))).join('');
  if (kind === 3) return Array.from({ length: r.int(5) }, () => randomJson(r, depth + 1));
  return Object.fromEntries(Array.from({ length: r.int(5) }, () => [r.pick([...KEYS, 'a', 'b', 'imageId']), randomJson(r, depth + 1)]));
}

/** Raw corruption of a JSON text: truncation, a flipped byte, invalid UTF-8, deep nesting, trailing garbage. */
function corrupt(text: string, r: Rng): string | Buffer {
  const op = r.int(6);
  if (op === 0) return text.slice(0, r.int(text.length));
  if (op === 1) { const b = Buffer.from(text); if (b.length) b[r.int(b.length)] ^= 1 << r.int(8); return b; }
  if (op === 2) return Buffer.concat([Buffer.from(text.slice(0, -1)), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('}')]);
  if (op === 3) return `${'['.repeat(2000 + r.int(50_000))}${']'.repeat(2000)}`;
  if (op === 4) return `${text}${text}`;
  return r.pick(['', 'null', '[]', '"x"', '1', 'true', '{"a":1,"a":2}', '{"__proto__":{"x":1}}', '\ufeff{}']);
}

/** Any string in the payload that names an existing path outside the fuzz folder (".", "/", the repo...) is
 * replaced: the fuzz must not open the machine's folders as libraries. */
function confine(v: unknown): unknown {
  if (typeof v === 'string') {
    const abs = path.resolve(REPO, v);
    return v.length < 4096 && existsSync(abs) && !abs.startsWith(root + path.sep) ? path.join(root, 'missing', v.replace(/[^a-z0-9]/gi, '_').slice(0, 50)) : v;
  }
  if (Array.isArray(v)) return v.map(confine);
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(o, k, { value: confine(x), enumerable: true, configurable: true, writable: true });
    return o;
  }
  return v;
}

/** One random WebSocket frame: any FIN/RSV/opcode, masked or not, any declared length (7, 16 or 64 bits), with a
 * payload that may be shorter than declared. */
function randomFrame(r: Rng): Buffer {
  const opcode = r.chance(0.6) ? r.pick([0x1, 0x2, 0x8, 0x9, 0xa]) : r.int(16);
  const b0 = (r.chance(0.8) ? 0x80 : 0) | (r.chance(0.1) ? r.int(8) << 4 : 0) | opcode;
  const masked = r.chance(0.85);
  const declared = r.pick([r.int(126), 126 + r.int(6000), r.pick([0, 4096, 4097, 65535, 2 ** 31, 2 ** 53])]);
  const header: number[] = [b0];
  if (declared < 126) header.push((masked ? 0x80 : 0) | declared);
  else if (declared < 65536 && r.chance(0.7)) header.push((masked ? 0x80 : 0) | 126, declared >> 8, declared & 0xff);
  else {
    const len = Buffer.alloc(8);
    len.writeBigUInt64BE(BigInt(declared));
    header.push((masked ? 0x80 : 0) | 127, ...len);
  }
  if (masked) header.push(r.int(256), r.int(256), r.int(256), r.int(256));
  const payload = Buffer.alloc(Math.min(declared, r.chance(0.7) ? declared : r.int(declared + 1), 6000));
  for (let i = 0; i < payload.length; i++) payload[i] = r.int(256);
  return Buffer.concat([Buffer.from(header), payload]);
}

interface Planned { label: string; method: string; path: string; headers: Record<string, string>; body?: string | Buffer }

function plan(r: Rng): Planned {
  const methods = Object.keys(API);
  const host = `127.0.0.1:${live.port}`;
  const headers: Record<string, string> = { host, authorization: `Bearer ${live.token}`, 'content-type': 'application/json' };
  const roll = r.next();
  if (roll < 0.62) {
    // A valid call, mutated 0-3 times.
    const m = r.pick(methods);
    let payload: unknown = valid(m, r);
    for (let i = r.int(4); i > 0; i--) payload = mutate(payload, r);
    const text = JSON.stringify(confine(payload));
    const body = r.chance(0.1) ? corrupt(text, r) : text;
    return { label: `${m} ${typeof body === 'string' ? body.slice(0, 160) : `<${body.length} bytes>`}`, method: 'POST', path: `/api/${m}`, headers, body };
  }
  if (roll < 0.72) {
    const m = r.chance(0.5) ? r.pick(methods) : r.pick(['', 'app', 'app.info.x', 'APP.INFO', '__proto__', 'constructor', 'toString', '../app.info', 'a'.repeat(300)]);
    const body = JSON.stringify(confine(randomJson(r)) ?? null);
    return { label: `${m} random ${body.slice(0, 120)}`, method: 'POST', path: `/api/${encodeURIComponent(m)}`, headers, body };
  }
  if (roll < 0.82) {
    // The envelope around a valid call: verb, token, host, content type, path.
    const m = r.pick(methods);
    const body = JSON.stringify(valid(m, r));
    const h = { ...headers };
    const op = r.int(7);
    let verb = 'POST';
    let p = `/api/${m}`;
    if (op === 0) verb = r.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
    else if (op === 1) delete h.authorization;
    else if (op === 2) { delete h.authorization; p += `?token=${live.token}`; }
    else if (op === 3) h.authorization = r.pick([`Bearer ${live.token}x`, `bearer ${live.token}`, live.token, 'Bearer ', `Basic ${live.token}`]);
    else if (op === 4) h.host = r.pick([`evil.example:${live.port}`, 'localhost', `127.0.0.1:${live.port + 1}`, '[::1]']);
    else if (op === 5) h['content-type'] = r.pick(['text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded']);
    else p = r.pick([`/api/${m}/x`, `/api/${m}%`, `/api/%E0%A4%A`, `/api//${m}`, `/api/${m}?x=%zz`, '/api', '/api/']);
    return { label: `${verb} ${p} (${op})`, method: verb, path: p, headers: h, body: verb === 'GET' ? undefined : body };
  }
  // File routes and static files.
  const kind = r.pick(['image', 'thumb', 'report', 'x', '', '..']);
  const id = r.pick([...ids.images, '0', '-1', '999999', 'a/b', '%2e%2e', '%zz', '..%2f..%2fetc%2fpasswd', 'x'.repeat(200), '1e3', '']);
  const token = r.chance(0.85) ? `?token=${live.token}` : r.pick(['', '?token=', `?token=${live.token}&token=x`]);
  const p = r.chance(0.7) ? `/files/${kind}/${id}${token}` : r.pick(['/', '/index.html', '/assets/x.js', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc/passwd', '/%', '/assets/%E0%A4%A', '//', `/${'a/'.repeat(200)}`]);
  return { label: `GET ${p}`, method: r.pick(['GET', 'GET', 'GET', 'HEAD', 'POST']), path: p, headers: { host: `127.0.0.1:${live.port}` } };
}

describe('HTTP API fuzz against a live serve (issue 16)', () => {
  beforeAll(async () => {
    root = tempDir('saliency-fuzz-');
    const lib = path.join(root, 'lib');
    mkdirSync(lib);
    for (const f of ['0033_0.png', '0100_0.png', '0167_0.png']) copyFileSync(path.join(REPO, 'resources/demo/samples', f), path.join(lib, f));
    writeFileSync(path.join(root, 'notes.txt'), 'not a folder');
    const data = path.join(root, 'data');
    dbFile = path.join(data, 'studio.db');
    live = await startServe(['--model', 'builtin:demo', '--library', lib, '--explain', 'gradcam,occlusion', '--data', data, '--quiet']);
    await jobsIdle(live);
    const [library] = await call<{ id: string }[]>(live, 'library.list', {});
    ids.library = library.id;
    const page = await call<{ items: { id: string }[] }>(live, 'images.list', { libraryId: library.id });
    ids.images = page.items.map((i) => i.id);
    for (const id of ids.images) {
      const d = await call<{ explanations: { id: string }[] }>(live, 'image.get', { imageId: id });
      ids.explanations.push(...d.explanations.map((e) => e.id));
    }
    ids.jobs = (await call<{ id: string }[]>(live, 'jobs.list', {})).map((j) => j.id);
    expect(ids.explanations.length).toBeGreaterThanOrEqual(2);
  }, 0);
  afterAll(async () => { await live?.stop(); });

  it(`${COUNT} seeded requests: no 500, no crash, no stored change from a refused request (seed ${SEED})`, async () => {
    const r = rng(SEED);
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    let refused = 0;
    let digest = dbDigest(dbFile);
    for (let i = 0; i < COUNT; i++) {
      const p = plan(r);
      let reply: Reply;
      try {
        reply = await request(live, { method: p.method, path: p.path, headers: p.headers, body: p.body });
      } catch (e) {
        problems.push(`#${i} ${p.label}: no reply (${(e as Error).message})`);
        if (!live.alive()) break;
        continue;
      }
      statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
      if (reply.status >= 500 || reply.json?.error?.code === 'INTERNAL') problems.push(`#${i} ${p.label}: ${reply.status} ${reply.text.slice(0, 200)}`);
      if (reply.status >= 400) {
        refused++;
        const after = dbDigest(dbFile);
        if (after !== digest) problems.push(`#${i} ${p.label}: refused with ${reply.status} (${reply.text.slice(0, 120)}) but the stored data changed`);
        digest = after;
      } else {
        // An accepted call may start background work: wait for it, then take the new state as the reference.
        await jobsIdle(live);
        digest = dbDigest(dbFile);
      }
      if (!live.alive()) { problems.push(`#${i} ${p.label}: the server exited\n${live.stderr().slice(-2000)}`); break; }
    }
    const summary = [...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}: ${n}`).join(', ');
    console.log(`[fuzz] seed ${SEED}: ${COUNT} requests, ${refused} refused; statuses ${summary}; problems ${problems.length}`);
    expect(problems.slice(0, 20)).toEqual([]);
    expect(live.alive()).toBe(true);
    expect((await call(live, 'app.info', {})).version).toBeTruthy();
  }, 0);

  it(`200 seeded streams of random WebSocket frames on /events: the server lives and stores nothing (seed ${SEED})`, async () => {
    const r = rng(SEED + 1);
    await jobsIdle(live);
    const before = dbDigest(dbFile);
    for (let i = 0; i < 200 && live.alive(); i++) {
      const sock = await rawWebSocket(live);
      const done = closed(sock);
      sock.write(Buffer.concat(Array.from({ length: 1 + r.int(3) }, () => randomFrame(r))));
      // The server closes on a protocol error; otherwise the client leaves, politely or not.
      if (r.chance(0.5)) sock.end();
      else sock.destroy();
      await done;
    }
    expect(live.alive()).toBe(true);
    expect((await call(live, 'app.info', {})).version).toBeTruthy();
    expect(dbDigest(dbFile)).toBe(before);
    expect(live.stderr()).not.toMatch(/Unhandled|uncaught/i);
  }, 0);
});
