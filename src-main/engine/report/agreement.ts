// Agreement between methods: Spearman rank correlation of their maps on each image (on a common coarse grid,
// so that ties and resolution do not dominate), averaged into a series x series matrix (report/series.ts: two
// targets or score kinds of a method are two rows).
import type { Store } from '../store/store.ts';
import type { ReportData } from './collect.ts';
import { resizeMap } from '../image/upsample.ts';
import { spearman } from '../metrics/rank.ts';

export interface AgreementResult {
  /** Series labels, e.g. "gradcam (top-1, logit)". */
  methods: string[];
  matrix: number[][];
  perImage: { imageId: number; mean: number }[];
}

export function agreementOf(store: Store, data: ReportData, grid = 56): AgreementResult {
  const methods = data.series.map((s) => s.key);
  const sums = methods.map(() => methods.map(() => 0));
  const counts = methods.map(() => methods.map(() => 0));
  const perImage: { imageId: number; mean: number }[] = [];
  for (const img of data.images) {
    const present = methods.filter((m) => img.explanations[m] !== undefined);
    if (present.length < 2) continue;
    const maps = new Map(present.map((m) => [m, resizeMap(store.explanations.get(img.explanations[m])!.map, grid, grid)]));
    let s = 0;
    let n = 0;
    for (let i = 0; i < present.length; i++) for (let j = i + 1; j < present.length; j++) {
      const r = spearman(maps.get(present[i])!, maps.get(present[j])!);
      if (!Number.isFinite(r)) continue;
      const a = methods.indexOf(present[i]);
      const b = methods.indexOf(present[j]);
      sums[a][b] += r; sums[b][a] += r;
      counts[a][b]++; counts[b][a]++;
      if (!present[i].startsWith('ensemble') && !present[j].startsWith('ensemble')) { s += r; n++; }
    }
    if (n) perImage.push({ imageId: img.id, mean: s / n });
  }
  const matrix = methods.map((_, i) => methods.map((__, j) => (i === j ? 1 : counts[i][j] ? sums[i][j] / counts[i][j] : NaN)));
  return { methods: data.series.map((s) => s.label), matrix, perImage };
}
