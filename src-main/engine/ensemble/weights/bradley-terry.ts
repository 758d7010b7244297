// Method strengths from pairwise choices ("which map explains the class better, A or B?") with the
// Bradley-Terry model P(i beats j) = p_i / (p_i + p_j), fitted by Hunter's (2004) MM algorithm:
//   p_i <- W_i / sum_{j != i} n_ij / (p_i + p_j),  then rescaled to sum 1,
// where W_i counts i's wins (a tie is half a win for each) and n_ij the comparisons of i and j. The maximum
// likelihood estimate exists only if, for every split of the methods into two groups, someone in each group
// beat someone in the other (Hunter's Assumption 1). When that fails (e.g. a method never won), `prior`
// virtual ties are added to every compared pair, which is a mild shrinkage toward equal strengths, and recorded.
import { SaliencyError } from '../../types.ts';
import type { WeightSet } from '../types.ts';
import { type Row, stringCell } from './table.ts';

export interface PairwiseRow { a: string; b: string; /** a's or b's method name, or 'tie'. */ winner: string }

export interface BradleyTerryFit {
  methods: string[];
  /** Sum to 1. */
  strengths: number[];
  iterations: number;
  converged: boolean;
  logLikelihood: number;
  /** Virtual ties added per compared pair (0 when the plain MLE exists). */
  prior: number;
}

export function pairwiseRows(rows: Row[], where = 'ratings table'): PairwiseRow[] {
  return rows.map((r, i) => {
    const at = `${where} row ${i + 1}`;
    const a = stringCell(r, at, 'a', 'methodA', 'method_a');
    const b = stringCell(r, at, 'b', 'methodB', 'method_b');
    let winner = stringCell(r, at, 'winner', 'choice');
    if (winner === 'A' || winner === 'a') winner = a;
    else if (winner === 'B' || winner === 'b') winner = b;
    return { a, b, winner };
  });
}

/** True when every method can reach every other along "beat" edges (ties count both ways). */
function stronglyConnected(m: number, beat: boolean[][]): boolean {
  const reach = (forward: boolean) => {
    const seen = new Array<boolean>(m).fill(false);
    const stack = [0];
    seen[0] = true;
    while (stack.length) {
      const i = stack.pop()!;
      for (let j = 0; j < m; j++) if (!seen[j] && (forward ? beat[i][j] : beat[j][i])) { seen[j] = true; stack.push(j); }
    }
    return seen.every(Boolean);
  };
  return reach(true) && reach(false);
}

export function fitBradleyTerry(rows: PairwiseRow[], opts: { prior?: number; maxIterations?: number; tolerance?: number } = {}): BradleyTerryFit {
  if (rows.length === 0) throw new SaliencyError('no pairwise choices', 'BAD_INPUT');
  const methods = [...new Set(rows.flatMap((r) => [r.a, r.b]))].sort();
  const m = methods.length;
  const at = new Map(methods.map((name, i) => [name, i]));
  const wins = Array.from({ length: m }, () => new Float64Array(m)); // wins[i][j]: times i beat j (ties 0.5)
  for (const [k, r] of rows.entries()) {
    if (r.a === r.b) throw new SaliencyError(`choice ${k + 1} compares ${r.a} with itself`, 'BAD_INPUT');
    const i = at.get(r.a)!;
    const j = at.get(r.b)!;
    if (r.winner === r.a) wins[i][j] += 1;
    else if (r.winner === r.b) wins[j][i] += 1;
    else if (r.winner === 'tie') { wins[i][j] += 0.5; wins[j][i] += 0.5; }
    else throw new SaliencyError(`choice ${k + 1}: winner must be ${r.a}, ${r.b} or tie, got "${r.winner}"`, 'BAD_INPUT');
  }
  const compared = (i: number, j: number) => wins[i][j] + wins[j][i] > 0;
  // Methods that were never (indirectly) compared with each other have no common scale.
  if (!stronglyConnected(m, methods.map((_, i) => methods.map((__, j) => compared(i, j))))) {
    throw new SaliencyError(`the choices do not link all methods (${methods.join(', ')}): some were never compared, even indirectly`, 'BAD_INPUT');
  }
  let prior = opts.prior ?? 0;
  if (prior === 0 && !stronglyConnected(m, methods.map((_, i) => methods.map((__, j) => wins[i][j] > 0)))) prior = 0.5;
  if (prior > 0) for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) if (i !== j && compared(i, j)) wins[i][j] += prior;

  const W = wins.map((row) => row.reduce((a, b) => a + b, 0));
  const n = wins.map((row, i) => row.map((w, j) => w + wins[j][i]));
  let p = new Float64Array(m).fill(1 / m);
  const maxIterations = opts.maxIterations ?? 10000;
  const tolerance = opts.tolerance ?? 1e-10;
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations && !converged) {
    iterations++;
    const next = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      let denom = 0;
      for (let j = 0; j < m; j++) if (j !== i && n[i][j] > 0) denom += n[i][j] / (p[i] + p[j]);
      next[i] = W[i] / denom;
    }
    const total = next.reduce((a, b) => a + b, 0);
    let change = 0;
    for (let i = 0; i < m; i++) {
      next[i] /= total;
      change = Math.max(change, Math.abs(next[i] - p[i]) / p[i]);
    }
    p = next;
    converged = change < tolerance;
  }
  let logLikelihood = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) if (wins[i][j] > 0) logLikelihood += wins[i][j] * Math.log(p[i] / (p[i] + p[j]));
  return { methods, strengths: Array.from(p), iterations, converged, logLikelihood, prior };
}

export function weightsFromPairwise(rows: PairwiseRow[], opts: { name?: string; prior?: number } = {}): WeightSet {
  const fit = fitBradleyTerry(rows, { prior: opts.prior });
  const ties = rows.filter((r) => r.winner === 'tie').length;
  return {
    name: opts.name ?? 'ratings-bradley-terry',
    source: 'ratings',
    weights: Object.fromEntries(fit.methods.map((m, i) => [m, fit.strengths[i]])),
    provenance: {
      kind: 'pairwise', model: 'Bradley-Terry (MM, Hunter 2004)', comparisons: rows.length, ties,
      prior: fit.prior, iterations: fit.iterations, converged: fit.converged, logLikelihood: fit.logLikelihood,
      createdAt: new Date().toISOString(),
    },
  };
}
