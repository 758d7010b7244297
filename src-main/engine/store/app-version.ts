// The app version recorded with every run (from package.json), so results can be traced to the code, and a run of
// changed code is never matched to a stored run of the old one (runs are keyed by it). package.json is three levels
// up from this file in the source tree and two from the bundled main process (out/main/index.js, also in the asar).
import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'saliency-studio' && pkg.version) return pkg.version;
    } catch {
      // not at this level: try the next
    }
  }
  return 'unknown';
}

export const APP_VERSION: string = process.env.SALIENCY_APP_VERSION ?? readVersion();
