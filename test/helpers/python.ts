// The Python the torch tests run ($PYTHON, which .ci/run points at Debian's python3) and whether it imports what a
// test needs; when it does not, the test is skipped with the reason printed.
import { spawnSync } from 'node:child_process';

export const PYTHON = process.env.PYTHON ?? 'python3';

/** True when PYTHON imports every module; otherwise prints `[skip] <test>: ...` with Python's last error line. */
export function pythonHas(test: string, modules: string[]): boolean {
  const probe = spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
  if (probe.status === 0) return true;
  console.warn(`[skip] ${test}: ${PYTHON} cannot import ${modules.join(', ')} (${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()})`);
  return false;
}
