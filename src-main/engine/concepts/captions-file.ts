// The captions file: {filename, caption, author} per image, plus optional class groups for the regression
// target. Written atomically (temporary file, fsync, rename) so a crash or a failing endpoint never loses
// captions already stored.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { SaliencyError } from '../types.ts';

const ClassRange = z.union([z.number().int().nonnegative(), z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])]);

/** Regression classes: group name -> classifier class indices (single or inclusive [from, to] ranges). */
export const ClassGroups = z.record(z.string(), z.array(ClassRange).min(1));
export type ClassGroups = z.infer<typeof ClassGroups>;

const ConceptBox = z.object({
  concept: z.string().min(1),
  /** x_min, y_min, x_max, y_max in original-image pixels (max exclusive). */
  box: z.tuple([z.number().int(), z.number().int(), z.number().int(), z.number().int()]),
  author: z.string().min(1),
});

const CaptionEntry = z.object({
  filename: z.string().min(1),
  caption: z.string(),
  /** "annotator" for typed captions, "model:<name>" for endpoint captions. */
  author: z.string().min(1),
  prompt: z.string().optional(),
  /** Concept boxes drawn by an annotator or located by the vision endpoint. */
  boxes: z.array(ConceptBox).optional(),
});

const CaptionFileSchema = z.object({
  version: z.literal(1),
  /** Folder of the images, relative to the captions file (or absolute). */
  imagesDir: z.string().optional(),
  description: z.string().optional(),
  /** Regression classes as groups of classifier class indices (single indices or inclusive [from, to] ranges). */
  groups: ClassGroups.optional(),
  captions: z.array(CaptionEntry),
});

export type CaptionEntry = z.infer<typeof CaptionEntry>;
export type ConceptBox = z.infer<typeof ConceptBox>;
export type CaptionFile = z.infer<typeof CaptionFileSchema>;

export async function readCaptionFile(file: string): Promise<CaptionFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SaliencyError(`${file}: ${code === 'ENOENT' ? 'captions file not found' : (e as Error).message}`, 'NOT_FOUND');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SaliencyError(`${file}: not valid JSON (${(e as Error).message})`, 'BAD_CAPTIONS');
  }
  const parsed = CaptionFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SaliencyError(`${file}: ${issue.path.join('.') || 'top level'}: ${issue.message}`, 'BAD_CAPTIONS');
  }
  const seen = new Set<string>();
  for (const c of parsed.data.captions) {
    if (seen.has(c.filename)) throw new SaliencyError(`${file}: ${c.filename} has two captions`, 'BAD_CAPTIONS');
    seen.add(c.filename);
  }
  return parsed.data;
}

/** The folder the captions' filenames are relative to. */
export function imagesDirOf(file: string, data: CaptionFile, override?: string): string {
  if (override) return path.resolve(override);
  return path.resolve(path.dirname(file), data.imagesDir ?? '.');
}

export async function writeCaptionFileAtomic(file: string, data: CaptionFile): Promise<void> {
  const checked = CaptionFileSchema.parse(data);
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(`${JSON.stringify(checked, null, 2)}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new SaliencyError(`${file}: could not replace the captions file (${(e as Error).message})`, 'WRITE_FAILED');
  }
}

/** Adds or replaces one image's caption (pure; the caller writes). */
export function upsertCaption(data: CaptionFile, entry: CaptionEntry): CaptionFile {
  const captions = data.captions.filter((c) => c.filename !== entry.filename);
  const at = data.captions.findIndex((c) => c.filename === entry.filename);
  captions.splice(at < 0 ? captions.length : at, 0, entry);
  return { ...data, captions };
}

/** The regression class (group name) of a classifier class index, or null if it is in no group. */
export function groupOf(data: CaptionFile, classIndex: number): string | null {
  for (const [name, ranges] of Object.entries(data.groups ?? {})) {
    for (const r of ranges) {
      if (typeof r === 'number' ? r === classIndex : classIndex >= r[0] && classIndex <= r[1]) return name;
    }
  }
  return null;
}
