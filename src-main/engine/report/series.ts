// Series: the unit every comparison groups explanations by (docs/protocol.md). An explanation is (image, method,
// target class, score kind, settings, seed); a series gathers one method's maps of the same target role (the
// image's predicted top-1 class, or one fixed class) and score kind, one per image. Two series are never merged.
import { isEnsemble } from '../protocol.ts';

export interface SeriesOf {
  /** `${method}|${targetRole}|${scoreKind}` */
  series: string;
  /** e.g. "gradcam (top-1, logit)" or "gradcam (class 1 goldfish, logit)" */
  seriesLabel: string;
  /** 'top1' or `class:${n}` */
  targetRole: string;
  isEnsemble: boolean;
}

export interface SeriesInput { method: string; targetClass: number; scoreKind: string }

/**
 * The series of an explanation. `top1` is the image's predicted top-1 class for the explanation's model (null or
 * undefined when unknown: the target then counts as a fixed class); `label` names classes.
 */
export function seriesOf(e: SeriesInput, top1: number | null | undefined, label: (classIndex: number) => string = (c) => `class ${c}`): SeriesOf {
  const isTop1 = top1 !== null && top1 !== undefined && e.targetClass === top1;
  const targetRole = isTop1 ? 'top1' : `class:${e.targetClass}`;
  const name = label(e.targetClass);
  const what = isTop1 ? 'top-1' : name === `class ${e.targetClass}` ? name : `class ${e.targetClass} ${name}`;
  return { series: `${e.method}|${targetRole}|${e.scoreKind}`, seriesLabel: `${e.method} (${what}, ${e.scoreKind})`, targetRole, isEnsemble: isEnsemble(e.method) };
}

/** The parts of a series key. */
export function parseSeries(key: string): { method: string; targetRole: string; scoreKind: string } {
  const [method, targetRole, scoreKind] = key.split('|');
  return { method, targetRole, scoreKind };
}

/** Series keys in a stable order: single methods first, then ensembles; by method, top-1 before fixed classes, then score kind. */
export function orderSeries(keys: string[]): string[] {
  const rank = (k: string) => { const p = parseSeries(k); return [Number(isEnsemble(p.method)), p.method, p.targetRole === 'top1' ? '' : p.targetRole, p.scoreKind] as const; };
  return [...new Set(keys)].sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    return x[0] - y[0] || x[1].localeCompare(y[1]) || x[2].localeCompare(y[2], undefined, { numeric: true }) || x[3].localeCompare(y[3]);
  });
}
