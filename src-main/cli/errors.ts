// One line for every error the CLI reports: `<thing>: <problem>`, never a stack trace (SALIENCY_DEBUG=1 adds it).
import { SaliencyError } from '../engine/types.ts';

type SysError = NodeJS.ErrnoException & { address?: string; port?: number };
import { sqliteProblem } from '../engine/store/db-errors.ts';

const ERRNO: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EEXIST: 'already exists',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links (a loop?)',
  EADDRINUSE: 'the address is already in use',
  EADDRNOTAVAIL: 'the address is not available here',
  EIO: 'input/output error',
};


/** What went wrong with a file-system call, in words (the path is added by the caller). */
export function fsProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code && ERRNO[code]) return ERRNO[code];
  return firstLine(e);
}

const firstLine = (e: unknown) => String((e as Error)?.message ?? e).split('\n')[0].replace(/^(Error|SyntaxError|TypeError|RangeError): /, '');

/** Exit status of an error that ends a command: always 2 (usage, settings, model, or a fatal I/O problem). */
export function errorLine(e: unknown): string {
  if (e instanceof SaliencyError) return e.message;
  const err = e as SysError;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  if (code?.startsWith('ERR_PARSE_ARGS')) return err.message.replace(/\s*\n\s*/g, ' ');
  const where = err?.path ?? (err?.address ? `${err.address}${err.port ? `:${err.port}` : ''}` : undefined);
  if (code && ERRNO[code]) return `${where ?? err.syscall ?? 'file'}: ${ERRNO[code]}`;
  const sqlite = sqliteProblem(e);
  if (sqlite) return `database: ${sqlite}`;
  return firstLine(e);
}

/** The message with the given prefix once (errors made deeper down may already start with it). */
export function withPrefix(prefix: string, message: string): string {
  return message.startsWith(`${prefix}:`) || message.startsWith(prefix) ? message : `${prefix}: ${message}`;
}
