// The caption regression's L2 strength chosen by stratified k-fold cross-validation on the training split only
// (the test captions never influence it): each candidate is fitted on k-1 folds and scored by the mean log-loss
// of the held-out fold's true classes; the lowest mean wins (ties: the stronger penalty, the simpler model).
// The grid spans sklearn's default (C = 1, i.e. l2 = 1/n on the mean loss, ~0.016 for 60 captions), the old
// default here (1e-3) and weaker penalties: on the 59 training captions of resources/captions the held-out
// log-loss falls to 1e-5 and rises again below it (an interior minimum, not the grid's edge).
import { Random } from '../util/random.ts';
import { fitLogistic, probabilities } from './logistic-regression.ts';

export const L2_GRID = [1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1];

export interface L2Selection {
  chosen: number;
  folds: number;
  grid: number[];
  /** Mean held-out log-loss per grid value. */
  logLoss: number[];
}

/** Fold of each item: every class dealt round-robin over the folds after a seeded shuffle. */
export function stratifiedFolds(labels: readonly number[], k: number, seed: number): number[] {
  const rng = Random.derive(seed, 'l2-folds');
  const fold = new Array(labels.length).fill(0);
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  let next = 0;
  for (const c of classes) {
    const items = rng.shuffle(labels.flatMap((l, i) => (l === c ? [i] : [])));
    for (const i of items) fold[i] = next++ % k;
  }
  return fold;
}

export function chooseL2(X: readonly Float64Array[], y: readonly number[], classes: string[], opts: { seed?: number; folds?: number; grid?: number[] } = {}): L2Selection {
  const grid = opts.grid ?? L2_GRID;
  const k = Math.max(2, Math.min(opts.folds ?? 5, y.length));
  const fold = stratifiedFolds(y, k, opts.seed ?? 0);
  const logLoss = grid.map((l2) => {
    let loss = 0;
    let n = 0;
    for (let f = 0; f < k; f++) {
      const trainIdx = y.flatMap((_, i) => (fold[i] !== f ? [i] : []));
      const testIdx = y.flatMap((_, i) => (fold[i] === f ? [i] : []));
      // A class absent from the training folds (a class with one caption) still counts: its held-out captions
      // are scored, which penalises every candidate alike.
      if (testIdx.length === 0) continue;
      const m = fitLogistic(trainIdx.map((i) => X[i]), trainIdx.map((i) => y[i]), classes, { l2 });
      for (const i of testIdx) { loss -= Math.log(Math.max(1e-15, probabilities(m, X[i])[y[i]])); n++; }
    }
    return n ? loss / n : Infinity;
  });
  let best = 0;
  for (let g = 1; g < grid.length; g++) if (logLoss[g] <= logLoss[best]) best = g;
  return { chosen: grid[best], folds: k, grid: [...grid], logLoss };
}
