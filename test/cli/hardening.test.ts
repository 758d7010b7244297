// The command line under careless and hostile use (issue 16): a tiny image with an extreme aspect ratio, output
// names that clash, Ctrl-C and a full disk mid-run, bad inputs among good ones, absurd resource settings,
// non-classifier models, and the ordinary mistakes — each one line naming the thing and the problem, with the
// exit status saying what happened (0 all done, 1 some items failed, 2 usage/settings/model, 130 interrupted).
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import sharp from 'sharp';
import { runCli, type CliResult } from '../helpers/cli.ts';
import { HAS_DATA, MODELS, REPO, model, sample } from '../helpers/data.ts';
import { tempDir } from '../helpers/files.ts';
import { OnnxBuilder } from '../../src-main/engine/model/onnx-builder.ts';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { builtinSamplesDir } from '../../src-main/engine/model/builtin.ts';
import { RunOutput } from '../../src-main/cli/output/run-output.ts';

// Every test here runs the command as a child process, often several times: on a loaded machine that takes
// minutes, so no clock limit (each waits on the process, which always ends).
vi.setConfig({ testTimeout: 0, hookTimeout: 0 });

const squeeze = () => model(MODELS.squeezenet);
const DEMO_SAMPLES = builtinSamplesDir('demo');
const demoSample = (i: number) => path.join(DEMO_SAMPLES, readdirSync(DEMO_SAMPLES).sort()[i]);

/** One line on stderr, naming the command, and no stack trace. */
function oneLine(r: CliResult, command: string, pattern: RegExp) {
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^saliency ${command}: `));
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

/** Runs the CLI in the background, calls `onLine` for each stdout line (it may send a signal), resolves at exit. */
function runWatching(args: string[], onLine: (line: string, child: ReturnType<typeof spawn>) => void): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO, 'bin/saliency.js'), ...args], { cwd: REPO, env: { ...process.env, SALIENCY_PROGRESS: '0' } });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const l of lines) onLine(l, child);
    });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal === 'SIGINT' ? 130 : -1), stdout, stderr }));
  });
}

/** Ctrl-C (SIGINT) as soon as the first stdout line holding `marker` (an image finished) appears. */
function interruptAfter(args: string[], marker: string): Promise<CliResult> {
  let sent = false;
  return runWatching(args, (line, child) => {
    if (!sent && line.includes(marker)) { sent = true; child.kill('SIGINT'); }
  });
}

/** Every map listed in results.json is a complete .npy and a decodable .png. */
async function expectReadableResults(out: string): Promise<{ name: string }[]> {
  const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
  for (const img of results.images) {
    for (const e of img.explanations) {
      const npy = readFileSync(path.join(out, e.npy));
      const headerLen = npy.readUInt16LE(8);
      const shape = /'shape': \((\d+), (\d+)\)/.exec(npy.subarray(10, 10 + headerLen).toString('latin1'))!;
      expect(npy.length).toBe(10 + headerLen + 4 * Number(shape[1]) * Number(shape[2]));
      const meta = await sharp(path.join(out, e.png)).stats();
      expect(meta.channels.length).toBeGreaterThanOrEqual(3);
    }
  }
  return results.images;
}

/** Any temporary file left behind (a write that was not completed and not cleaned up). */
const leftovers = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.tmp$/.test(f));

describe.skipIf(!HAS_DATA)('a 20000x1 PNG', () => {
  it('is predicted within 2x the time and peak memory of a normal image', async () => {
    const dir = tempDir();
    const wide = path.join(dir, 'wide.png');
    await sharp({ create: { width: 20000, height: 1, channels: 3, background: { r: 200, g: 30, b: 10 } } }).png().toFile(wide);
    expect(statSync(wide).size).toBeLessThan(1000);
    const cost = (file: string) => {
      const r = spawnSync(process.execPath, [path.join(REPO, 'test/helpers/cli-peak.mjs'), 'predict', file, '--model', squeeze(), '--top-k', '1', '--threads', '1'], { cwd: REPO, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const m = /cli-peak ms=(\d+) cpu-ms=(\d+) rss-kb=(\d+)/.exec(r.stderr)!;
      return { ms: Number(m[1]), cpu: Number(m[2]), kb: Number(m[3]) };
    };
    // CPU time (not wall time: a busy machine stretches that) and peak RSS of the whole command, the better of two runs.
    const best = (file: string) => { const a = cost(file); const b = cost(file); return { ms: Math.min(a.ms, b.ms), cpu: Math.min(a.cpu, b.cpu), kb: Math.min(a.kb, b.kb) }; };
    const normal = best(sample('n01440764_tench.JPEG'));
    const extreme = best(wide);
    console.log(`20000x1 PNG: ${extreme.cpu} ms CPU (${extreme.ms} ms wall), ${extreme.kb} kB peak RSS; normal JPEG: ${normal.cpu} ms CPU (${normal.ms} ms wall), ${normal.kb} kB`);
    expect(extreme.cpu).toBeLessThan(2 * normal.cpu);
    expect(extreme.kb).toBeLessThan(2 * normal.kb);
  });
});

describe.skipIf(!HAS_DATA)('explain output names', () => {
  it('a/x.jpg, b/x.jpg, x-1.jpg and x.png get their own folders, named by relative path', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'a'));
    mkdirSync(path.join(dir, 'b'));
    copyFileSync(sample('n01440764_tench.JPEG'), path.join(dir, 'a', 'x.jpg'));
    copyFileSync(sample('n01443537_goldfish.JPEG'), path.join(dir, 'b', 'x.jpg'));
    copyFileSync(sample('n01443537_goldfish.JPEG'), path.join(dir, 'x-1.jpg'));
    await sharp(sample('n02090379_redbone.JPEG')).png().toFile(path.join(dir, 'x.png'));
    const out = tempDir();
    const r = await runCli(['explain', dir, '--model', squeeze(), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const images = await expectReadableResults(out);
    expect(images.map((i) => i.name).sort()).toEqual(['a/x.jpg', 'b/x.jpg', 'x-1.jpg', 'x.png']);
    const files = images.map((i) => (i as unknown as { explanations: { npy: string }[] }).explanations[0].npy);
    expect(new Set(files).size).toBe(4);
    // The two x.jpg maps differ: nothing was overwritten.
    expect(readFileSync(path.join(out, 'a/x.jpg/gradcam.npy')).equals(readFileSync(path.join(out, 'b/x.jpg/gradcam.npy')))).toBe(false);
  });
});

describe.skipIf(!HAS_DATA)('interrupted runs keep every finished image', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
    for (const f of readdirSync(path.join(path.dirname(sample('x'))))
      .filter((f) => f.endsWith('.JPEG')).slice(0, 8)) copyFileSync(sample(f), path.join(dir, f));
  });

  it('explain: Ctrl-C after the first image exits 130 with results.json of the finished images; --resume does the rest', async () => {
    const out = tempDir();
    const args = ['explain', dir, '--model', squeeze(), '--out', out, '--method', 'gradcam,rise', '--set', 'rise.masks=60'];
    const r = await interruptAfter(args, ' -> ');
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/interrupted: stopping after the image in progress/);
    const done = await expectReadableResults(out);
    expect(done.length).toBeGreaterThanOrEqual(1);
    expect(done.length).toBeLessThan(8);
    expect(leftovers(out)).toEqual([]);
    const resumed = await runCli([...args, '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`--resume: ${done.length} images were done before and kept`);
    expect(await expectReadableResults(out)).toHaveLength(8);
  });

  it('evaluate: Ctrl-C after the first image keeps its rows in the tables (not an empty folder)', async () => {
    const out = tempDir();
    const r = await interruptAfter(['evaluate', dir, '--model', squeeze(), '--out', out, '--metric', 'deletion', '--set', 'deletion.steps=10'], ' deletion ');
    expect(r.code, r.stderr).toBe(130);
    const csv = readFileSync(path.join(out, 'per-image.csv'), 'utf8').trim().split('\n');
    expect(csv.length).toBeGreaterThanOrEqual(2);
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(summary.summary[0].n).toBe(csv.length - 1);
    expect(leftovers(out)).toEqual([]);
  });
});

describe('--resume takes an image for done only with the same configuration and the same file', () => {
  it('a changed setting or a touched file is computed again', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'x.jpg');
    writeFileSync(file, 'image bytes');
    const item = { file, name: 'x.jpg' };
    const open = (config: unknown, resume: boolean) => RunOutput.open<{ v: number }>(path.join(dir, 'out'), [item], {
      recordPath: (name) => path.join(name, 'result.json'), config, resume, writeSummary: async () => undefined,
    });
    await (await open({ methods: ['gradcam'], seed: 0 }, false)).imageDone(item, { v: 1 });
    expect(await (await open({ seed: 0, methods: ['gradcam'] }, true)).doneBefore(item)).toBe(true); // key order does not matter
    expect(await (await open({ methods: ['gradcam'], seed: 1 }, true)).doneBefore(item)).toBe(false);
    expect(await (await open({ methods: ['gradcam'], seed: 0 }, false)).doneBefore(item)).toBe(false);
    writeFileSync(file, 'changed image bytes');
    expect(await (await open({ methods: ['gradcam'], seed: 0 }, true)).doneBefore(item)).toBe(false);
  });
});

describe.skipIf(!HAS_DATA || process.getuid?.() !== 0)('a full disk (a small tmpfs; needs root)', () => {
  it('stops nothing silently: each failed image named, the finished ones readable, no truncated file', async () => {
    const mnt = tempDir();
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
    if (mounted.status !== 0) { console.warn(`[skip] cannot mount a tmpfs: ${mounted.stderr}`); return; }
    try {
      const dir = tempDir();
      for (const f of readdirSync(path.dirname(sample('x'))).filter((f) => f.endsWith('.JPEG')).slice(0, 10)) copyFileSync(sample(f), path.join(dir, f));
      const r = await runCli(['explain', dir, '--model', squeeze(), '--out', mnt]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/no space left on the device/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      const images = await expectReadableResults(mnt);
      expect(images.length).toBeGreaterThanOrEqual(1);
      expect(images.length).toBeLessThan(10);
      expect(statSync(path.join(mnt, 'results.json')).size).toBeGreaterThan(0);
      expect(leftovers(mnt)).toEqual([]);
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});

describe.skipIf(!HAS_DATA)('one bad input among good ones', () => {
  it('a missing path and an unreadable sub-folder are named; the rest is done; exit 1', async () => {
    const dir = tempDir();
    const out = tempDir();
    copyFileSync(sample('n01440764_tench.JPEG'), path.join(dir, 'a.jpg'));
    mkdirSync(path.join(dir, 'locked'));
    copyFileSync(sample('n01443537_goldfish.JPEG'), path.join(dir, 'locked', 'b.jpg'));
    chmodSync(path.join(dir, 'locked'), 0o000);
    for (const d of [dir, out]) chmodSync(d, 0o777);
    // root reads every folder: run as nobody so the folder really is unreadable.
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const r = spawnSync(process.execPath, [path.join(REPO, 'bin/saliency.js'), 'predict', dir, path.join(dir, 'nope.jpg'), '--model', squeeze(), '--top-k', '1'],
      { cwd: REPO, encoding: 'utf8', env: { ...process.env, SALIENCY_PROGRESS: '0', HOME: out }, ...asNobody });
    chmodSync(path.join(dir, 'locked'), 0o755);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/locked: the folder cannot be read \(permission denied\); skipped/);
    expect(r.stderr).toMatch(/nope\.jpg: no such file or folder/);
    expect(r.stdout).toMatch(/a\.jpg\n\s+0\.\d+ +0 +tench/);
  });

  it('library add lists a broken symbolic link as skipped, exit 1', async () => {
    const dir = tempDir();
    copyFileSync(sample('n01440764_tench.JPEG'), path.join(dir, 'a.jpg'));
    symlinkSync(path.join(dir, 'gone.jpg'), path.join(dir, 'dangling.jpg'));
    const r = await runCli(['library', 'add', dir, '--db', path.join(tempDir(), 'studio.db'), '--no-thumbnails']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/1 files: 1 new.*1 skipped/);
    expect(r.stderr).toMatch(/skipped: .*dangling\.jpg: broken symbolic link/);
  });
});

describe('resource settings have upper limits', () => {
  it('--threads 1000, --batch-size 100000 and lime.samples=1e8 are refused with the range', async () => {
    const img = demoSample(0);
    oneLine(await runCli(['predict', img, '--model', 'builtin:demo', '--threads', '1000']), 'predict', /--threads must be an integer from 1 to \d+ \(got "1000"\)/);
    oneLine(await runCli(['predict', img, '--model', 'builtin:demo', '--batch-size', '100000']), 'predict', /batch size must be a whole number from 1 to \d+/);
    oneLine(await runCli(['explain', img, '--model', 'builtin:demo', '--out', tempDir(), '--method', 'lime', '--set', 'lime.samples=1e8']), 'explain',
      /lime: samples must be a whole number between 3 and 100000 \(got 100000000\)/);
  });

  it('RISE with 10x the masks peaks at about the same memory (bounded by batch size, not masks)', () => {
    // The 96x96 known-evidence model: holding the 4,500 extra masks would add 166 MB (and their masked inputs
    // 500 MB more), far above the garbage collector's noise; the 28x28 demo's masks were too small to tell
    // holding them from a lazier collection on a loaded machine.
    const image = path.join(REPO, 'resources/known-evidence/samples/003_ring.png');
    const peak = (masks: number) => {
      const r = spawnSync(process.execPath, [path.join(REPO, 'test/helpers/cli-peak.mjs'), 'explain', image, '--model', 'builtin:known-evidence',
        '--method', 'rise', '--set', `rise.masks=${masks}`, '--out', tempDir()], { cwd: REPO, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return Number(/rss-kb=(\d+)/.exec(r.stderr)![1]);
    };
    const small = peak(500);
    const large = peak(5000);
    const held = (4500 * 96 * 96 * 4) / 1024; // kB the extra masks alone would take if kept
    console.log(`RISE peak RSS (known-evidence, 96x96): 500 masks ${small} kB, 5,000 masks ${large} kB (keeping the extra masks would add ${Math.round(held)} kB)`);
    expect(large - small).toBeLessThan(0.4 * held);
  });
});

describe('models that are not image classifiers are refused at load', () => {
  const save = (b: OnnxBuilder) => { const f = path.join(tempDir(), 'm.onnx'); writeFileSync(f, b.toBytes()); return f; };
  it('an output [N,2,32,32] (a segmentation map) and a 100000x100000 input', async () => {
    const seg = new OnnxBuilder({ producer: 'test', graphName: 'seg' });
    const x = seg.input('x', ['batch', 3, 32, 32]);
    seg.output(seg.conv(x, seg.initializer('w', new Array(6).fill(0.1), [2, 3, 1, 1]), undefined, { kernel: [1, 1] }, 'y'), ['batch', 2, 32, 32]);
    await expect(Classifier.load(save(seg))).rejects.toThrow(/output "y" \[-1,2,32,32\] is not a class-score vector; .*\[N,K\] or \[N,K,1,1\]/);
    const huge = new OnnxBuilder({ producer: 'test', graphName: 'huge' });
    const h = huge.input('x', [1, 3, 100000, 100000]);
    huge.output(huge.gemm(huge.flatten(huge.globalAveragePool(h)), huge.initializer('w', new Array(6).fill(0.1), [2, 3]), huge.initializer('b', [0, 0], [2]), 'y'), [1, 2]);
    const r = await runCli(['predict', demoSample(0), '--model', save(huge)]);
    expect(r.code).toBe(2);
    oneLine(r, 'predict', /input "x" is 100000x100000; an image classifier's input must be 8 to 4096 pixels a side/);
  });
});

describe('ordinary mistakes: one line naming the thing and the problem, exit 2', () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = tempDir();
    file = path.join(dir, 'a-file');
    writeFileSync(file, 'x\n');
  });
  const img = () => demoSample(0);

  it('--out is a file or cannot be made; --weights missing or not JSON; --model a folder', async () => {
    const base = ['explain', img(), '--model', 'builtin:demo'];
    oneLine(await runCli([...base, '--out', file]), 'explain', /--out .*a-file: is a file, not a folder/);
    oneLine(await runCli([...base, '--out', '/proc/saliency-out']), 'explain', /--out \/proc\/saliency-out: cannot create/);
    oneLine(await runCli([...base, '--out', dir, '--ensemble', 'weighted', '--weights', path.join(dir, 'nope.json')]), 'explain', /--weights .*nope\.json: no such file or folder/);
    oneLine(await runCli([...base, '--out', dir, '--ensemble', 'weighted', '--weights', file]), 'explain', /--weights .*a-file: not valid JSON/);
    oneLine(await runCli(['predict', img(), '--model', dir]), 'predict', /model .*: is a folder, not an \.onnx file/);
  });

  it('a corrupt or foreign --db, --limit abc/0/-1, --after abc', async () => {
    oneLine(await runCli(['library', 'list', '--db', file]), 'library', /database .*a-file: not a database file/);
    const db = path.join(dir, 'studio.db');
    const lib = path.join(dir, 'lib');
    mkdirSync(lib);
    copyFileSync(img(), path.join(lib, 'd.png'));
    expect((await runCli(['library', 'add', lib, '--db', db, '--no-thumbnails'])).code).toBe(0);
    for (const bad of ['abc', '0', '--limit=-1']) {
      const args = bad.startsWith('--') ? [bad] : ['--limit', bad];
      oneLine(await runCli(['library', 'list', '1', ...args, '--db', db]), 'library', /--limit must be an integer from 1 to 1000/);
    }
    oneLine(await runCli(['library', 'list', '1', '--after', 'abc', '--db', db]), 'library', /--after must be an integer >= 0 \(got "abc"\)/);
  });

  it.skipIf(process.getuid?.() !== 0)('a read-only --db (read-only mount)', async () => {
    const mnt = tempDir();
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]).status !== 0) return;
    try {
      expect((await runCli(['library', 'list', '--db', path.join(mnt, 'studio.db')])).code).toBe(0);
      spawnSync('mount', ['-o', 'remount,ro', mnt]);
      const r = await runCli(['library', 'add', dir, '--db', path.join(mnt, 'studio.db')]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/database .*studio\.db: .*read-only/);
    } finally {
      spawnSync('umount', [mnt]);
    }
  });

  it('serve: --port 99999, a port in use, --data a file', async () => {
    oneLine(await runCli(['serve', '--port', '99999', '--data', dir]), 'serve', /--port/);
    const busy = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => busy.once('listening', r));
    try {
      const port = (busy.address() as net.AddressInfo).port;
      const r = await runCli(['serve', '--port', String(port), '--data', dir, '--quiet']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`${port}.*(in use|already)`));
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      busy.close();
    }
    const f = await runCli(['serve', '--data', file, '--port', '0']);
    expect(f.code).toBe(2);
    expect(f.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('explain and report arguments (issue 16 #11)', () => {
  const img = () => demoSample(0);
  it("--method '' and unknown or non-boolean settings are usage errors; gradcam,gradcam is computed once", async () => {
    const out = tempDir();
    const base = ['explain', img(), '--model', 'builtin:demo', '--out', out];
    oneLine(await runCli([...base, '--method', '']), 'explain', /--method is empty/);
    oneLine(await runCli([...base, '--set', 'gradcam.foo=1']), 'explain', /gradcam: unknown setting "foo" \(known: relu/);
    oneLine(await runCli([...base, '--set', 'gradcam.relu=banana']), 'explain', /gradcam: relu must be true or false \(got banana\)/);
    oneLine(await runCli([...base, '--score', 'foo']), 'explain', /--score must be logit or probability \(got "foo"\)/);
    const twice = await runCli([...base, '--method', 'gradcam,gradcam']);
    expect(twice.code, twice.stderr).toBe(0);
    expect(twice.stderr).toMatch(/--method names gradcam more than once; each is computed once/);
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(results.images[0].explanations.map((e: { method: string }) => e.method)).toEqual(['gradcam']);
  });

  it('a method error is printed once, with its prefix once', async () => {
    const r = await runCli(['explain', img(), '--model', 'builtin:demo', '--out', tempDir(), '--method', 'gradcam,rise', '--set', 'rise.cells=100']);
    expect(r.code).toBe(1);
    const errs = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(/: rise: cells is 100, more than the 28 pixels/);
    expect(errs[0]).not.toMatch(/rise: rise:/);
  });

  it('report --name cannot leave --out; --concept-groups with bad JSON says so', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'studio.db');
    const lib = path.join(dir, 'lib');
    mkdirSync(lib);
    copyFileSync(img(), path.join(lib, 'd.png'));
    await runCli(['library', 'add', lib, '--db', db, '--no-thumbnails']);
    const out = path.join(dir, 'out');
    oneLine(await runCli(['report', '--library', '1', '--out', out, '--name', '../../x', '--db', db]), 'report', /--name "\.\.\/\.\.\/x" must be a plain file name/);
    expect(existsSync(path.join(dir, '..', 'x.html'))).toBe(false);
    oneLine(await runCli(['report', '--library', '1', '--out', out, '--concept-groups', '{bad', '--db', db]), 'report', /--concept-groups: not valid JSON/);
  });

  it('run with CAM methods on a model without a linear head is refused before a job is made', async () => {
    // input -> Flatten -> Gemm: a classifier, but no feature block under a global-average-pool.
    const b = new OnnxBuilder({ producer: 'test', graphName: 'flat' });
    const x = b.input('x', ['batch', 3, 16, 16]);
    b.output(b.gemm(b.flatten(x), b.initializer('w', new Array(768 * 3).fill(0.01), [3, 768]), b.initializer('b', [0, 0, 0], [3]), 'y'), ['batch', 3]);
    b.metadata('saliency.resize', 'direct');
    const dir = tempDir();
    const file = path.join(dir, 'flat.onnx');
    writeFileSync(file, b.toBytes());
    const lib = path.join(dir, 'lib');
    mkdirSync(lib);
    copyFileSync(img(), path.join(lib, 'd.png'));
    const db = path.join(dir, 'studio.db');
    const r = await runCli(['run', '--library', lib, '--model', file, '--method', 'gradcam,rise', '--db', db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/gradcam needs a linear head the model does not have/);
    expect((await runCli(['jobs', 'list', '--db', db])).stdout).not.toMatch(/job 1/);
  });
});


describe.skipIf(!HAS_DATA)('two runs on one library at once', () => {
  it('the second joins the first job while it runs (no item computed twice), and a later run makes a new job', async () => {
    const dir = tempDir();
    const lib = path.join(dir, 'lib');
    mkdirSync(lib);
    for (const f of readdirSync(path.dirname(sample('x'))).filter((f) => f.endsWith('.JPEG')).slice(0, 6)) copyFileSync(sample(f), path.join(lib, f));
    const db = path.join(dir, 'studio.db');
    expect((await runCli(['library', 'add', lib, '--db', db, '--no-thumbnails'])).code).toBe(0);
    const args = ['run', '--library', lib, '--model', squeeze(), '--method', 'gradcam,rise', '--set', 'rise.masks=300', '--db', db];
    let second: Promise<CliResult> | undefined;
    const first = await runWatching(args, (line) => {
      if (!second && /items to do/.test(line)) second = runCli(args);
    });
    expect(first.code, first.stderr).toBe(0);
    const r = await second!;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/job 1 is being run by process \d+: joining it, items are claimed one image at a time/);
    const done = (out: string) => Number(/process \d+: (\d+) items done here/.exec(out)![1]);
    expect(done(first.stdout) + done(r.stdout)).toBe(12); // every item once, between the two
    // Once it is done, a new run is a new job.
    const after = await runCli(args);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toMatch(/^job 2: 12 items/m);
  });
});
