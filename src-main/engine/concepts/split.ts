// Seeded stratified train/test split: every class with two or more items puts at least one in each part.
import { Random } from '../util/random.ts';

export function stratifiedSplit(labels: readonly number[], testFraction: number, seed: number): { train: number[]; test: number[] } {
  if (!(testFraction >= 0 && testFraction < 1)) throw new RangeError(`test fraction must be in [0, 1), got ${testFraction}`);
  const rng = new Random(seed);
  const byClass = new Map<number, number[]>();
  labels.forEach((c, i) => byClass.set(c, [...(byClass.get(c) ?? []), i]));
  const train: number[] = [];
  const test: number[] = [];
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const items = rng.shuffle([...byClass.get(c)!]);
    const nTest = testFraction === 0 || items.length < 2 ? 0 : Math.min(items.length - 1, Math.max(1, Math.round(items.length * testFraction)));
    test.push(...items.slice(0, nTest));
    train.push(...items.slice(nTest));
  }
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}
