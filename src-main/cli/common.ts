// Options and helpers shared by the commands that load a model and go through images.
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Classifier, PROVIDERS, maxThreads, type ClassifierOptions, type Provider } from '../engine/model/classifier.ts';
import { IMAGE_EXTENSIONS } from '../engine/image/load-image.ts';
import type { ItemError } from './image-loop.ts';
import { fsProblem } from './errors.ts';
import { SaliencyError, type PresetName, type ResizePolicy, type ScoreKind } from '../engine/types.ts';

export const MODEL_OPTIONS = {
  model: { type: 'string', short: 'm' },
  preset: { type: 'string' },
  resize: { type: 'string' },
  labels: { type: 'string' },
  'batch-size': { type: 'string' },
  threads: { type: 'string' },
  provider: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const MODEL_USAGE = `Model options:
  --model, -m <file|builtin:demo|builtin:known-evidence>   ONNX image classifier (required)
  --preset auto|torchvision|inception|caffe|unit           input normalisation (default: auto, shown)
  --resize auto|crop|direct                                shorter side + centre crop, or squash (default: auto)
  --labels <file>                                          class labels (.txt one per line, or .json)
  --batch-size <n>   --threads <n>   --provider cpu|cuda|dml|coreml
  --json                                                   machine-readable output on stdout`;

export function intOption(value: string | undefined, name: string, min = 1, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new SaliencyError(`--${name} must be an integer ${range} (got "${value}")`, 'BAD_SETTING');
  }
  return n;
}

/** Resolves `builtin:<name>` to the bundled file; other specs are paths. */
export async function resolveModel(spec: string): Promise<string> {
  if (!spec.startsWith('builtin:')) return spec;
  const { resolveModelSpec } = await import('../engine/model/builtin.ts');
  return resolveModelSpec(spec);
}

export async function loadModelFromArgs(values: Record<string, unknown>): Promise<Classifier> {
  const spec = values.model as string | undefined;
  if (!spec) throw new SaliencyError('--model is required (an .onnx file, or builtin:demo)', 'BAD_USAGE');
  const provider = values.provider as string | undefined;
  if (provider && !PROVIDERS.includes(provider as Provider)) {
    throw new SaliencyError(`--provider must be one of ${PROVIDERS.join(', ')} (got "${provider}")`, 'BAD_SETTING');
  }
  const resize = values.resize as string | undefined;
  if (resize && !['auto', 'crop', 'direct'].includes(resize)) throw new SaliencyError(`--resize must be auto, crop or direct (got "${resize}")`, 'BAD_SETTING');
  const opts: ClassifierOptions = {
    preset: values.preset as PresetName | 'auto' | undefined,
    resize: resize as ResizePolicy | 'auto' | undefined,
    labelsFile: values.labels as string | undefined,
    batchSize: intOption(values['batch-size'] as string | undefined, 'batch-size'),
    threads: intOption(values.threads as string | undefined, 'threads', 1, maxThreads()),
    provider: provider as Provider | undefined,
    name: spec,
  };
  return Classifier.load(await resolveModel(spec), opts);
}

export function describeModel(m: Classifier): string {
  const i = m.info;
  return [
    `model ${i.name}: ${i.input.layout} ${i.input.channels}x${i.input.height}x${i.input.width}, ${i.numClasses} classes, output ${i.outputKind}`,
    `  preset ${i.preset.name} (${i.preset.description}) — ${i.presetReason}; resize ${i.resize}`,
    `  ${i.batch.note}; ${i.providerNote}`,
    `  head: ${i.head.found ? i.head.description : i.head.reason}`,
  ].join('\n');
}

export interface ImageItem {
  file: string;
  /** Unique, stable output name: the path relative to the inputs' common folder (e.g. a/x.jpg). */
  name: string;
}

/**
 * Expands the arguments into image files: folders are searched recursively for image extensions; files named
 * explicitly are taken whatever their extension (so a bad file gets its own clear error). A missing input, an
 * unreadable sub-folder or a folder without images is a named item error; the other inputs go on.
 */
export async function collectImages(inputs: string[]): Promise<{ items: ImageItem[]; errors: ItemError[] }> {
  if (inputs.length === 0) throw new SaliencyError('no images given: name image files or folders', 'BAD_USAGE');
  const files: string[] = [];
  const errors: ItemError[] = [];
  const roots: string[] = [];
  for (const input of inputs) {
    let s;
    try {
      s = await stat(input);
    } catch (e) {
      errors.push({ file: input, error: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : fsProblem(e) });
      continue;
    }
    if (s.isDirectory()) {
      roots.push(path.resolve(input));
      const found = await walk(input, errors);
      if (found.length === 0 && !errors.some((x) => x.file.startsWith(input))) {
        errors.push({ file: input, error: `the folder has no images (${IMAGE_EXTENSIONS.join(' ')})` });
      }
      files.push(...found);
    } else {
      roots.push(path.dirname(path.resolve(input)));
      files.push(input);
    }
  }
  // Nothing to do at all is a usage error (exit 2); otherwise each bad input is an item error and the rest go on.
  if (files.length === 0) throw new SaliencyError(errors.map((e) => `${e.file}: ${e.error}`).join('; '), 'NO_IMAGES');
  for (const e of errors) process.stderr.write(`error: ${e.file}: ${e.error}\n`);
  const base = commonFolder(roots);
  const seen = new Set<string>();
  const items: ImageItem[] = [];
  for (const file of files) {
    const abs = path.resolve(file);
    if (seen.has(abs)) continue;
    seen.add(abs);
    items.push({ file, name: path.relative(base, abs).split(path.sep).join('/') });
  }
  return { items, errors };
}

function commonFolder(dirs: string[]): string {
  if (dirs.length === 0) return process.cwd();
  let parts = dirs[0].split(path.sep);
  for (const d of dirs.slice(1)) {
    const q = d.split(path.sep);
    let i = 0;
    while (i < parts.length && i < q.length && parts[i] === q[i]) i++;
    parts = parts.slice(0, i);
  }
  return parts.join(path.sep) || path.sep;
}

async function walk(dir: string, errors: ItemError[]): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    errors.push({ file: dir, error: `the folder cannot be read (${fsProblem(e)}); skipped` });
    return [];
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  const out: string[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p, errors)));
    else if (IMAGE_EXTENSIONS.includes(path.extname(e.name).toLowerCase())) out.push(p);
  }
  return out;
}

/** Parses --target: "top1" (default), a class index, or a label. */
export function parseTarget(value: string | undefined, m: Classifier): number | 'top1' {
  if (!value || value === 'top1') return 'top1';
  if (/^\d+$/.test(value)) {
    const k = Number(value);
    if (k >= m.info.numClasses) throw new SaliencyError(`--target ${k} is out of range: the model has classes 0..${m.info.numClasses - 1}`, 'BAD_SETTING');
    return k;
  }
  const idx = m.labels.findIndex((l) => l.label === value || l.wnid === value);
  if (idx < 0) throw new SaliencyError(`--target "${value}" is neither a class index nor a known label`, 'BAD_SETTING');
  return idx;
}

export function parseScore(value: string | undefined, fallback: ScoreKind): ScoreKind {
  if (!value) return fallback;
  if (value !== 'logit' && value !== 'probability') throw new SaliencyError(`--score must be logit or probability (got "${value}")`, 'BAD_SETTING');
  return value;
}

/** A comma-separated list option: trimmed, duplicates dropped (with a note), never empty when given. */
export function listOption(value: string | undefined, name: string, fallback: string): string[] {
  const items = (value ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new SaliencyError(`--${name} is empty: name at least one (e.g. --${name} ${fallback})`, 'BAD_USAGE');
  const unique = [...new Set(items)];
  if (unique.length < items.length) process.stderr.write(`note: --${name} names ${items.filter((x, i) => items.indexOf(x) !== i).join(', ')} more than once; each is computed once\n`);
  return unique;
}

/** Reads a JSON file named by an option; a missing file or bad JSON is one line naming the option and file. */
export async function readJsonOption(file: string, option: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new SaliencyError(`--${option} ${file}: ${fsProblem(e)}`, 'BAD_USAGE');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SaliencyError(`--${option} ${file}: not valid JSON (${(e as Error).message.replace(/\s+/g, ' ')})`, 'BAD_USAGE');
  }
}
