// Grad-CAM++ (Chattopadhay et al. 2018) as pytorch-grad-cam computes it (eq. 19 with the exponential dropped,
// i.e. on the score itself): a_ij = g^2 / (2 g^2 + sum(A) g^3), weight_k = sum_ij relu(g_ij) a_ij.
import { GradientCam } from './gradient-cam.ts';
import type { CamInputs } from './base-cam.ts';

export class GradCamPlusPlus extends GradientCam {
  readonly name = 'gradcampp';
  readonly description = 'Grad-CAM++ (second-order weighting of positive gradients, via the backward graph)';

  protected channelWeights({ features, gradients, channels, plane }: CamInputs): Float64Array {
    const alpha = new Float64Array(channels);
    for (let k = 0; k < channels; k++) {
      let sumA = 0;
      for (let p = 0; p < plane; p++) sumA += features[k * plane + p];
      let w = 0;
      for (let p = 0; p < plane; p++) {
        const g = gradients![k * plane + p];
        if (g <= 0) continue; // relu(g) = 0, and a_ij = 0 where g = 0
        const g2 = g * g;
        w += g * (g2 / (2 * g2 + sumA * g2 * g + 1e-6));
      }
      alpha[k] = w;
    }
    return alpha;
  }
}
