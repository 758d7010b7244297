// A fallback true class for images the store could not label (it knows ImageNet WordNet ids): a folder name
// or a word of the file name that is one of the model's class labels, e.g. digits/3/a.png, 3_001.png, 007_ring.png.
import type { ClassLabel } from '../engine/model/labels.ts';

export function guessClass(relPath: string, labels: ClassLabel[]): number | null {
  const parts = relPath.split('/');
  const stem = parts[parts.length - 1].replace(/\.[^.]+$/, '');
  const candidates = [...parts.slice(0, -1).reverse(), ...stem.split(/[_\- .]/)].map((s) => s.toLowerCase());
  for (const c of candidates) {
    const i = labels.findIndex((l) => l.label.toLowerCase() === c);
    if (i >= 0) return i;
  }
  return null;
}
