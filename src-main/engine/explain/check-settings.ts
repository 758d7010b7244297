// Validation of explainer settings: each failure is a SaliencyError that names the method and the setting.
import { SaliencyError } from '../types.ts';

/**
 * Upper limits of the settings that set how much work and memory an explanation takes. Perturbed inputs go
 * through the scheduler a few batches at a time, so what stays is per sample (a coalition row, a score): these
 * limits keep that under ~100 MB and one image's work under hours on a CPU.
 */
export const SETTING_LIMITS = {
  /** Model evaluations of one explanation (LIME/KernelSHAP samples, RISE masks, Partition SHAP evaluations). */
  evaluations: 100_000,
  /** Superpixels (the surrogate regressions solve systems of this size). */
  segments: 1_000,
  /** Perturbed inputs scored per round. */
  round: 1_024,
};

/** A whole number in [min, max]; `fallback` when the setting is absent. */
export function intSetting(method: string, name: string, value: unknown, fallback: number, min: number, max = Infinity): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    const range = max === Infinity ? `of at least ${min}` : `between ${min} and ${max}`;
    throw new SaliencyError(`${method}: ${name} must be a whole number ${range} (got ${String(v)})`, 'BAD_SETTING');
  }
  return v;
}

/** A finite number in the interval (min, max) or [min, max] as `inclusive` says. */
export function numberSetting(
  method: string, name: string, value: unknown, fallback: number, min: number, max: number, inclusive = true,
): number {
  const v = value ?? fallback;
  const ok = typeof v === 'number' && Number.isFinite(v) && (inclusive ? v >= min && v <= max : v > min && v < max);
  if (!ok) {
    const [l, r] = inclusive ? ['[', ']'] : ['(', ')'];
    throw new SaliencyError(`${method}: ${name} must be a number in ${l}${min}, ${max}${r} (got ${String(v)})`, 'BAD_SETTING');
  }
  return v as number;
}

/** An opt-in switch (Explainer.switches): true, or absent when false or not given, so settings stored without
 *  it stay as they were. */
export function switchSetting<K extends string>(method: string, name: K, value: unknown): { [k in K]?: true } {
  if (value !== undefined && typeof value !== 'boolean') throw new SaliencyError(`${method}: ${name} must be true or false (got ${String(value)})`, 'BAD_SETTING');
  return (value === true ? { [name]: true } : {}) as { [k in K]?: true };
}

/**
 * A method's settings from user-given values: defaults filled and ranges checked by the method, then any key the
 * method does not know, or a non-boolean value for a boolean setting (e.g. relu=banana), refused by name.
 */
export function resolveSettings<S extends Record<string, unknown>>(
  explainer: { name: string; settings(partial: Partial<S>): S; switches?: readonly string[] }, partial: Record<string, unknown>,
): S {
  const defaults = explainer.settings({});
  const switches = explainer.switches ?? [];
  for (const [key, value] of Object.entries(partial)) {
    if ((typeof defaults[key] === 'boolean' || switches.includes(key)) && typeof value !== 'boolean') {
      throw new SaliencyError(`${explainer.name}: ${key} must be true or false (got ${String(value)})`, 'BAD_SETTING');
    }
  }
  const resolved = explainer.settings(partial as Partial<S>);
  const known = new Set([...Object.keys(defaults), ...switches, ...Object.keys(resolved).filter((k) => resolved[k] !== undefined)]);
  for (const key of Object.keys(partial)) {
    if (!known.has(key)) throw new SaliencyError(`${explainer.name}: unknown setting "${key}" (known: ${[...known].join(', ')})`, 'BAD_SETTING');
  }
  return resolved;
}
