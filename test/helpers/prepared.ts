// The transform of an image given to the model as it is: no resize, no crop (synthetic test inputs).
import type { PreparedImage } from '../../src-main/engine/explain/types.ts';

export const identityTransform = (size: number): PreparedImage['transform'] =>
  ({ originalWidth: size, originalHeight: size, crop: { x: 0, y: 0, width: size, height: size }, inputWidth: size, inputHeight: size });
