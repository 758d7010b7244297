// Messages between the job runner (main thread) and its workers (one ONNX session each).
import type { ModelInfo, Provider } from '../model/classifier.ts';
import type { MetricInput } from '../store/results-repo.ts';
import type { TopKEntry } from '../store/results-repo.ts';
import type { Map2D, ScoreKind } from '../types.ts';

export interface WorkerInit {
  modelPath: string;
  threads: number;
  /** Execution provider and batch size (fleet workers: --provider, --batch-size; default cpu, the model's). */
  provider?: Provider;
  batchSize?: number;
  /** Metrics computed for every explanation (validated settings per name) with this seed. */
  metrics: { names: string[]; settings: Record<string, Record<string, unknown>>; seed: number };
}

/** Explain the image with a method (target: the model's top-1 class), then compute the job's metrics. */
export interface ExplainItem { kind: 'explain'; itemId: number; method: string; score: ScoreKind; settings: Record<string, unknown>; seed: number }
/** Compute the job's metrics for a map made in the main thread (an ensemble). */
export interface JudgeItem {
  kind: 'judge'; itemId: number;
  explanation: { method: string; targetClass: number; score: ScoreKind; map: Map2D; settings: Record<string, unknown>; seed: number };
}

/** One image and its items, done in order. */
export interface ImageTask {
  type: 'task';
  taskId: number;
  path: string;
  items: (ExplainItem | JudgeItem)[];
  topK: number;
}

/** Metric rows as the store takes them, explanationId left 0: the runner fills it in when it saves the map. */
export interface MetricsOutcome { rows: MetricInput[]; errors: { metric: string; error: string }[] }

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
  metrics: MetricsOutcome;
}

export interface JudgeResult { type: 'judged'; taskId: number; itemId: number; metrics: MetricsOutcome; millis: number }

/** 'abort': stop the task's model evaluations at the next batch (pause, cancel); its unfinished items come back as
 *  'item-aborted'. 'stop': finish, dispose the session and exit. */
export type ToWorker = ImageTask | { type: 'abort'; taskId: number } | { type: 'stop' };
export type FromWorker =
  | { type: 'ready'; info: ModelInfo }
  | ItemResult
  | JudgeResult
  | { type: 'item-error'; taskId: number; itemId: number; message: string; code: string }
  /** An item's method reports progress; evaluations: the worker's model evaluations so far (scheduler stats). */
  | { type: 'item-progress'; taskId: number; itemId: number; fraction: number; evaluations: number }
  /** An item stopped by an abort (not stored); evaluations: the worker's so far, evaluationsAfterAbort: those made
   *  after the abort arrived (the batch that was running), both counted once no batch runs any more. */
  | { type: 'item-aborted'; taskId: number; itemId: number; evaluations: number; evaluationsAfterAbort: number }
  | { type: 'task-done'; taskId: number }
  | { type: 'fatal'; message: string; code: string };
