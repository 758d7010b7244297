// Compiled backward graphs on disk, so a new process skips the compile (decode, opset upgrade, a shape-probing
// forward run, emit): one file per model sha256 + input + output + differentiated tensors + compiler version and
// code hash, in the store's cache folder (backward-graphs/ beside the thumbnails) or $SALIENCY_GRADIENT_CACHE
// ('off' disables).
// Written atomically (temp file + rename); a file that is corrupt, truncated or from another key/version is
// rebuilt with one line of warning, never a crash; files of other compiler code are removed when a graph is written.
// File: <code hash>-<key hash>.onnxbw = 4-byte little-endian header length, JSON header, ONNX bytes.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { cacheDirFor, resolveDbPath } from '../../store/paths.ts';

/** Bump whenever a rule, the planner or the emitter changes the graphs they produce: older files are then stale. */
export const BACKWARD_COMPILER_VERSION = 1;

let fingerprint: string | undefined;
/**
 * The compiler's code as part of the key (a forgotten version bump cannot serve a stale graph): a hash of the
 * source files beside this module (in a bundle: the bundle's files), read once.
 */
function compilerFingerprint(): string {
  if (fingerprint === undefined) {
    const h = createHash('sha256');
    try {
      const dir = path.dirname(fileURLToPath(import.meta.url));
      for (const f of readdirSync(dir).filter((n) => /\.(ts|js|mjs)$/.test(n)).sort()) h.update(f).update(readFileSync(path.join(dir, f)));
    } catch { /* no readable sources: the version constant alone */ }
    fingerprint = h.digest('hex').slice(0, 16);
  }
  return fingerprint;
}
const MAGIC = 'saliency-backward-graph';

export interface CompiledBackward {
  bytes: Uint8Array;
  /** Per-example dims of the input and each differentiated tensor. */
  dims: Map<string, number[]>;
  outputSize: number;
}

export interface BackwardKey { model: string; input: string; output: string; wrt: string[] }

/** The folder for compiled backward graphs, or null when disabled. */
export function backwardCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const v = env.SALIENCY_GRADIENT_CACHE;
  if (v === 'off') return null;
  return v ? path.resolve(v) : path.join(cacheDirFor(resolveDbPath(undefined, env)), 'backward-graphs');
}

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

export class BackwardGraphCache {
  readonly file: string;
  private readonly keyText: string;

  constructor(readonly dir: string, key: BackwardKey, private readonly warn: (line: string) => void = (l) => console.warn(l)) {
    this.keyText = JSON.stringify({ ...key, version: BACKWARD_COMPILER_VERSION, code: compilerFingerprint() });
    this.file = path.join(dir, `${compilerFingerprint()}-${sha256(this.keyText).slice(0, 32)}.onnxbw`);
  }

  /** The cached graph, or null (absent: silently; unreadable, corrupt or stale: one warning line). */
  load(): CompiledBackward | null {
    if (!existsSync(this.file)) return null;
    try {
      const buf = readFileSync(this.file);
      if (buf.length < 4) throw new Error('truncated header');
      const headerLength = buf.readUInt32LE(0);
      if (4 + headerLength > buf.length) throw new Error('truncated header');
      const header = JSON.parse(buf.subarray(4, 4 + headerLength).toString('utf8')) as { magic: string; key: string; dims: [string, number[]][]; outputSize: number; payloadBytes: number; payloadSha256: string };
      if (header.magic !== MAGIC) throw new Error('not a backward-graph file');
      if (header.key !== this.keyText) throw new Error('stale: made for another model, tensor set or compiler version');
      const bytes = buf.subarray(4 + headerLength);
      if (bytes.length !== header.payloadBytes || sha256(bytes) !== header.payloadSha256) throw new Error('graph bytes do not match their checksum');
      return { bytes, dims: new Map(header.dims), outputSize: header.outputSize };
    } catch (e) {
      this.reject((e as Error).message);
      return null;
    }
  }

  /** Says why a cached file is not used (one line) and removes it; the caller rebuilds. */
  reject(reason: string): void {
    this.warn(`backward-graph cache: ${this.file} is not usable (${reason}); rebuilding it`);
    rmSync(this.file, { force: true });
  }

  /** Writes atomically; a failure to write only warns (the cache is an optimisation). */
  store(c: CompiledBackward): void {
    const header = Buffer.from(JSON.stringify({
      magic: MAGIC, key: this.keyText, dims: [...c.dims], outputSize: c.outputSize, payloadBytes: c.bytes.length, payloadSha256: sha256(c.bytes),
    }));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(header.length, 0);
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(tmp, Buffer.concat([length, header, c.bytes]));
      renameSync(tmp, this.file);
      // Graphs of other compiler code can never be used by this one: removed so the folder does not grow per change.
      const mine = `${compilerFingerprint()}-`;
      for (const f of readdirSync(this.dir)) if (f.endsWith('.onnxbw') && !f.startsWith(mine)) rmSync(path.join(this.dir, f), { force: true });
    } catch (e) {
      rmSync(tmp, { force: true });
      this.warn(`backward-graph cache: could not write ${this.file} (${(e as Error).message.split('\n')[0]}); the graph is compiled again next time`);
    }
  }
}
