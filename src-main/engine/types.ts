// Core data types shared by the whole engine. Kept free of any runtime dependency.

/** An RGB image at model-input resolution: planar float32 [3,H,W], values 0..255, before the
 * model-specific normalisation. Explainers perturb images in this space (baselines are colours). */
export interface PlanarImage {
  width: number;
  height: number;
  data: Float32Array;
}

/** A 2-D map, row-major float32 (saliency, masks, ground truth). */
export interface Map2D {
  width: number;
  height: number;
  data: Float32Array;
}

/** Where the model input came from in the original image (so maps can be drawn on the original). */
export interface ImageTransform {
  originalWidth: number;
  originalHeight: number;
  /** The region of the original image, in original pixels, that the model input covers. */
  crop: { x: number; y: number; width: number; height: number };
  /** Model input size. */
  inputWidth: number;
  inputHeight: number;
}

export type Layout = 'NCHW' | 'NHWC';
export type PresetName = 'torchvision' | 'inception' | 'caffe' | 'unit';
export type ResizePolicy = 'crop' | 'direct';
export type ScoreKind = 'logit' | 'probability';

/** The class score an explanation is about. */
export interface Target {
  classIndex: number;
  score: ScoreKind;
}

/** A tensor read back from the model, with its dimensions. */
export interface TensorData {
  data: Float32Array;
  dims: number[];
}

/** What the model returns for a batch of n images. */
export interface ModelOutputs {
  n: number;
  numClasses: number;
  /** n x K pre-softmax scores (when the model outputs probabilities and no logits were found: log p). */
  logits: Float32Array;
  /** n x K probabilities. */
  probabilities: Float32Array;
  /** The last spatial feature block, NCHW [n,C,h,w], when requested and available. */
  features?: TensorData;
}

export class SaliencyError extends Error {
  constructor(message: string, readonly code: string = 'ERROR') {
    super(message);
    this.name = 'SaliencyError';
  }
}
