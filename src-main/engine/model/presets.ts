// Preprocessing presets: how an RGB 0..255 image becomes the model's input tensor.
import type { Layout, PlanarImage, PresetName } from '../types.ts';
import { SaliencyError } from '../types.ts';

export interface Preset {
  name: PresetName;
  description: string;
  /** Channel order fed to the model for 3-channel inputs. */
  order: 'RGB' | 'BGR';
  /** value = (pixel * scale - mean[c]) / std[c], per channel in model order. */
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
}

export const PRESETS: Record<PresetName, Preset> = {
  torchvision: {
    name: 'torchvision', description: 'RGB, /255, ImageNet mean (0.485,0.456,0.406) and std (0.229,0.224,0.225)',
    order: 'RGB', scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225],
  },
  inception: {
    name: 'inception', description: 'RGB scaled to [-1,1] (x/127.5 - 1)',
    order: 'RGB', scale: 1 / 127.5, mean: [1, 1, 1], std: [1, 1, 1],
  },
  caffe: {
    name: 'caffe', description: 'BGR, 0-255 minus the per-channel mean (104,117,123)',
    order: 'BGR', scale: 1, mean: [104, 117, 123], std: [1, 1, 1],
  },
  unit: {
    name: 'unit', description: 'RGB (or grey), /255 to [0,1]',
    order: 'RGB', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1],
  },
};

/**
 * The RGB colour (0..255) that the preset maps to an all-zero input: the ImageNet mean for the ImageNet presets,
 * grey for inception, black for unit. Masking the normalised tensor with zeros, as RISE's and Score-CAM's
 * reference code do, paints masked pixels this colour.
 */
export function presetZeroColour(preset: Preset): [number, number, number] {
  const model = preset.mean.map((m) => m / preset.scale);
  return preset.order === 'BGR' ? [model[2], model[1], model[0]] : [model[0], model[1], model[2]];
}

export function presetByName(name: string): Preset {
  const p = (PRESETS as Record<string, Preset>)[name];
  if (!p) throw new SaliencyError(`unknown preset "${name}" (known: ${Object.keys(PRESETS).join(', ')})`, 'BAD_SETTING');
  return p;
}

/**
 * Writes `images` into one batch tensor [n,C,H,W] or [n,H,W,C].
 * Grey models (C=1) get the luma (ITU-R 601) of the RGB image with the first channel's mean and std.
 */
export function toModelTensor(images: PlanarImage[], preset: Preset, layout: Layout, channels: 1 | 3): Float32Array {
  if (images.length === 0) return new Float32Array(0);
  const { width, height } = images[0];
  const plane = width * height;
  const out = new Float32Array(images.length * channels * plane);
  const src = preset.order === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  images.forEach((img, n) => {
    if (img.width !== width || img.height !== height) throw new SaliencyError('images in a batch must share one size');
    const base = n * channels * plane;
    const d = img.data;
    for (let c = 0; c < channels; c++) {
      const k = preset.scale / preset.std[c];
      const shift = preset.mean[c] / preset.std[c];
      // One tight loop per case: this runs for every evaluated image (thousands per explanation).
      if (channels === 1) {
        for (let p = 0; p < plane; p++) out[base + p] = (0.299 * d[p] + 0.587 * d[plane + p] + 0.114 * d[2 * plane + p]) * k - shift;
      } else if (layout === 'NCHW') {
        const from = src[c] * plane;
        const to = base + c * plane;
        for (let p = 0; p < plane; p++) out[to + p] = d[from + p] * k - shift;
      } else {
        const from = src[c] * plane;
        for (let p = 0; p < plane; p++) out[base + p * channels + c] = d[from + p] * k - shift;
      }
    }
  });
  return out;
}
