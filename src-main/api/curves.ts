// Deletion and insertion of stored maps for the app (Compare's curves, metric-derived ensemble weights), through
// the engine's one metric path (computeMetrics): curves follow the target's probability under the evaluation
// protocol, whatever score the map explains, with the protocol's random-map control unless asked not to.
import type { Classifier } from '../engine/model/classifier.ts';
import type { PreparedImage } from '../engine/explain/types.ts';
import type { MetricInput, StoredExplanation } from '../engine/store/results-repo.ts';
import { computeMetrics, planMetrics } from '../engine/pipeline/evaluate-stored.ts';
import { SaliencyError } from '../engine/types.ts';

export interface Curves {
  deletion: number[]; insertion: number[]; deletionAuc: number; insertionAuc: number;
  deletionControl: number | null; insertionControl: number | null;
  /** The metric rows, ready for the store (they record the protocol). */
  rows: MetricInput[];
}

export async function deletionInsertion(model: Classifier, image: PreparedImage, e: StoredExplanation, steps: number, control = true): Promise<Curves> {
  const plans = planMetrics(['deletion', 'insertion'], { deletion: { steps, control }, insertion: { steps, control } });
  const { rows, errors } = await computeMetrics(model, image, e, plans, 0);
  if (errors.length) throw new SaliencyError(`${e.method}: ${errors.map((x) => `${x.metric}: ${x.error}`).join('; ')}`, 'BAD_METRIC');
  const [d, i] = ['deletion', 'insertion'].map((n) => rows.find((r) => r.name === n)!);
  const ys = (r: MetricInput) => (r.curve as { y?: number[] } | null)?.y ?? [];
  return {
    deletion: ys(d), insertion: ys(i), deletionAuc: d.value!, insertionAuc: i.value!,
    deletionControl: d.randomValue ?? null, insertionControl: i.randomValue ?? null, rows,
  };
}
