// LayerCAM (Jiang et al. 2021): each position weighted by its own positive gradient, map = relu(sum_k relu(g_k) A_k).
import { GradientCam } from './gradient-cam.ts';
import type { CamInputs } from './base-cam.ts';

export class LayerCam extends GradientCam {
  readonly name = 'layercam';
  readonly description = 'LayerCAM (activations weighted by their positive gradients, per position; any layer)';

  protected channelWeights({ gradients, channels, plane }: CamInputs): Float64Array {
    return Float64Array.from(gradients!.subarray(0, channels * plane), (g) => Math.max(0, g));
  }
}
