// The output folder of a command that goes through images (explain, evaluate): each image's files and its
// record are written atomically as soon as the image is done; the summary files (results.json, tables) are
// rewritten atomically as the run goes (at most every FLUSH_MS, and at the end), so an interrupted or killed
// run keeps every finished image readable. With --resume, an image whose record exists, was made with the
// same configuration and whose file has the same size and modification time is not computed again.
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { ImageItem } from '../common.ts';
import { ensureOutDir, writeFileAtomic } from './atomic.ts';
import { fsProblem } from '../errors.ts';
import { SaliencyError } from '../../engine/types.ts';

/** A folder inside the (checked) output folder. */
async function makeDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true }).catch((e) => { throw new SaliencyError(`${dir}: cannot create the folder (${fsProblem(e)})`, 'WRITE_FAILED'); });
}

/** The summary files are rewritten after an image unless that would spend more than a tenth of the time on them
 *  (10 x the last rewrite's cost since it), and at least once a second: small runs stay current after every
 *  image (a full disk later cannot hide a finished one), a 10,000-image run does not rewrite megabytes per image. */
const FLUSH_MS = 1000;
const FLUSH_COST_FACTOR = 10;

interface ImageRecord<E> { config: string; complete: boolean; file: string; bytes: number; mtimeMs: number; entry: E }

export interface RunOutputOptions<E> {
  /** Where an image's record goes, relative to the output folder. */
  recordPath: (name: string) => string;
  /** Everything that changes the results (model hash, methods, settings, seed, ...). */
  config: unknown;
  resume: boolean;
  /** Writes the summary files from the entries done so far (in input order). */
  writeSummary: (entries: E[]) => Promise<void>;
}

/** A stable key of a configuration (sorted keys). */
export function configKey(config: unknown): string {
  const canon = (v: unknown): unknown => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])]))
    : Array.isArray(v) ? v.map(canon) : v);
  return createHash('sha256').update(JSON.stringify(canon(config)) ?? '').digest('hex').slice(0, 16);
}

export class RunOutput<E> {
  private readonly entries = new Map<string, E>();
  private readonly previous = new Map<string, ImageRecord<E>>();
  private lastFlush = 0;
  private lastFlushCost = 0;
  private readonly key: string;
  /** Images taken from an earlier run (--resume). */
  resumed = 0;

  private constructor(readonly dir: string, private readonly items: ImageItem[], private readonly opts: RunOutputOptions<E>) {
    this.key = configKey(opts.config);
  }

  static async open<E>(dir: string, items: ImageItem[], opts: RunOutputOptions<E>): Promise<RunOutput<E>> {
    await ensureOutDir(dir);
    const out = new RunOutput<E>(dir, items, opts);
    if (!opts.resume) await out.flush(); // the summary files exist from the start, listing what is done
    if (opts.resume) {
      for (const item of items) {
        const rec = await readFile(path.join(dir, opts.recordPath(item.name)), 'utf8').then((t) => JSON.parse(t) as ImageRecord<E>, () => null);
        if (rec && rec.config === out.key) out.previous.set(item.name, rec);
      }
    }
    return out;
  }

  /** Path of an output file of an image (its folder is made). */
  async imageFile(name: string, file: string): Promise<string> {
    const p = path.join(this.dir, name, file);
    await makeDir(path.dirname(p));
    return p;
  }

  /** --resume: the image is done already (same configuration, same file); its entry is taken over. */
  async doneBefore(item: ImageItem): Promise<boolean> {
    const rec = this.previous.get(item.name);
    if (!rec || !rec.complete) return false;
    const s = await stat(item.file).catch(() => null);
    if (!s || s.size !== rec.bytes || Math.trunc(s.mtimeMs) !== rec.mtimeMs) return false;
    this.entries.set(item.name, rec.entry);
    this.resumed++;
    return true;
  }

  /** Records a finished image (after its files are written; `complete` false: --resume does it again), then refreshes the summary files now and then. */
  async imageDone(item: ImageItem, entry: E, complete = true): Promise<void> {
    const s = await stat(item.file);
    const rec: ImageRecord<E> = { config: this.key, complete, file: item.file, bytes: s.size, mtimeMs: Math.trunc(s.mtimeMs), entry };
    const p = path.join(this.dir, this.opts.recordPath(item.name));
    await makeDir(path.dirname(p));
    await writeFileAtomic(p, JSON.stringify(rec));
    this.entries.set(item.name, entry);
    const since = Date.now() - this.lastFlush;
    if (since >= Math.min(FLUSH_MS, FLUSH_COST_FACTOR * this.lastFlushCost)) await this.flush();
  }

  /** Entries done so far, in input order. */
  done(): E[] {
    return this.items.filter((i) => this.entries.has(i.name)).map((i) => this.entries.get(i.name)!);
  }

  /** The last flush, at the end of the run: a failure (e.g. a full disk) is returned, not thrown, so that the
   *  run still ends with its item errors (the previous summary files stay as they were: complete). */
  async finish(): Promise<string | null> {
    return this.flush().then(() => null, (e: Error) => e.message);
  }

  async flush(): Promise<void> {
    const t0 = Date.now();
    await this.opts.writeSummary(this.done());
    this.lastFlush = Date.now();
    this.lastFlushCost = this.lastFlush - t0;
  }
}
