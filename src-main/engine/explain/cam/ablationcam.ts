// Ablation-CAM (Desai & Ramaswamy 2020) in closed form for global-average-pool -> linear heads: zeroing
// channel k lowers every logit j by W[j,k]*gap_k, so no ablated forward pass is needed.
// alpha_k = (y_c - y_c^k) / y_c: for the logit W[c,k]*gap_k / |y_c| (|.| so a negative logit does not flip
// the map), for the probability (p_c - softmax(z - W[:,k]*gap_k)_c) / p_c.
import { BaseCam, headRow, type CamInputs } from './base-cam.ts';

export class AblationCam extends BaseCam {
  readonly name = 'ablationcam';
  readonly description = 'Ablation-CAM (exact, closed form: the score drop when each channel is removed)';

  protected channelWeights({ model, channels, pooled, logits, probabilities, target }: CamInputs): Float64Array {
    const c = target.classIndex;
    const wc = headRow(model, c);
    const alpha = new Float64Array(channels);
    if (target.score === 'logit') {
      const y = Math.abs(logits[c]) || 1;
      for (let k = 0; k < channels; k++) alpha[k] = (wc[k] * pooled[k]) / y;
      return alpha;
    }
    const { weights, numClasses } = model.head!.head;
    const pc = probabilities[c];
    for (let k = 0; k < channels; k++) {
      // p_c^k = 1 / sum_j exp(z_j^k - z_c^k), with z^k = z - W[:,k]*gap_k
      let s = 0;
      for (let j = 0; j < numClasses; j++) s += Math.exp(logits[j] - logits[c] - (weights[j * channels + k] - wc[k]) * pooled[k]);
      alpha[k] = (pc - 1 / s) / pc;
    }
    return alpha;
  }
}
