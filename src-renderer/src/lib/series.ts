// Series of explanations (DESIGN.md): method | top1 or class:k | score kind. Two maps of one image with
// different targets or score kinds are different series and are never merged.
import type { ExplanationSummaryT } from '../../../src-main/api/contract.ts';

export interface SeriesId { key: string; label: string; top1: boolean }

export function seriesOf(e: Pick<ExplanationSummaryT, 'method' | 'target' | 'targetLabel'>, topClass: number | undefined): SeriesId {
  const top1 = topClass === e.target.classIndex;
  return {
    key: `${e.method}|${top1 ? 'top1' : `class:${e.target.classIndex}`}|${e.target.score}`,
    label: `${e.method} (${top1 ? 'top-1' : `class ${e.target.classIndex} ${e.targetLabel}`}, ${e.target.score})`,
    top1,
  };
}

/** Singles first, then ensembles; top-1 series before other targets. */
export function seriesOrder(a: SeriesId, b: SeriesId): number {
  const ens = (s: SeriesId) => (s.key.startsWith('ensemble') ? 1 : 0);
  return ens(a) - ens(b) || Number(b.top1) - Number(a.top1) || a.key.localeCompare(b.key);
}
