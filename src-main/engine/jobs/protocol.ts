// Messages between the job runner (main thread) and its workers (one ONNX session each).
import type { ModelInfo } from '../model/classifier.ts';
import type { TopKEntry } from '../store/results-repo.ts';
import type { Map2D, ScoreKind } from '../types.ts';

export interface WorkerInit { modelPath: string; threads: number }

/** One image and the items (methods) to explain on it; the target is the model's top-1 class. */
export interface ImageTask {
  type: 'task';
  taskId: number;
  path: string;
  items: { itemId: number; method: string; score: ScoreKind; settings: Record<string, unknown>; seed: number }[];
  topK: number;
}

export interface ItemResult {
  type: 'result';
  taskId: number;
  itemId: number;
  sha256: string;
  prediction: TopKEntry[];
  explanation: {
    method: string; targetClass: number; score: ScoreKind; map: Map2D; native: Map2D | null; evaluations: number;
    settings: Record<string, unknown>; seed: number; extras: Record<string, unknown>; millis: number;
  };
}

export type ToWorker = ImageTask | { type: 'stop' };
export type FromWorker =
  | { type: 'ready'; info: ModelInfo }
  | ItemResult
  | { type: 'item-error'; taskId: number; itemId: number; message: string; code: string }
  | { type: 'task-done'; taskId: number }
  | { type: 'fatal'; message: string; code: string };
