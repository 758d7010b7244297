// Streams many perturbed inputs through the shared scheduler without holding them all in memory: inputs are
// built chunk by chunk (in order, so seeded sampling stays deterministic), two chunks are in flight so the
// model never waits for the next chunk to be built, and scores are consumed in order.
import type { Classifier } from '../../model/classifier.ts';
import type { PlanarImage } from '../../types.ts';
import { schedulerFor, type ScoreRows } from '../../infer/scheduler.ts';

export interface ChunkedEvalOptions<T> {
  total: number;
  /** Builds inputs start..end-1 plus whatever the consumer needs to keep (e.g. the masks). */
  build: (start: number, end: number) => { inputs: PlanarImage[]; keep: T };
  /** Returning true stops building new chunks (the ones in flight are still consumed). */
  consume: (start: number, rows: ScoreRows, keep: T) => boolean | void;
  /** Inputs per chunk; default 4 model batches (at least 16). */
  chunk?: number;
  /** Inputs of the first chunk (at most chunk, the default): smaller, it brings the first scores (a first partial map) sooner. */
  first?: number;
  signal?: AbortSignal;
}

/** The default chunk: 4 model batches, at least 16 inputs. */
export function defaultChunk(model: Classifier): number {
  return Math.max(16, 4 * schedulerFor(model).batchSize);
}

/** Returns how many inputs were freshly evaluated (the rest came from the scheduler's cache or another caller). */
export async function evaluateChunked<T>(model: Classifier, opts: ChunkedEvalOptions<T>): Promise<number> {
  const scheduler = schedulerFor(model);
  const chunk = Math.max(1, opts.chunk ?? defaultChunk(model));
  const inFlight: { start: number; rows: Promise<ScoreRows>; keep: T }[] = [];
  let fresh = 0;
  let stop = false;
  const finishOldest = async () => {
    const f = inFlight.shift()!;
    const rows = await f.rows;
    fresh += rows.fresh ?? 0;
    if (opts.consume(f.start, rows, f.keep) === true) stop = true;
  };
  for (let start = 0; start < opts.total && !stop;) {
    // After a smaller first chunk, the next one ends at `chunk`: later chunks keep their boundaries (what is in
    // flight when a consumer stops, e.g. an auto budget, does not depend on `first`).
    const end = Math.min(opts.total, start === 0 ? Math.min(chunk, Math.max(1, opts.first ?? chunk)) : (Math.floor(start / chunk) + 1) * chunk);
    const { inputs, keep } = opts.build(start, end);
    const rows = scheduler.evaluate(inputs, { signal: opts.signal });
    rows.catch(() => undefined); // a later chunk may fail while an earlier one is awaited: handled below
    inFlight.push({ start, rows, keep });
    start = end;
    if (inFlight.length >= 2) await finishOldest();
  }
  while (inFlight.length > 0) await finishOldest();
  return fresh;
}
