// The built-in models made by the project (selectable as `--model builtin:<name>`): where their files live.
import { existsSync } from 'node:fs';
import { resourcePath } from '../resources.ts';
import { SaliencyError } from '../types.ts';

export interface BuiltinModel {
  name: string;
  /** The spec to pass as a model: `builtin:<name>`. */
  spec: string;
  description: string;
  /** Bundled resource folder (under resources/). */
  folder: string;
}

export const BUILTIN_PREFIX = 'builtin:';

export const BUILTIN_MODELS: readonly BuiltinModel[] = [
  {
    name: 'demo', spec: 'builtin:demo', folder: 'demo',
    description: 'Small CNN trained by this project on MNIST digits (28x28 grey, 10 classes, GAP -> linear head); ' +
      'see resources/demo/README.md for its test accuracy',
  },
  {
    name: 'known-evidence', spec: 'builtin:known-evidence', folder: 'known-evidence',
    description: 'Hand-built benchmark (96x96 RGB, 4 classes): the class is decided by one 12x12 coloured pattern at a ' +
      'known place among near-miss distractors, so the correct explanation is known by construction',
  },
];

export const isBuiltinSpec = (spec: string): boolean => spec.startsWith(BUILTIN_PREFIX);

function find(name: string): BuiltinModel {
  const m = BUILTIN_MODELS.find((b) => b.name === name);
  if (!m) {
    throw new SaliencyError(
      `unknown built-in model "${BUILTIN_PREFIX}${name}" (built-in models: ${BUILTIN_MODELS.map((b) => b.spec).join(', ')})`, 'NOT_FOUND');
  }
  return m;
}

/** A model spec as a file path: `builtin:<name>` becomes the bundled ONNX file; anything else is returned as is. */
export function resolveModelSpec(spec: string): string {
  if (!isBuiltinSpec(spec)) return spec;
  const m = find(spec.slice(BUILTIN_PREFIX.length));
  const file = resourcePath(m.folder, 'model.onnx');
  if (!existsSync(file)) throw new SaliencyError(`built-in model ${m.spec}: its file ${file} is missing from the resources`, 'NOT_FOUND');
  return file;
}

/** The folder of bundled sample images of a built-in model (`demo` or `known-evidence`). */
export function builtinSamplesDir(name: string): string {
  return resourcePath(find(name.startsWith(BUILTIN_PREFIX) ? name.slice(BUILTIN_PREFIX.length) : name).folder, 'samples');
}
