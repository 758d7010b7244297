// Ground-truth classes from file names: ImageNet images are named (or filed in folders named) by their
// WordNet id, e.g. n01440764_tench.JPEG or n01440764/ILSVRC2012_val_00000293.JPEG.
import path from 'node:path';
import { imagenetLabels } from '../model/labels.ts';

let byWnid: Map<string, number> | undefined;

/** The ImageNet class index named by the file or its folders, or null. */
export function trueClassFromPath(relPath: string): number | null {
  byWnid ??= new Map(imagenetLabels().map((l, i) => [l.wnid ?? '', i]));
  const parts = relPath.split(/[\\/]/).reverse();
  for (const part of parts) {
    const m = /^(n\d{8})(?:[_.\-]|$)/.exec(path.basename(part));
    if (m && byWnid.has(m[1])) return byWnid.get(m[1])!;
  }
  return null;
}
