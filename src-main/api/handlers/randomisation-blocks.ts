// How many parameter blocks the model-randomisation sanity check randomises with steps = 0 (all), for the
// study's cost estimate: counted on the model file as the metric counts them (parameterBlocks).
import { readFileSync } from 'node:fs';
import type { Classifier } from '../../engine/model/classifier.ts';
import { decodeModel } from '../../engine/model/onnx-graph.ts';
import { parameterBlocks } from '../../engine/metrics/model-randomisation.ts';

const counted = new WeakMap<Classifier, number>();
export function randomisationBlocks(model: Classifier): number {
  let n = counted.get(model);
  if (n === undefined) {
    n = model.info.path ? parameterBlocks(decodeModel(readFileSync(model.info.path), model.info.name)).length : 1;
    counted.set(model, n);
  }
  return n;
}
