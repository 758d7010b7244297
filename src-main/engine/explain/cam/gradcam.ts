// Grad-CAM. At layer=auto, in closed form for global-average-pool -> linear heads: the gradient of the logit with
// respect to every position of channel k is W[c,k]/Z, so alpha_k = W[c,k]/Z and Grad-CAM equals CAM. For the
// probability, d p_c / d A_k = p_c (W[c,k] - sum_j p_j W[j,k]) / Z.
// At any other layer (a tensor or block name), alpha_k = the mean over positions of the gradient from the compiled
// backward graph (pytorch-grad-cam's GradCAM); at the last block the two agree (tested).
import { BaseCam, headRow, type CamActivations, type CamInputs, type CamSettings } from './base-cam.ts';
import type { LayerCamSettings } from './gradient-cam.ts';
import type { ExplainContext, PreparedImage } from '../types.ts';
import type { Target } from '../../types.ts';
import { layerActivations, layerSetting } from '../gradient/layer-gradients.ts';

export class GradCam extends BaseCam {
  readonly name = 'gradcam';
  readonly description = 'Grad-CAM (exact, from the linear head over the last feature block; any layer via the backward graph)';

  override settings(partial: Partial<LayerCamSettings>): LayerCamSettings {
    return { ...super.settings(partial), layer: layerSetting(this.name, partial.layer) };
  }

  protected override activations(image: PreparedImage, target: Target, settings: CamSettings, ctx: ExplainContext): Promise<CamActivations> {
    const layer = (settings as LayerCamSettings).layer ?? 'auto';
    return layer === 'auto' ? super.activations(image, target, settings, ctx) : layerActivations(ctx.model, image, target, layer, this.name, ctx.signal);
  }

  protected channelWeights({ model, channels, plane, probabilities, target, gradients }: CamInputs): Float64Array {
    const alpha = new Float64Array(channels);
    if (gradients) {
      for (let k = 0; k < channels; k++) {
        let s = 0;
        for (let p = 0; p < plane; p++) s += gradients[k * plane + p];
        alpha[k] = s / plane;
      }
      return alpha;
    }
    const wc = headRow(model, target.classIndex);
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
