// Grad-CAM in closed form for global-average-pool -> linear heads: the gradient of the logit with respect
// to every position of channel k is W[c,k]/Z, so alpha_k = W[c,k]/Z and Grad-CAM equals CAM. For the
// probability, d p_c / d A_k = p_c (W[c,k] - sum_j p_j W[j,k]) / Z.
import { BaseCam, headRow, type CamInputs } from './base-cam.ts';

export class GradCam extends BaseCam {
  readonly name = 'gradcam';
  readonly description = 'Grad-CAM (exact, from the linear head over the last feature block)';

  protected channelWeights({ model, channels, plane, probabilities, target }: CamInputs): Float64Array {
    const wc = headRow(model, target.classIndex);
    const alpha = new Float64Array(channels);
    if (target.score === 'logit') {
      for (let k = 0; k < channels; k++) alpha[k] = wc[k] / plane;
      return alpha;
    }
    const { weights, numClasses } = model.head!.head;
    const pc = probabilities[target.classIndex];
    const expected = new Float64Array(channels);
    for (let j = 0; j < numClasses; j++) {
      const pj = probabilities[j];
      for (let k = 0; k < channels; k++) expected[k] += pj * weights[j * channels + k];
    }
    for (let k = 0; k < channels; k++) alpha[k] = (pc * (wc[k] - expected[k])) / plane;
    return alpha;
  }
}
