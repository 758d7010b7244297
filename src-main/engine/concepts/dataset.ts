// A captioned image set ready for the concept regression: each caption's words, and its label, which is the
// classifier's prediction (or the ground truth from the file name), mapped to the file's class groups.
import path from 'node:path';
import type { Classifier } from '../model/classifier.ts';
import { prepareImageFile } from '../image/prepare.ts';
import { SaliencyError } from '../types.ts';
import { argmax } from '../util/math.ts';
import { type CaptionEntry, type CaptionFile, groupOf, imagesDirOf, readCaptionFile } from './captions-file.ts';
import { conceptWords } from './words.ts';
import type { Box } from './box.ts';
import type { ClassLabel } from '../model/labels.ts';

export interface ConceptDoc {
  filename: string;
  caption: string;
  words: string[];
  /** Index into LabelledCaptions.classes. */
  label: number;
  /** The classifier's top-1 class for the image. */
  modelClass: number;
  modelLabel: string;
  /** Concept boxes stored with the caption (annotator or endpoint). */
  boxes: { concept: string; box: Box; author: string }[];
}

export interface LabelledCaptions {
  file: string;
  imagesDir: string;
  target: 'model' | 'truth';
  classes: string[];
  docs: ConceptDoc[];
  /** Images left out, and why (no concept word, or a class outside every group). */
  excluded: { filename: string; reason: string }[];
}

export interface LabelOptions {
  imagesDir?: string;
  /** The regression target: the classifier's top-1 class (default) or the class named by the file's wnid prefix. */
  target?: 'model' | 'truth';
  batch?: number;
}

/** The class index named by an ImageNet-style file name "<wnid>_<label>.JPEG", or null. */
export function truthClass(model: Classifier, filename: string): number | null {
  return truthClassOf(model.labels, filename);
}

export function truthClassOf(labels: readonly ClassLabel[], filename: string): number | null {
  const wnid = /^(n\d{8})_/.exec(path.basename(filename))?.[1];
  if (!wnid) return null;
  const i = labels.findIndex((l) => l.wnid === wnid);
  return i < 0 ? null : i;
}

export async function labelCaptions(file: string, model: Classifier, opts: LabelOptions = {}): Promise<LabelledCaptions> {
  const data = await readCaptionFile(file);
  return labelCaptionData(file, data, model, opts);
}

export async function labelCaptionData(file: string, data: CaptionFile, model: Classifier, opts: LabelOptions = {}): Promise<LabelledCaptions> {
  const imagesDir = imagesDirOf(file, data, opts.imagesDir);
  const entries = data.captions.filter((c) => conceptWords(c.caption).length > 0);
  const predicted = new Map<string, number>();
  const batch = opts.batch ?? 16;
  for (let i = 0; i < entries.length; i += batch) {
    const chunk = entries.slice(i, i + batch);
    const images = await Promise.all(chunk.map((c) => prepareImageFile(path.join(imagesDir, c.filename), model)));
    const out = await model.predict(images.map((im) => im.prepared.input));
    chunk.forEach((c, j) => predicted.set(c.filename, argmax(out.logits, j * out.numClasses, out.numClasses)));
  }
  return labelCaptionRows(file, data, model.labels, (filename) => predicted.get(filename) ?? null, { ...opts, imagesDir });
}

/**
 * Labels captions with classifier predictions made elsewhere (e.g. stored in the database): predicted(filename)
 * is the classifier's top-1 class index, or null when there is none (the image is then left out).
 */
export function labelCaptionRows(file: string, data: CaptionFile, labels: readonly ClassLabel[], predicted: (filename: string) => number | null, opts: LabelOptions = {}): LabelledCaptions {
  const imagesDir = imagesDirOf(file, data, opts.imagesDir);
  const target = opts.target ?? 'model';
  const excluded: LabelledCaptions['excluded'] = [];
  const nameOf = (k: number) => (data.groups ? groupOf(data, k) : `${labels[k]?.label ?? k}`);
  const rows: { entry: CaptionEntry; cls: string; modelClass: number }[] = [];
  for (const entry of data.captions) {
    if (conceptWords(entry.caption).length === 0) {
      excluded.push({ filename: entry.filename, reason: entry.caption.trim() ? 'the caption has no concept word' : 'no caption yet' });
      continue;
    }
    const modelClass = predicted(entry.filename);
    if (modelClass === null) {
      excluded.push({ filename: entry.filename, reason: 'no prediction of the classifier for this image' });
      continue;
    }
    const k = target === 'model' ? modelClass : truthClassOf(labels, entry.filename);
    if (k === null) {
      excluded.push({ filename: entry.filename, reason: 'no ground-truth class in the file name (expected <wnid>_<label>)' });
      continue;
    }
    const cls = nameOf(k);
    if (cls === null) {
      excluded.push({ filename: entry.filename, reason: `class ${k} (${labels[k]?.label}) is in no group` });
      continue;
    }
    rows.push({ entry, cls, modelClass });
  }
  const order = data.groups ? Object.keys(data.groups) : [...new Set(rows.map((r) => r.cls))].sort();
  const classes = order.filter((c) => rows.some((r) => r.cls === c));
  if (classes.length < 2) {
    throw new SaliencyError(`${file}: the captioned images fall into ${classes.length} class(es); the regression needs at least 2`, 'BAD_DATA');
  }
  const docs = rows.map(({ entry, cls, modelClass }) => ({
    filename: entry.filename,
    caption: entry.caption,
    words: conceptWords(entry.caption),
    label: classes.indexOf(cls),
    modelClass,
    modelLabel: labels[modelClass]?.label ?? String(modelClass),
    boxes: (entry.boxes ?? []).map((b) => ({ concept: b.concept, author: b.author, box: { xMin: b.box[0], yMin: b.box[1], xMax: b.box[2], yMax: b.box[3] } })),
  }));
  return { file, imagesDir, target, classes, docs, excluded };
}
