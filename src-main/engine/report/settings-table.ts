// Settings, selections and provenance as nested key/value tables in the report, instead of raw JSON.
import { esc } from './charts.ts';

function cell(v: unknown): string {
  if (v === null || v === undefined) return '<span class="muted">–</span>';
  if (Array.isArray(v)) return v.every((x) => x === null || typeof x !== 'object') ? esc(v.join(', ')) : v.map(cell).join('<br>');
  if (typeof v === 'object') return settingsTable(v as Record<string, unknown>);
  return esc(String(v));
}

/** A two-column table (setting, value); nested objects become nested tables. */
export function settingsTable(obj: Record<string, unknown> | null | undefined): string {
  const entries = Object.entries(obj ?? {}).filter(([, v]) => v !== undefined);
  if (!entries.length) return '<span class="muted">defaults</span>';
  return `<table class="kv">${entries.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${cell(v)}</td></tr>`).join('')}</table>`;
}
