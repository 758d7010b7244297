// A fallback true class for images the store could not label (it knows ImageNet WordNet ids): a folder or
// file-name prefix that is one of the model's class labels, e.g. digits/3/img_001.png or 3_001.png.
import type { ClassLabel } from '../engine/model/labels.ts';

export function guessClass(relPath: string, labels: ClassLabel[]): number | null {
  const parts = relPath.split('/');
  const stem = parts[parts.length - 1].replace(/\.[^.]+$/, '');
  const candidates = [...parts.slice(0, -1).reverse(), stem.split(/[_\- .]/)[0]].map((s) => s.toLowerCase());
  for (const c of candidates) {
    const i = labels.findIndex((l) => l.label.toLowerCase() === c);
    if (i >= 0) return i;
  }
  return null;
}
