// A tiny ONNX classifier with a CAM-style head whose evidence is known by construction:
//   redness = ReLU(R - (G+B)/2 - 0.1), greenness = ReLU(G - (R+B)/2 - 0.1) per pixel (unit preset, 0..1),
//   8x8 average pooling -> feature block [2, S/8, S/8] -> global average pool -> Gemm (logit 0 = 100 x mean
//   redness, logit 1 = 100 x mean greenness).
// On a grey picture with one red and one green square, class 0's evidence is the red square, class 1's the green
// one. Built with the engine's OnnxBuilder, so CAM methods (feature block + linear head) apply too.
import { OnnxBuilder } from '../../src-main/engine/model/onnx-builder.ts';
import type { PlanarImage } from '../../src-main/engine/types.ts';

export interface Box { x0: number; y0: number; x1: number; y1: number }

export const SIZE = 64;
export const RED: Box = { x0: 8, y0: 40, x1: 24, y1: 56 };
export const GREEN: Box = { x0: 40, y0: 8, x1: 56, y1: 24 };

export function gapEvidenceModelBytes(size = SIZE): Uint8Array {
  const b = new OnnxBuilder({ producer: 'saliency-studio-test', graphName: 'gap-evidence' });
  const image = b.input('image', ['batch', 3, size, size]);
  const colour = b.conv(image, b.initializer('Wc', [1, -0.5, -0.5, -0.5, 1, -0.5], [2, 3, 1, 1]), b.initializer('bc', [-0.1, -0.1], [2]), { kernel: [1, 1] });
  const features = b.node('AveragePool', [b.relu(colour)], { kernel_shape: [8, 8], strides: [8, 8] });
  b.gemm(b.flatten(b.globalAveragePool(features)), b.initializer('Wg', [100, 0, 0, 100], [2, 2]), b.initializer('bg', [0, 0], [2]), 'logits');
  b.output('logits', ['batch', 2]);
  b.metadata('saliency.preset', 'unit');
  return b.toBytes();
}

/** Grey background with a red square (RED) and a green square (GREEN). */
export function twoSquaresImage(size = SIZE): PlanarImage {
  const plane = size * size;
  const data = new Float32Array(3 * plane).fill(128);
  const paint = (b: Box, rgb: [number, number, number]) => {
    for (let y = b.y0; y < b.y1; y++) for (let x = b.x0; x < b.x1; x++) for (let c = 0; c < 3; c++) data[c * plane + y * size + x] = rgb[c];
  };
  paint(RED, [220, 30, 30]);
  paint(GREEN, [30, 220, 30]);
  return { width: size, height: size, data };
}

export const inBox = (b: Box, x: number, y: number) => x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1;
