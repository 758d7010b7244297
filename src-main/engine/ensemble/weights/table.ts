// Reading the tables weight sources come from: a JSON array of objects, or CSV with a header row
// (RFC 4180 quoting). Values are returned as strings / JSON values; each source checks its own columns.
import { SaliencyError } from '../../types.ts';

export type Row = Record<string, unknown>;

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (ch === '"') quoted = false; else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; }
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field); field = '';
      if (row.some((f) => f !== '')) rows.push(row);
      row = [];
    } else field += ch;
  }
  row.push(field);
  if (row.some((f) => f !== '')) rows.push(row);
  return rows;
}

/** Rows of a JSON array (or {rows: [...]}) or of a CSV file with a header; `name` is used in errors. */
export function parseTable(text: string, name: string): Row[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let parsed: unknown;
    try { parsed = JSON.parse(trimmed); } catch (e) { throw new SaliencyError(`${name}: not valid JSON (${(e as Error).message})`, 'BAD_INPUT'); }
    const rows = Array.isArray(parsed) ? parsed : (parsed as { rows?: unknown }).rows;
    if (!Array.isArray(rows)) throw new SaliencyError(`${name}: expected a JSON array of rows (or {"rows": [...]})`, 'BAD_INPUT');
    return rows as Row[];
  }
  const [header, ...body] = parseCsv(trimmed);
  if (!header) throw new SaliencyError(`${name}: empty table`, 'BAD_INPUT');
  return body.map((cells, i) => {
    if (cells.length !== header.length) throw new SaliencyError(`${name}: line ${i + 2} has ${cells.length} fields, the header has ${header.length}`, 'BAD_INPUT');
    return Object.fromEntries(header.map((h, j) => [h.trim(), cells[j]]));
  });
}

/** First present column among the aliases (CSV headers vary: classIndex / class_index / class). */
export function column(row: Row, ...aliases: string[]): unknown {
  for (const a of aliases) if (row[a] !== undefined && row[a] !== '') return row[a];
  return undefined;
}

export function numberCell(row: Row, where: string, ...aliases: string[]): number {
  const v = column(row, ...aliases);
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new SaliencyError(`${where}: "${aliases[0]}" must be a number, got ${JSON.stringify(v)}`, 'BAD_INPUT');
  return n;
}

export function stringCell(row: Row, where: string, ...aliases: string[]): string {
  const v = column(row, ...aliases);
  if (typeof v !== 'string' || !v) throw new SaliencyError(`${where}: "${aliases[0]}" is missing`, 'BAD_INPUT');
  return v;
}

export function booleanCell(row: Row, where: string, ...aliases: string[]): boolean {
  const v = column(row, ...aliases);
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|1|yes)$/i.test(v)) return true;
  if (typeof v === 'string' && /^(false|0|no)$/i.test(v)) return false;
  throw new SaliencyError(`${where}: "${aliases[0]}" must be true or false, got ${JSON.stringify(v)}`, 'BAD_INPUT');
}
