// Simulated raters (issue 20 #4), to test the rating -> weights pipeline end to end before real raters: each
// rater's judgement of a map follows a KNOWN noisy preference, utility = quality + N(0, noise^2), where quality
// is the map's measured faithfulness on that image (insertion - deletion) standardised across the members of
// the image. Pairwise: the rater picks the map of higher utility (a Bradley-Terry / Thurstone rater); Likert:
// round(3 + 1.5 * utility) clipped to 1..5. With noise -> infinity the weights tend to uniform (the mean); with
// noise -> 0 they rank the members by their faithfulness. The rows go through the same code as real ratings
// (weightsFromPairwise, weightsFromLikert), so what is tested is the real pipeline.
import { Random } from '../../util/random.ts';
import type { PairwiseRow } from './bradley-terry.ts';
import type { LikertRow } from './likert.ts';

export interface RaterOptions { raters: number; noise: number; seed: number }

/** quality: per image, member method -> measured quality (any scale; standardised per image here). */
export function simulateRatings(quality: Record<string, number>[], opts: RaterOptions): { pairwise: PairwiseRow[]; likert: LikertRow[] } {
  const rng = Random.derive(opts.seed, 'simulated-raters');
  const pairwise: PairwiseRow[] = [];
  const likert: LikertRow[] = [];
  for (const q of quality) {
    const methods = Object.keys(q);
    const v = methods.map((m) => q[m]);
    const mu = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - mu) ** 2, 0) / v.length) || 1;
    const z = v.map((x) => (x - mu) / sd);
    for (let r = 0; r < opts.raters; r++) {
      const u = z.map((x) => x + opts.noise * rng.normal());
      methods.forEach((method, i) => likert.push({ method, score: Math.min(5, Math.max(1, Math.round(3 + 1.5 * u[i]))) }));
      for (let i = 0; i < methods.length; i++) for (let j = i + 1; j < methods.length; j++) {
        pairwise.push({ a: methods[i], b: methods[j], winner: u[i] === u[j] ? 'tie' : u[i] > u[j] ? methods[i] : methods[j] });
      }
    }
  }
  return { pairwise, likert };
}
