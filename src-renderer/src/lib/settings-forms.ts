// The methods' settings forms (from the API: defaults, ranges and choices derived from the explainers' own
// checks), fetched once per window.
import type { Res } from '../../../src-main/api/contract.ts';
import { api } from './api.ts';

export type SettingsFormT = Res<'methods.settings'>[number];
export type SettingsCheck = Res<'methods.check'>;

let forms: Promise<Record<string, SettingsFormT>> | null = null;
export function settingsForms(): Promise<Record<string, SettingsFormT>> {
  forms ??= api.call('methods.settings', {}).then((list) => Object.fromEntries(list.map((f) => [f.method, f])), (e) => { forms = null; throw e; });
  return forms;
}

/** The chosen methods' settings as a job or study sends them (only fields given), and the methods whose form is
 *  refused or still being checked (Run waits for those). */
export function collectSettings(methods: string[], checks: Record<string, SettingsCheck | null | undefined>, values: Record<string, Record<string, string>>) {
  const given = (m: string) => Object.values(values[m] ?? {}).some((v) => v.trim() !== '');
  const settings = Object.fromEntries(methods.filter((m) => given(m) && checks[m]).map((m) => [m, checks[m]!.settings]));
  const blocked = methods.filter((m) => given(m) && (!checks[m] || Object.keys(checks[m]!.errors).length > 0 || checks[m]!.error !== null));
  return { settings, blocked };
}
