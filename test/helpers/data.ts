// Where the shared real data lives, and how tests that need it skip (with a printed reason) when it is absent.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DATA = process.env.SALIENCY_DATA ?? path.resolve(REPO, '../shared/data');
export const HAS_DATA = existsSync(path.join(DATA, 'models')) && existsSync(path.join(DATA, 'imagenet-samples'));
if (!HAS_DATA) console.warn(`[skip] ${DATA} not found: tests that need ../shared/data are skipped`);

export const model = (name: string) => path.join(DATA, 'models', name);
export const sample = (file: string) => path.join(DATA, 'imagenet-samples', file);

export const MODELS = {
  squeezenet: 'squeezenet1.1-fp32.onnx',
  mobilenet: 'mobilenetv2-12-int8.onnx',
  shufflenet: 'shufflenet-v2-12-qdq.onnx',
  inception: 'inception_v3-random.onnx',
} as const;

export interface ManifestRow { filename: string; classIndex: number; label: string }
export async function manifest(): Promise<ManifestRow[]> {
  const { readFile } = await import('node:fs/promises');
  const lines = (await readFile(path.join(DATA, 'imagenet-samples', 'manifest.csv'), 'utf8')).trim().split('\n').slice(1);
  return lines.map((l) => {
    const [filename, idx, , label] = l.split(',');
    return { filename, classIndex: Number(idx), label };
  });
}
