// Opening a database file with the settings every connection needs: WAL (readers never block the writer
// and the writer never blocks readers), foreign keys, a generous busy timeout (writers from several
// processes queue instead of failing with "database is locked"), and the schema migrated.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SaliencyError } from '../types.ts';
import { migrate } from './migrations.ts';

export interface OpenOptions {
  readonly?: boolean;
  /** How long a statement waits for another connection's write lock, ms (default 30 s). */
  busyTimeoutMs?: number;
}

export function openDatabase(file: string, opts: OpenOptions = {}): Database.Database {
  if (!opts.readonly) mkdirSync(path.dirname(file), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false, timeout: opts.busyTimeoutMs ?? 30_000 });
  } catch (e) {
    throw new SaliencyError(`database ${file}: ${(e as Error).message}`, 'DB_OPEN');
  }
  db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 30_000}`);
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a commit survives a process crash (SIGKILL); only an OS crash can lose the last ones.
    db.pragma('synchronous = NORMAL');
  }
  db.pragma('foreign_keys = ON');
  if (!opts.readonly) migrate(db);
  return db;
}
