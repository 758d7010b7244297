// The app version recorded with every run (from package.json), so results can be traced to the code.
import { readFileSync } from 'node:fs';

function readVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return process.env.SALIENCY_APP_VERSION ?? 'unknown';
  }
}

export const APP_VERSION: string = process.env.SALIENCY_APP_VERSION ?? readVersion();
