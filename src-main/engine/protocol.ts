// The evaluation protocol (docs/protocol.md): which score each explainer explains by default, and which score
// faithfulness metrics follow. One place says so; `saliency run`/`explain`/`evaluate`, the app, the job runner
// and reports all read it. Metric rows record PROTOCOL_VERSION, and reports refuse to rank rows of different
// protocols.
import type { Metric } from './metrics/types.ts';
import type { ScoreKind, Target } from './types.ts';

/** Bumped whenever a stored metric value would change meaning (score followed, control, baselines, conventions). */
export const PROTOCOL_VERSION = 'sal-1';
/** What metric rows stored before the protocol existed are called (their protocol column is NULL). */
export const PRE_PROTOCOL = 'pre-protocol';

/** The score faithfulness metrics follow: the target class's softmax probability (RISE's protocol). */
export const METRIC_SCORE: ScoreKind = 'probability';

// Perturbation methods regress or average the model's probability in their reference code (lime_image's
// classifier_fn, shap's KernelExplainer/PartitionExplainer on predict_proba, RISE's softmax saliency, Zeiler &
// Fergus occlusion on class probability).
const PROBABILITY_METHODS = new Set(['lime', 'kernelshap', 'partitionshap', 'rise', 'occlusion']);
// Gradient attributions differentiate the logit, as Captum's usual target (pre-softmax output).
const GRADIENT_METHODS = new Set(['saliency', 'inputxgradient', 'integratedgradients', 'smoothgrad', 'guidedbackprop', 'deeplift', 'gradientshap']);

/**
 * The score a method explains by default under the protocol: the CAM family (gradcam, scorecam, ablationcam and
 * the other *cam methods; pytorch-grad-cam targets the logit) and gradient methods -> 'logit'; LIME, KernelSHAP,
 * Partition SHAP, RISE and occlusion -> 'probability'. Ensembles take their members' maps as they are: 'logit'
 * here only names the row; see docs/protocol.md. Unknown names (a future method) default to 'probability', the
 * model-agnostic choice; add them here.
 */
export function referenceScore(method: string): ScoreKind {
  const name = method.trim().toLowerCase();
  if (PROBABILITY_METHODS.has(name)) return 'probability';
  if (GRADIENT_METHODS.has(name) || name.includes('cam')) return 'logit';
  return 'probability';
}

/** Is this method an ensemble (a combination of stored maps, not an explainer)? */
export const isEnsemble = (method: string): boolean => method.startsWith('ensemble');

/**
 * The target a metric uses for an explanation of `target`. Metrics that score perturbed images (faithfulness)
 * follow the class's probability whatever the explanation explained; metrics that re-run the explainer
 * (robustness, randomisation) re-run it on the explanation's own target, score kind included.
 */
export function metricTarget(metric: Pick<Metric, 'tags'>, target: Target): Target {
  return metric.tags.category === 'faithfulness' ? { classIndex: target.classIndex, score: METRIC_SCORE } : target;
}
