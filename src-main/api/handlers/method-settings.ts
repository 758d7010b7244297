// Each method's settings as a form (name, type, default, range or choices, description) and their validation,
// for the app's settings panel. Nothing here re-states a rule: defaults come from the explainer's settings({}),
// ranges and choices are read off the refusal the CLI's own check (check-settings.ts resolveSettings) gives a
// value no setting accepts, and a form is checked by turning its text into values exactly as `--set
// method.key=value` does (the CLI's parseSettings) and running resolveSettings on them.
import type { Res } from '../contract.ts';
import { EXPLAINER_NAMES, getExplainer } from '../../engine/explain/registry.ts';
import { resolveSettings } from '../../engine/explain/check-settings.ts';
import { parseSettings } from '../../cli/commands/explain.ts';
import { SaliencyError } from '../../engine/types.ts';
import type { Handlers } from '../context.ts';
import type { ApiService } from '../service.ts';

type Field = Res<'methods.settings'>[number]['fields'][number];

/** What each setting means (documentation only: the rules stay with the explainers). */
const DESCRIPTIONS: Record<string, string> = {
  samples: 'perturbed inputs scored (model evaluations); "auto" stops when the estimate is precise enough',
  masks: 'random masks scored (model evaluations); "auto" stops when the map is precise enough',
  maxEvals: 'model evaluations of the hierarchical Shapley estimate',
  segmentation: 'how the image is cut into superpixels',
  segments: 'superpixels (about)',
  compactness: 'SLIC compactness: higher gives squarer superpixels',
  baseline: 'what a removed region is replaced by',
  blurSigma: 'blur baseline: Gaussian sigma in pixels (0 = automatic)',
  progressEvery: 'evaluations between progress reports and partial maps',
  kernelWidth: 'LIME kernel width on the cosine distance to the full image',
  alpha: 'ridge penalty of the surrogate regression',
  roundSize: 'coalitions scored per round',
  cells: 'mask grid cells per side',
  p: 'probability that a grid cell is kept',
  window: 'occluding patch side in pixels',
  stride: 'step between patches in pixels',
  relu: 'keep only positive evidence (ReLU on the map)',
  layer: 'the convolutional layer ("auto": the last one before the head)',
  topK: 'activation channels used (0 = all)',
  channels: 'how the three colour channels of the gradient become one map',
  steps: 'integration steps (model evaluations, forward + backward)',
  method: 'integration rule',
  noise: 'noise level as a fraction of the input range',
  type: 'SmoothGrad variant',
  auto: 'stop when the estimate is precise enough (the budget is then the cap); same as budget "auto"',
  controlVariate: 'RISE: subtract the mean score (a control variate): the same expected map with less noise; not the authors\' estimator',
  cellRegression: 'RISE: subtract the score\'s linear regression on the grid cells (a control variate whose share of the map is known exactly): less noise than controlVariate; not the authors\' estimator',
  sharedPool: 'LIME and KernelSHAP: both use one pool of coalitions (uniform pairs and pairs of leverage-score sizes), each importance-weighted, so the second costs almost no new evaluations; not lime\'s or shap\'s sampler; an auto budget then stops when the rows left to the cap would add at most that precision (a share) of the seed-to-seed Spearman predicted at the cap from two half-samples',
  leverage: 'KernelSHAP: draw coalition sizes by leverage scores (Musco & Witter 2025), importance-weighted: the same Shapley values with less noise; not shap\'s sampler',
};

/** One setting's form field: its default and the bounds or choices named by the refusal of a value that fails every rule. */
function describeField(method: string, key: string, fallback: unknown): Field {
  const e = getExplainer(method);
  const refusal = (value: unknown): string | null => {
    try { resolveSettings(e, { [key]: value }); return null; } catch (err) { return (err as Error).message; }
  };
  const field: Field = { key, type: 'string', default: fallback as Field['default'], description: DESCRIPTIONS[key] ?? '' };
  if (typeof fallback === 'boolean') return { ...field, type: 'boolean' };
  if (typeof fallback === 'number') {
    const msg = refusal(Number.NaN) ?? '';
    const whole = /whole number/.test(msg);
    const between = /between (-?[\d.e+]+|-?Infinity) and (-?[\d.e+]+|Infinity)/.exec(msg);
    const atLeast = /of at least (-?[\d.e+]+)/.exec(msg);
    const interval = /number in ([[(])(-?[\d.e+]+|-?Infinity), (-?[\d.e+]+|Infinity)([\])])/.exec(msg);
    const num = (s: string) => (Number.isFinite(Number(s)) ? Number(s) : null);
    const out: Field = { ...field, type: whole ? 'integer' : 'number', auto: refusal('auto') === null };
    if (between) Object.assign(out, { min: num(between[1]), max: num(between[2]) });
    else if (atLeast) Object.assign(out, { min: num(atLeast[1]) });
    else if (interval) Object.assign(out, { min: num(interval[2]), max: num(interval[3]), minExclusive: interval[1] === '(', maxExclusive: interval[4] === ')' });
    return out;
  }
  const choices = /one of ([\w, -]+?)(?: \(got|$)/.exec(refusal('\u0001') ?? '');
  return choices ? { ...field, choices: choices[1].split(', ') } : field;
}

const forms = new Map<string, Res<'methods.settings'>[number]>();
/** The settings form of a method (cached: explainers' rules do not change while the app runs). */
export function settingsForm(method: string): Res<'methods.settings'>[number] {
  let form = forms.get(method);
  if (!form) {
    const e = getExplainer(method);
    // every setting with its default, then the opt-in switches (off by default: absent from settings({}))
    const fields = [...Object.entries(e.settings({})), ...(e.switches ?? []).map((k) => [k, false] as const)];
    form = { method, description: e.description, fields: fields.map(([k, v]) => describeField(method, k, v)) };
    forms.set(method, form);
  }
  return form;
}

/** Settings typed from form text as `--set method.key=value` types them; blank fields are left to the default. */
export function settingsFromText(method: string, values: Record<string, string>): Record<string, unknown> {
  const items = Object.entries(values).filter(([, v]) => v.trim() !== '').map(([k, v]) => `${method}.${k}=${v.trim()}`);
  return parseSettings(items)[method] ?? {};
}

/** The CLI's check of a study's or job's settings: only chosen methods, each resolved by its explainer. */
export function checkMethodSettings(methods: string[], settings: Record<string, Record<string, unknown>>): void {
  for (const [m, partial] of Object.entries(settings)) {
    if (!methods.includes(m)) throw new SaliencyError(`settings name "${m}", which is not among the methods ${methods.join(', ')}`, 'BAD_SETTING');
    resolveSettings(getExplainer(m), partial);
  }
}

export function methodSettingsHandlers(_s: ApiService): Handlers<'methods.settings' | 'methods.check'> {
  return {
    'methods.settings': async () => EXPLAINER_NAMES.map(settingsForm),
    'methods.check': async ({ method, values }) => {
      const e = getExplainer(method);
      const errors: Record<string, string> = {};
      const typed: Record<string, Record<string, unknown>> = {};
      for (const [key, text] of Object.entries(values)) {
        try { typed[key] = settingsFromText(method, { [key]: text }); } catch (err) { errors[key] = (err as Error).message; }
      }
      const refusal = (keys: string[]): string | null => {
        try { resolveSettings(e, Object.assign({}, ...keys.map((k) => typed[k]))); return null; } catch (err) { return (err as Error).message; }
      };
      const settings: Record<string, unknown> = Object.assign({}, ...Object.values(typed));
      // The fields together first (window 56 with stride 56 is fine even though stride 56 alone exceeds the default
      // window); if refused, each field refused alone gets its line, else each field without which the rest passes.
      const keys = Object.keys(typed);
      const together = refusal(keys);
      let error: string | null = null;
      if (together !== null) {
        for (const k of keys) {
          const alone = refusal([k]);
          if (alone !== null) errors[k] = alone;
          else if (refusal(keys.filter((x) => x !== k)) === null) errors[k] = together;
        }
        if (!Object.keys(errors).length) error = together;
      }
      const resolved = Object.keys(errors).length || error ? null : resolveSettings(e, settings);
      return { settings, resolved, errors, error };
    },
  };
}
