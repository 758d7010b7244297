// Which methods a model can run: the CAM family reads the model's linear head (GAP -> linear) and needs one.
import type { ModelInfo } from '../model/classifier.ts';
import { SaliencyError } from '../types.ts';

export const needsLinearHead = (method: string) => method.includes('cam');

/** Refuses, before any work, methods the model cannot run (instead of one failure per image). */
export function checkRunnable(info: ModelInfo, methods: string[]): void {
  if (info.head.found) return;
  const bad = methods.filter(needsLinearHead);
  if (bad.length) {
    throw new SaliencyError(
      `model ${info.name}: ${bad.join(', ')} ${bad.length > 1 ? 'need' : 'needs'} a linear head the model does not have (${info.head.reason}); ` +
      'model-agnostic methods (lime, kernelshap, partitionshap, rise, occlusion) can run', 'NO_CAM_HEAD');
  }
}
