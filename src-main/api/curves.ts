// Deletion and insertion curves for the Compare screen, from the metrics engine (no control run: the plot
// shows the curves themselves).
import type { Classifier } from '../engine/model/classifier.ts';
import type { PreparedImage } from '../engine/explain/types.ts';
import type { Map2D, Target } from '../engine/types.ts';
import { deletion } from '../engine/metrics/deletion.ts';
import { insertion } from '../engine/metrics/insertion.ts';

export interface Curves { deletion: number[]; insertion: number[]; deletionAuc: number; insertionAuc: number }

export async function deletionInsertion(model: Classifier, image: PreparedImage, map: Map2D, target: Target, steps: number): Promise<Curves> {
  const input = { image, target, map, model };
  const d = await deletion.compute(input, deletion.settings({ steps, control: false }), 0);
  const i = await insertion.compute(input, insertion.settings({ steps, control: false } as never), 0);
  return { deletion: d.curve?.y ?? [], insertion: i.curve?.y ?? [], deletionAuc: d.value, insertionAuc: i.value };
}
