// Where bundled resources (labels, built-in models) live: beside the sources in development, or wherever
// the packaged app says through SALIENCY_RESOURCES.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export function resourcesDir(): string {
  return process.env.SALIENCY_RESOURCES ?? fileURLToPath(new URL('../../resources', import.meta.url));
}

export function resourcePath(...parts: string[]): string {
  return path.join(resourcesDir(), ...parts);
}
