// Every explanation method by name. Adding a method = one line in EXPLAINERS.
import type { Explainer } from './types.ts';
import { SaliencyError } from '../types.ts';
import { GradCam } from './cam/gradcam.ts';
import { Lime } from './perturb/lime.ts';
import { KernelShap } from './perturb/kernelshap.ts';
import { Rise } from './perturb/rise.ts';
import { Occlusion } from './perturb/occlusion.ts';
import { PartitionShap } from './perturb/partition-shap.ts';
import { ScoreCam } from './cam/scorecam.ts';
import { AblationCam } from './cam/ablationcam.ts';
import { GradCamPlusPlus } from './cam/gradcampp.ts';
import { LayerCam } from './cam/layercam.ts';
import { XGradCam } from './cam/xgradcam.ts';
import { Saliency } from './gradient/saliency.ts';
import { InputXGradient } from './gradient/inputxgradient.ts';
import { IntegratedGradients } from './gradient/integrated-gradients.ts';
import { SmoothGrad } from './gradient/smoothgrad.ts';

const EXPLAINERS: Record<string, () => Explainer<any>> = {
  gradcam: () => new GradCam(),
  lime: () => new Lime(),
  kernelshap: () => new KernelShap(),
  partitionshap: () => new PartitionShap(),
  rise: () => new Rise(),
  occlusion: () => new Occlusion(),
  scorecam: () => new ScoreCam(),
  ablationcam: () => new AblationCam(),
  gradcampp: () => new GradCamPlusPlus(),
  layercam: () => new LayerCam(),
  xgradcam: () => new XGradCam(),
  saliency: () => new Saliency(),
  inputxgradient: () => new InputXGradient(),
  integratedgradients: () => new IntegratedGradients(),
  smoothgrad: () => new SmoothGrad(),
};

export const EXPLAINER_NAMES: string[] = Object.keys(EXPLAINERS);

export function getExplainer(name: string): Explainer<any> {
  const make = Object.hasOwn(EXPLAINERS, name) ? EXPLAINERS[name] : undefined;
  if (!make) {
    throw new SaliencyError(`unknown explanation method "${name}"; known methods: ${EXPLAINER_NAMES.join(', ')}`, 'UNKNOWN_METHOD');
  }
  return make();
}
