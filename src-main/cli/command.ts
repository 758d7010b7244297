// The shape of a CLI command. Each command lives in its own file under commands/ and is listed in
// commands/index.ts.
export interface Command {
  name: string;
  summary: string;
  /** Full usage text shown by `saliency help <name>`. */
  usage: string;
  /** Returns the process exit code: 0 all done, 1 some items failed, 2 bad usage or fatal error. */
  run(argv: string[]): Promise<number>;
}

/** Progress bar on stderr (only when stderr is a terminal or SALIENCY_PROGRESS=1). */
export function progressBar(total: number, label = ''): { tick(note?: string): void; done(): void } {
  const enabled = process.stderr.isTTY || process.env.SALIENCY_PROGRESS === '1';
  let n = 0;
  const t0 = Date.now();
  const draw = (note = '') => {
    if (!enabled) return;
    const width = 28;
    const filled = Math.round((n / Math.max(total, 1)) * width);
    const elapsed = (Date.now() - t0) / 1000;
    const eta = n > 0 ? (elapsed / n) * (total - n) : 0;
    process.stderr.write(`\r${label}[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${n}/${total} ${eta.toFixed(0)}s left ${note.slice(0, 40).padEnd(40)}`);
  };
  return {
    tick(note?: string) { n++; draw(note); },
    done() { if (enabled) process.stderr.write('\n'); },
  };
}
