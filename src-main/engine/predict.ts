// Top-k predictions of a model for prepared images.
import type { Classifier } from './model/classifier.ts';
import type { PlanarImage } from './types.ts';
import { topK } from './util/math.ts';

export interface Prediction {
  classIndex: number;
  label: string;
  probability: number;
  logit: number;
}

export async function predictTopK(model: Classifier, inputs: PlanarImage[], k = 5): Promise<Prediction[][]> {
  const out = await model.predict(inputs);
  const K = out.numClasses;
  return inputs.map((_, i) => topK(out.probabilities, Math.min(k, K), i * K, K).map((c) => ({
    classIndex: c,
    label: model.labels[c]?.full ?? model.labels[c]?.label ?? `class ${c}`,
    probability: out.probabilities[i * K + c],
    logit: out.logits[i * K + c],
  })));
}
