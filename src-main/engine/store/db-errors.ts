// SQLite's error codes in words, for one-line messages ("database <file>: the database file is corrupt").
const SQLITE: Record<string, string> = {
  SQLITE_NOTADB: 'not a database file',
  SQLITE_CORRUPT: 'the database file is corrupt',
  SQLITE_READONLY: 'the database is read-only (file, folder or disk)',
  SQLITE_CANTOPEN: 'the database cannot be opened (missing folder, no permission, or a read-only disk)',
  SQLITE_FULL: 'no space left on the device (database full)',
  SQLITE_IOERR: 'input/output error on the database (disk full or failing?)',
  SQLITE_BUSY: 'the database is locked by another process',
  SQLITE_PERM: 'permission denied on the database',
};

/** The problem of a better-sqlite3 error in words, or undefined when it is not an SQLite error. */
export function sqliteProblem(e: unknown): string | undefined {
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return undefined;
  const base = Object.keys(SQLITE).find((k) => code === k || code.startsWith(`${k}_`));
  return base ? SQLITE[base] : String((e as Error).message).split('\n')[0];
}
