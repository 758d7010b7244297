// The CAMs that need the gradient at a layer (Grad-CAM++, LayerCAM, XGrad-CAM): the BaseCAM pipeline with the
// layer's activations and gradient from the compiled backward graph. `layer` = auto (the block before the global
// average pooling), a tensor name or a block name (Mixed_6e).
import { BaseCam, type CamActivations, type CamSettings } from './base-cam.ts';
import type { ExplainContext, PreparedImage } from '../types.ts';
import type { Target } from '../../types.ts';
import { layerActivations, layerSetting } from '../gradient/layer-gradients.ts';

export type LayerCamSettings = CamSettings & { layer: string };

export abstract class GradientCam extends BaseCam {
  override settings(partial: Partial<LayerCamSettings>): LayerCamSettings {
    return { ...super.settings(partial), layer: layerSetting(this.name, partial.layer) };
  }

  protected override activations(image: PreparedImage, target: Target, settings: CamSettings, ctx: ExplainContext): Promise<CamActivations> {
    return layerActivations(ctx.model, image, target, (settings as LayerCamSettings).layer, this.name, ctx.signal);
  }
}
