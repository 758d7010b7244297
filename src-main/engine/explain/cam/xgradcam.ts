// XGrad-CAM (Fu et al. 2020) as pytorch-grad-cam computes it: weight_k = sum_ij g_ij A_ij / (sum_ij A_ij + 1e-7).
import { GradientCam } from './gradient-cam.ts';
import type { CamInputs } from './base-cam.ts';

export class XGradCam extends GradientCam {
  readonly name = 'xgradcam';
  readonly description = 'XGrad-CAM (activation-weighted gradients, normalised by the channel sum; via the backward graph)';

  protected channelWeights({ features, gradients, channels, plane }: CamInputs): Float64Array {
    const alpha = new Float64Array(channels);
    for (let k = 0; k < channels; k++) {
      let sumA = 0;
      let sumGA = 0;
      for (let p = 0; p < plane; p++) {
        const a = features[k * plane + p];
        sumA += a;
        sumGA += gradients![k * plane + p] * a;
      }
      alpha[k] = sumGA / (sumA + 1e-7);
    }
    return alpha;
  }
}
