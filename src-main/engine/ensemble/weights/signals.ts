// Per-image weights from cheap signals, rather than one global weight per method (issue 20 #3): on each image,
// a member's weight is exp(agreement * z(agreement_i) - entropy * z(entropy_i)), where agreement_i is the mean
// Pearson correlation of its normalised map with the other members' (methods that agree with the rest are
// trusted more) and entropy_i the Shannon entropy of its map taken as a distribution over pixels (diffuse maps
// are trusted less); z standardises across the members of that image. The two coefficients are fitted on
// training images (compare.ts); (0, 0) is the plain mean.
import { pearson } from '../../metrics/rank.ts';
import type { MemberStack } from '../types.ts';

export interface SignalCoefficients { agreement: number; entropy: number }

export interface MemberSignals { agreement: number[]; entropy: number[] }

/** Shannon entropy (nats) of a non-negative map normalised to sum 1 (negative values clipped to 0). */
export function mapEntropy(data: Float32Array): number {
  let total = 0;
  for (const v of data) if (v > 0) total += v;
  if (!(total > 0)) return Math.log(data.length);
  let h = 0;
  for (const v of data) if (v > 0) { const p = v / total; h -= p * Math.log(p); }
  return h;
}

export function memberSignals(stack: MemberStack): MemberSignals {
  const m = stack.maps.length;
  const r = stack.maps.map(() => new Array<number>(m).fill(0));
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) {
    const c = pearson(stack.maps[i], stack.maps[j]);
    r[i][j] = r[j][i] = Number.isFinite(c) ? c : 0;
  }
  return {
    agreement: r.map((row) => (m > 1 ? row.reduce((a, b) => a + b, 0) / (m - 1) : 0)),
    entropy: stack.maps.map(mapEntropy),
  };
}

const zscores = (v: number[]) => {
  const mu = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mu) ** 2, 0) / v.length);
  return v.map((x) => (sd > 1e-12 ? (x - mu) / sd : 0));
};

/** One image's member weights (sum 1) from its signals. */
export function signalWeights(signals: MemberSignals, k: SignalCoefficients): number[] {
  const za = zscores(signals.agreement);
  const ze = zscores(signals.entropy);
  const raw = za.map((a, i) => Math.exp(k.agreement * a - k.entropy * ze[i]));
  const total = raw.reduce((a, b) => a + b, 0);
  return raw.map((w) => w / total);
}
