// The saliency command run as a child process, as users run it: exit code and both streams, never a throw.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO } from './data.ts';

export interface CliResult { code: number; stdout: string; stderr: string }

export async function runCli(args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [path.join(REPO, 'bin/saliency.js'), ...args], { cwd: REPO, env: { ...process.env, SALIENCY_PROGRESS: '0' } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}
