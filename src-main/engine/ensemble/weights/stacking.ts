// Stacking (issue 20 #3): global member weights chosen to maximise the objective (insertion - deletion) of the
// weighted ensemble directly on the training images. The objective is a black box (each value scores new
// maps), so the search is a cheap coordinate search on the simplex: from uniform weights, each member's weight
// is in turn scaled by each factor (0 drops the member), renormalised, and a move is kept when it improves the
// training objective; `passes` rounds. Every point tried is recorded (provenance).
import { normaliseWeights } from './weight-set.ts';

export interface StackingFit { weights: Record<string, number>; objective: number; start: number; tried: { weights: Record<string, number>; objective: number }[] }

export async function fitStacking(methods: string[], objective: (w: Record<string, number>) => Promise<number>, opts: { factors?: number[]; passes?: number } = {}): Promise<StackingFit> {
  const factors = opts.factors ?? [0, 3];
  let best = Object.fromEntries(methods.map((m) => [m, 1 / methods.length]));
  const start = await objective(best);
  let bestValue = start;
  const tried = [{ weights: best, objective: start }];
  for (let pass = 0; pass < (opts.passes ?? 1); pass++) {
    for (const m of methods) for (const f of factors) {
      const w = normaliseWeights({ ...best, [m]: best[m] * f });
      if (Object.values(w).every((x) => x === 0) || Object.values(w).some((x) => !Number.isFinite(x))) continue;
      const v = await objective(w);
      tried.push({ weights: w, objective: v });
      if (v > bestValue) { best = w; bestValue = v; }
    }
  }
  return { weights: best, objective: bestValue, start, tried };
}
