// What a map explains, in words: its method, target class, score kind and settings (for captions and hovers).
import type { ExplanationSummaryT } from '../../../src-main/api/contract.ts';

export function settingsText(settings: Record<string, unknown>): string {
  return Object.entries(settings).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ');
}

/** e.g. "class 1 goldfish · logit · seed 0 · samples=1000, segments=100" */
export function explanationInfo(e: Pick<ExplanationSummaryT, 'method' | 'target' | 'targetLabel' | 'settings' | 'seed'>): string {
  const s = settingsText(e.settings);
  return `${e.method}: class ${e.target.classIndex} ${e.targetLabel} · ${e.target.score} · seed ${e.seed}${s ? ` · ${s}` : ''}`;
}

/** The short caption under a map: class and score kind. */
export function targetCaption(e: Pick<ExplanationSummaryT, 'target' | 'targetLabel'>): string {
  return `→ ${e.targetLabel} (${e.target.score})`;
}
