// Class labels: ImageNet-1k bundled; any other classifier gets a labels file (one label per line, or JSON).
import { readFileSync } from 'node:fs';
import { resourcePath } from '../resources.ts';
import { SaliencyError } from '../types.ts';

export interface ClassLabel { label: string; full?: string; wnid?: string }

let imagenet: ClassLabel[] | undefined;
export function imagenetLabels(): ClassLabel[] {
  imagenet ??= JSON.parse(readFileSync(resourcePath('labels', 'imagenet-1k.json'), 'utf8')) as ClassLabel[];
  return imagenet;
}

/** Reads labels from a .json array (strings or {label}) or a text file with one label per line. */
export function readLabelsFile(file: string): ClassLabel[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SaliencyError(`labels file ${file}: ${(e as Error).message}`, 'BAD_LABELS');
  }
  if (file.endsWith('.json')) {
    const parsed = JSON.parse(text) as unknown;
    const list = Array.isArray(parsed) ? parsed : Object.keys(parsed as object).sort((a, b) => +a - +b).map((k) => (parsed as Record<string, unknown>)[k]);
    return list.map((v) => (typeof v === 'string' ? { label: v } : Array.isArray(v) ? { wnid: String(v[0]), label: String(v[1]) } : (v as ClassLabel)));
  }
  return text.split(/\r?\n/).filter((l) => l.trim()).map((l) => ({ label: l.trim() }));
}

export function labelsFor(numClasses: number, opts: { labelsFile?: string; embedded?: string[] }): ClassLabel[] {
  let labels: ClassLabel[] | undefined;
  if (opts.labelsFile) labels = readLabelsFile(opts.labelsFile);
  else if (opts.embedded) labels = opts.embedded.map((label) => ({ label }));
  else if (numClasses === 1000) labels = imagenetLabels();
  if (labels && labels.length !== numClasses) {
    throw new SaliencyError(`labels: ${labels.length} labels for a model with ${numClasses} classes`, 'BAD_LABELS');
  }
  return labels ?? Array.from({ length: numClasses }, (_, i) => ({ label: `class ${i}` }));
}
