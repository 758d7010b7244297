// When anytime explainers (RISE, LIME, KernelSHAP) report a partial map: early and geometric, so a long run
// shows a first map after one chunk of evaluations, then at doubling counts until the gap reaches
// progressEvery, then every progressEvery. Partial maps only read the running sums, so the final map does not
// depend on this schedule; auto budgets still decide to stop only at multiples of progressEvery (the recorded rule).

/** The first evaluation count after `done` at which a partial map is due: first, 2 first, 4 first, ... below
 *  `every`, then the multiples of `every` (with first >= every: the multiples of every only). */
export function nextCheckpoint(done: number, first: number, every: number): number {
  let c = Math.max(1, first);
  while (c < every && c <= done) c *= 2;
  return c < every ? c : (Math.floor(done / every) + 1) * every;
}

/** Evaluations before LIME's and KernelSHAP's first partial fit (refits cost O(n M^2), hence the doubling). */
export const SEGMENT_FIRST_PARTIAL = 50;
