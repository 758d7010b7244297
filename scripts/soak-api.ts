// Soak of the app's HTTP API: `saliency serve` as a child process on 127.0.0.1 (temporary database), driven for
// --minutes (default 10) by a fixed number of clients doing the app's mixed use — listings with filters, image
// details, maps, thumbnails and full images, annotations, ratings, ensemble previews, metrics, and now and then
// an explanation job — while a WebSocket listens to events. Bounded: fixed concurrency, at most one job at a
// time, annotations overwrite. Prints the server's memory (RSS) and the latency percentiles of the first and the
// last minute, and fails (exit 1) on any 5xx, any refused valid call, or a server that exits.
//   npm run soak [-- --minutes 10 --clients 4 --model builtin:demo --library <folder> --seed 1]
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO } from '../test/helpers/data.ts';
import { tempDir } from '../test/helpers/files.ts';
import { api, call, request, startServe, watchEvents, type Live } from '../test/api/hardening-live.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    clients: { type: 'string', default: '4' },
    model: { type: 'string', default: 'builtin:demo' },
    library: { type: 'string', default: path.join(REPO, 'resources/demo/samples') },
    seed: { type: 'string', default: '1' },
  },
});
const MINUTES = Number(values.minutes);
const CLIENTS = Number(values.clients);
const WINDOW_MS = Math.min(60_000, (MINUTES * 60_000) / 4);

let seed = Number(values.seed) >>> 0;
const rand = () => { seed = (seed * 1664525 + 1013904223) >>> 0; return seed / 4294967296; };
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface Sample { t: number; ms: number; what: string; status: number }

const root = tempDir('saliency-soak-');
const lib = path.join(root, 'lib');
mkdirSync(lib);
for (const f of readdirSync(values.library!).filter((f) => /\.(png|jpe?g|webp)$/i.test(f)).slice(0, 50)) copyFileSync(path.join(values.library!, f), path.join(lib, f));
const live: Live = await startServe(['--model', values.model!, '--library', lib, '--explain', 'gradcam', '--data', path.join(root, 'data'), '--quiet']);
const pid = live.proc.pid!;
const events = await watchEvents(live);
let eventCount = 0;
events.waitFor(() => { eventCount++; return false; }, 'events').catch(() => undefined); // counts every event

const [library] = await call<{ id: string }[]>(live, 'library.list', {});
const images = (await call<{ items: { id: string }[] }>(live, 'images.list', { libraryId: library.id, limit: 500 })).items.map((i) => i.id);
const explanations = async (imageId: string) => (await call<{ explanations: { id: string; method: string }[] }>(live, 'image.get', { imageId })).explanations;

const samples: Sample[] = [];
const memory: { t: number; mb: number }[] = [];
const problems: string[] = [];
let jobRunning = false;
const t0 = Date.now();
const end = t0 + MINUTES * 60_000;

/** One timed request; a valid call must succeed. */
async function timed(what: string, f: () => Promise<{ status: number; text: string }>): Promise<string> {
  const s = performance.now();
  const r = await f();
  samples.push({ t: Date.now() - t0, ms: performance.now() - s, what, status: r.status });
  if (r.status !== 200) problems.push(`${what}: ${r.status} ${r.text.slice(0, 200)}`);
  return r.text;
}
const viaApi = (method: string, body: unknown) => timed(method, () => api(live, method, body));
const file = (kind: string, id: string) => timed(`files/${kind}`, () => request(live, { path: `/files/${kind}/${id}?token=${live.token}`, headers: { host: `127.0.0.1:${live.port}` } }));

async function step(client: number): Promise<void> {
  const imageId = pick(images);
  const roll = rand();
  if (roll < 0.15) await viaApi('images.list', { libraryId: library.id, offset: Math.floor(rand() * 20), limit: 24, filter: pick([{}, { method: 'gradcam' }, { correct: 'yes' }, { text: '_1' }, { rated: true }]) });
  else if (roll < 0.3) await viaApi('image.get', { imageId });
  else if (roll < 0.42) {
    const e = await explanations(imageId);
    if (e.length) await viaApi('map.get', { explanationId: pick(e).id, maxSide: pick([64, 128, 320]) });
  } else if (roll < 0.54) await file(pick(['thumb', 'image']), imageId);
  else if (roll < 0.62) {
    await viaApi('annotations.save', { imageId, boxes: [{ x: rand() * 0.5, y: rand() * 0.5, w: 0.25, h: 0.25, label: 'soak' }], mask: null, caption: `soak ${client}`, concepts: ['stroke'], author: `client${client}` });
    await viaApi('annotations.get', { imageId });
  } else if (roll < 0.7) {
    const e = await explanations(imageId);
    if (e.length) await viaApi('ratings.likert', { explanationId: pick(e).id, rater: `client${client}`, score: 1 + Math.floor(rand() * 5), blind: false });
  } else if (roll < 0.76) await viaApi('ratings.queue', { libraryId: library.id, rater: `client${client}`, mode: pick(['likert', 'pairwise']), blind: true, seed: 1, limit: 50 });
  else if (roll < 0.82) {
    const e = await explanations(imageId);
    if (e.some((x) => x.method === 'gradcam')) await viaApi('ensemble.preview', { imageId, weights: { gradcam: 1, occlusion: 1 }, maxSide: 64 });
  } else if (roll < 0.88) {
    const e = await explanations(imageId);
    if (e.length) await viaApi('metrics.list', { explanationIds: e.map((x) => x.id) });
  } else if (roll < 0.92 && !jobRunning) {
    // One explanation job at a time (the app's queue runs one anyway): re-run a map of one image.
    jobRunning = true;
    const job = JSON.parse(await viaApi('jobs.start', { imageIds: [imageId], methods: [pick(['gradcam', 'occlusion'])], seed: Math.floor(rand() * 3) })) as { result?: { id: string } };
    if (job.result) void events.waitFor((e) => e.type === 'job' && e.job.id === job.result!.id && !['queued', 'running'].includes(e.job.state), 'job').catch(() => undefined).then(() => { jobRunning = false; });
    else jobRunning = false;
  } else if (roll < 0.95) await viaApi('ratings.summary', { libraryId: library.id });
  else await viaApi(pick(['app.info', 'jobs.list', 'library.list', 'ensemble.list']), {});
}

const sampler = setInterval(() => memory.push({ t: Date.now() - t0, mb: rssMb(pid) }), 2000);
memory.push({ t: 0, mb: rssMb(pid) });
console.error(`soak: ${MINUTES} min, ${CLIENTS} clients, model ${values.model}, ${images.length} images; server pid ${pid}, RSS ${memory[0].mb.toFixed(0)} MB`);
let lastReport = Date.now();
await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
  while (Date.now() < end && live.alive()) {
    try {
      await step(c);
    } catch (e) {
      problems.push(`client ${c}: ${(e as Error).message}`);
      if (!live.alive()) break;
    }
    if (c === 0 && Date.now() - lastReport > 60_000) {
      lastReport = Date.now();
      console.error(`  ${((Date.now() - t0) / 60_000).toFixed(1)} min: ${samples.length} requests, RSS ${rssMb(pid).toFixed(0)} MB, ${problems.length} problems`);
    }
  }
}));
clearInterval(sampler);
const alive = live.alive();
events.close();
await live.stop();

const q = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const windowStats = (from: number, to: number) => {
  const ms = samples.filter((s) => s.t >= from && s.t < to).map((s) => s.ms);
  const mem = memory.filter((m) => m.t >= from && m.t <= to).map((m) => m.mb);
  return { requests: ms.length, perSecond: ms.length / ((to - from) / 1000), p50: q(ms, 0.5), p99: q(ms, 0.99), max: Math.max(...ms), rssMb: mem.length ? Math.max(...mem) : NaN };
};
const total = Date.now() - t0;
const first = windowStats(0, WINDOW_MS);
const last = windowStats(total - WINDOW_MS, total + 1);
const fmt = (w: ReturnType<typeof windowStats>) => `${w.requests} requests (${w.perSecond.toFixed(1)}/s), latency p50 ${w.p50.toFixed(1)} ms, p99 ${w.p99.toFixed(1)} ms, max ${w.max.toFixed(0)} ms; server RSS ${w.rssMb.toFixed(0)} MB`;
const status = new Map<number, number>();
for (const s of samples) status.set(s.status, (status.get(s.status) ?? 0) + 1);
console.log(`soak: ${(total / 60_000).toFixed(1)} min, ${samples.length} requests (${[...status].map(([k, v]) => `${k}: ${v}`).join(', ')}), ${eventCount} events, ${CLIENTS} clients, model ${values.model}`);
console.log(`  first ${WINDOW_MS / 1000} s: ${fmt(first)}`);
console.log(`  last ${WINDOW_MS / 1000} s:  ${fmt(last)}`);
console.log(`  server RSS at start ${memory[0].mb.toFixed(0)} MB, peak ${Math.max(...memory.map((m) => m.mb)).toFixed(0)} MB, end ${memory.at(-1)!.mb.toFixed(0)} MB; server ${alive ? 'alive' : 'EXITED'} at the end`);
console.log(JSON.stringify({ minutes: total / 60_000, clients: CLIENTS, requests: samples.length, first, last, rssStartMb: memory[0].mb, rssEndMb: memory.at(-1)!.mb, problems: problems.length }));
if (problems.length) console.error(`problems (${problems.length}):\n${problems.slice(0, 20).join('\n')}`);
process.exit(problems.length || !alive ? 1 : 0);
