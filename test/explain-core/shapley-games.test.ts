// KernelSHAP's sampler+solver on games whose Shapley values are known, against a shap-style reference
// sampler written here from shap's KernelExplainer (independent code and PRNG), and against the old estimate
// (LIME's uniform coalitions importance-weighted by the Shapley kernel). Prints the README's accuracy table.
import { describe, expect, it } from 'vitest';
import { kernelShapCoalitions, kernelShapGame, kernelSizeMass } from '../../src-main/engine/explain/perturb/shapley-sampler.ts';
import { sampleCoalitions } from '../../src-main/engine/explain/perturb/coalitions.ts';
import { constrainedWeightedLeastSquares, solveLinear } from '../../src-main/engine/explain/perturb/regression.ts';
import { Random } from '../../src-main/engine/util/random.ts';

type Game = { name: string; M: number; v: (z: Uint8Array) => number; exact: Float64Array };

function binom(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

// --- games -------------------------------------------------------------------------------------------
function additiveGame(M: number): Game {
  const rng = new Random(5);
  const a = Float64Array.from({ length: M }, () => rng.normal());
  return { name: `additive, M = ${M}`, M, v: (z) => z.reduce((s, zi, i) => s + zi * a[i], 0), exact: a };
}

// v(S) = z0 AND (z1 OR ... OR z10). Player 0 is pivotal unless it comes first among the 11 relevant players
// in a random order: phi_0 = 10/11. Player i in 1..10 is pivotal only when 0 comes first and i second:
// phi_i = 1/11 * 1/10 = 1/110 (so the values sum to v(N) - v(empty) = 1). Players 11..M-1 are null: 0.
function andOrGame(M: number): Game {
  const exact = new Float64Array(M);
  exact[0] = 10 / 11;
  for (let i = 1; i <= 10; i++) exact[i] = 1 / 110;
  return { name: `z0 AND (z1 OR ... OR z10), M = ${M}`, M, v: (z) => (z[0] && z.subarray(1, 11).some((x) => x === 1) ? 1 : 0), exact };
}

// A non-additive game small enough to get its Shapley values by the definition over all 2^M coalitions:
// v(z) = tanh(a.z + sum_{i<j} b_ij z_i z_j) with seeded a, b.
function exhaustiveGame(M: number): Game {
  const rng = new Random(9);
  const a = Float64Array.from({ length: M }, () => rng.normal() * 0.5);
  const b = Float64Array.from({ length: M * M }, () => rng.normal() * 0.3);
  const v = (z: Uint8Array) => {
    let s = 0;
    for (let i = 0; i < M; i++) {
      if (!z[i]) continue;
      s += a[i];
      for (let j = i + 1; j < M; j++) if (z[j]) s += b[i * M + j];
    }
    return Math.tanh(s);
  };
  const exact = new Float64Array(M);
  const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
  for (let mask = 0; mask < 2 ** M; mask++) {
    const z = Uint8Array.from({ length: M }, (_, i) => (mask >> i) & 1);
    const s = z.reduce((x, y) => x + y, 0);
    const vz = v(z);
    for (let i = 0; i < M; i++) {
      if (z[i]) continue;
      z[i] = 1;
      exact[i] += (fact(s) * fact(M - s - 1)) / fact(M) * (v(z) - vz);
      z[i] = 0;
    }
  }
  return { name: `exhaustive tanh pairwise, M = ${M}`, M, v, exact };
}

// --- shap-style reference (transcribed from shap/explainers/_kernel.py, own PRNG and solver) ------------
function mulberry32(seed: number) {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

function combinations(M: number, k: number): number[][] {
  const out: number[][] = [];
  const rec = (start: number, cur: number[]) => {
    if (cur.length === k) { out.push([...cur]); return; }
    for (let i = start; i < M; i++) { cur.push(i); rec(i + 1, cur); cur.pop(); }
  };
  rec(0, []);
  return out;
}

function shapReference(game: Game, samples: number, seed: number): Float64Array {
  const { M, v } = game;
  const random = mulberry32(seed * 7919 + 1);
  let nsamples = samples - 2; // the two anchors f(x), f(null) are computed outside nsamples in shap
  if (M <= 30) nsamples = Math.min(nsamples, 2 ** M - 2);
  const masks: number[][] = [];
  const kw: number[] = [];
  const numSubsetSizes = Math.ceil((M - 1) / 2);
  const numPaired = Math.floor((M - 1) / 2);
  const weightVector = Array.from({ length: numSubsetSizes }, (_, k) => (M - 1) / ((k + 1) * (M - k - 1)));
  for (let k = 0; k < numPaired; k++) weightVector[k] *= 2;
  const total = weightVector.reduce((a, b) => a + b, 0);
  for (let k = 0; k < numSubsetSizes; k++) weightVector[k] /= total;
  let numFull = 0;
  let left = nsamples;
  const rem = [...weightVector];
  for (let size = 1; size <= numSubsetSizes; size++) {
    let nsub = binom(M, size);
    if (size <= numPaired) nsub *= 2;
    if (left * rem[size - 1] / nsub >= 1 - 1e-8) {
      numFull++;
      left -= nsub;
      if (rem[size - 1] < 1) { const d = 1 - rem[size - 1]; for (let k = 0; k < rem.length; k++) rem[k] /= d; }
      let w = weightVector[size - 1] / binom(M, size);
      if (size <= numPaired) w /= 2;
      for (const inds of combinations(M, size)) {
        const m = new Array(M).fill(0);
        for (const i of inds) m[i] = 1;
        masks.push(m); kw.push(w);
        if (size <= numPaired) { masks.push(m.map((x) => 1 - x)); kw.push(w); }
      }
    } else break;
  }
  const nfixed = masks.length;
  let samplesLeft = nsamples - nfixed;
  if (numFull !== numSubsetSizes) {
    let r = [...weightVector];
    for (let k = 0; k < numPaired; k++) r[k] /= 2;
    r = r.slice(numFull);
    const rs = r.reduce((a, b) => a + b, 0);
    r = r.map((x) => x / rs);
    const choice = () => { let u = random(); for (let k = 0; k < r.length; k++) { u -= r[k]; if (u < 0) return k; } return r.length - 1; };
    const indSet = Array.from({ length: 4 * samplesLeft }, choice);
    const used = new Map<string, number>();
    let pos = 0;
    while (samplesLeft > 0 && pos < indSet.length) {
      const size = indSet[pos++] + numFull + 1;
      const perm = Array.from({ length: M }, (_, i) => i);
      for (let i = M - 1; i > 0; i--) { const j = Math.floor(random() * (i + 1)); [perm[i], perm[j]] = [perm[j], perm[i]]; }
      const m = new Array(M).fill(0);
      for (let i = 0; i < size; i++) m[perm[i]] = 1;
      const key = m.join('');
      let fresh = false;
      if (!used.has(key)) { fresh = true; used.set(key, masks.length); samplesLeft--; masks.push(m); kw.push(1); } else kw[used.get(key)!] += 1;
      if (samplesLeft > 0 && size <= numPaired) {
        if (fresh) { samplesLeft--; masks.push(m.map((x) => 1 - x)); kw.push(1); } else kw[used.get(key)! + 1] += 1;
      }
    }
    const weightLeft = weightVector.slice(numFull).reduce((a, b) => a + b, 0);
    const s = kw.slice(nfixed).reduce((a, b) => a + b, 0);
    for (let k = nfixed; k < kw.length; k++) kw[k] *= weightLeft / s;
  }
  // shap's solve: eliminate the last player with the efficiency constraint, weighted least squares on the rest.
  const fx = v(new Uint8Array(M).fill(1));
  const fnull = v(new Uint8Array(M));
  const diff = fx - fnull;
  const n = masks.length;
  const D = M - 1;
  const A = new Float64Array(D * D);
  const bvec = new Float64Array(D);
  for (let r = 0; r < n; r++) {
    const m = masks[r];
    const y = v(Uint8Array.from(m)) - fnull - m[M - 1] * diff;
    const e = m.slice(0, D).map((x) => x - m[M - 1]);
    for (let i = 0; i < D; i++) {
      if (e[i] === 0) continue;
      bvec[i] += kw[r] * e[i] * y;
      for (let j = 0; j < D; j++) if (e[j] !== 0) A[i * D + j] += kw[r] * e[i] * e[j];
    }
  }
  const w = solveLinear(A, bvec, D); // plain Gaussian elimination (np.linalg.inv in shap)
  const phi = new Float64Array(M);
  let sw = 0;
  for (let i = 0; i < D; i++) { phi[i] = w[i]; sw += w[i]; }
  phi[M - 1] = diff - sw;
  return phi;
}

// --- the old estimate: LIME's uniform antithetic rows, each weighted by the Shapley kernel pi(|z|) -------
function uniformImportanceWeighted(game: Game, samples: number, seed: number): Float64Array {
  const { M, v } = game;
  const Z = sampleCoalitions(M, samples, seed);
  const mass = kernelSizeMass(M);
  const paired = Math.floor((M - 1) / 2);
  const pi = (s: number) => {
    if (s === 0 || s === M) return 0;
    const k = Math.min(s, M - s);
    return mass[k - 1] / binom(M, s) / (k <= paired ? 2 : 1);
  };
  const w = Z.map((z) => pi(z.reduce((a, b) => a + b, 0)));
  const y = Z.map(v);
  return constrainedWeightedLeastSquares(Z, y, w, y[1], y[0] - y[1]);
}

// --- accuracy --------------------------------------------------------------------------------------------
const l2 = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
};
/** Mean and a 95% t-interval (n = 20 seeds: t = 2.093). */
function meanCI(xs: number[]): { mean: number; lo: number; hi: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const h = (n === 20 ? 2.093 : 1.96) * sd / Math.sqrt(n);
  return { mean, lo: mean - h, hi: mean + h };
}

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);
const BUDGETS = [1000, 4000];
const GAMES = [additiveGame(100), andOrGame(100), exhaustiveGame(10)];
type Cell = { mean: number; lo: number; hi: number };
const results = new Map<string, { ours: Cell; shap: Cell; uniform: Cell }>();

function measure(game: Game, samples: number) {
  const key = `${game.name}|${samples}`;
  let r = results.get(key);
  if (!r) {
    r = {
      ours: meanCI(SEEDS.map((s) => l2(kernelShapGame(game.v, game.M, samples, s).phi, game.exact))),
      shap: meanCI(SEEDS.map((s) => l2(shapReference(game, samples, s), game.exact))),
      uniform: meanCI(SEEDS.map((s) => l2(uniformImportanceWeighted(game, samples, s), game.exact))),
    };
    results.set(key, r);
  }
  return r;
}

describe('KernelSHAP on games with known Shapley values (L2 error over all players, 20 seeds)', () => {
  it('the exhaustive game\'s Shapley values are right (efficiency) and the AND/OR values sum to 1', () => {
    const g = exhaustiveGame(10);
    const sum = g.exact.reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(g.v(new Uint8Array(10).fill(1)) - g.v(new Uint8Array(10)), 12);
    expect(andOrGame(100).exact.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  // "Exact" up to the 1e-9 relative ridge the solver adds to stay solvable (regression.ts): errors ~1e-8.
  it('additive game: exact at 1,000 and 4,000 samples', () => {
    for (const n of BUDGETS) expect(measure(GAMES[0], n).ours.mean).toBeLessThan(1e-6);
  });

  for (const game of GAMES.slice(1)) {
    it(`${game.name}: error falls with samples and is within 2x of the shap-style reference`, () => {
      const [a, b] = BUDGETS.map((n) => measure(game, n));
      expect(b.ours.mean).toBeLessThan(a.ours.mean);
      for (const r of [a, b]) expect(r.ours.mean).toBeLessThanOrEqual(2 * r.shap.mean + 1e-6);
    }, 600_000);
  }

  it('the AND/OR game reproduces finding 3: uniform rows do not improve, kernel-proportional rows do', () => {
    const [a, b] = BUDGETS.map((n) => measure(GAMES[1], n));
    expect(b.uniform.mean).toBeGreaterThan(0.8 * a.uniform.mean);
    expect(b.ours.hi).toBeLessThan(b.uniform.lo);
    const f = (x: number) => (Math.abs(x) < 1e-4 ? x.toExponential(0) : x.toFixed(4));
    const fmt = (c: Cell) => `${f(c.mean)} [${f(c.lo)}, ${f(c.hi)}]`;
    const lines = ['| game | samples | ours (shapley-sampler.ts) | shap-style reference | old: uniform rows, kernel-weighted |', '|---|---|---|---|---|'];
    for (const g of GAMES) for (const n of BUDGETS) {
      const r = measure(g, n);
      lines.push(`| ${g.name} | ${n} | ${fmt(r.ours)} | ${fmt(r.shap)} | ${fmt(r.uniform)} |`);
    }
    console.log(lines.join('\n'));
  }, 600_000);
});

describe('kernel-proportional coalitions', () => {
  it('enumerate whole sizes while the budget allows, pair complements, and weigh the kernel mass', () => {
    const c = kernelShapCoalitions(100, 4000, 1);
    expect(c.fullSizes).toBe(1); // sizes 1 and 99: 200 rows
    expect(c.fixedRows).toBe(202);
    expect(c.rows.length).toBe(4000);
    const sizes = c.rows.map((z) => z.reduce((a, b) => a + b, 0));
    expect(sizes.slice(2, 202).sort((a, b) => a - b)).toEqual([...new Array(100).fill(1), ...new Array(100).fill(99)]);
    // sampled pairs: (z, 1-z)
    for (let i = 202; i + 1 < 4000; i += 2) if (sizes[i] < 50) c.rows[i].forEach((v, j) => expect(v + c.rows[i + 1][j]).toBe(1));
    // weights sum to the kernel's whole mass (1); rows drawn again carry more weight, none less
    expect(c.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    // sizes are drawn by the kernel's mass: sizes 2/98 get mass(2) / (mass left after size 1) of the rows (~12%),
    // uniform rows would give them ~1e-25
    const mass = kernelSizeMass(100);
    const two = sizes.slice(202).filter((s) => s === 2 || s === 98).length;
    expect(two / (4000 - 202)).toBeCloseTo(mass[1] / (1 - mass[0]), 1);
    // every proper coalition of a small M, each once, when the budget covers them
    const all = kernelShapCoalitions(10, 4000, 1);
    expect(all.rows.length).toBe(1024);
    expect(new Set(all.rows.map((z) => z.join(''))).size).toBe(1024);
    // deterministic per seed
    expect(kernelShapCoalitions(100, 1000, 3).rows.map((z) => z.join(''))).toEqual(kernelShapCoalitions(100, 1000, 3).rows.map((z) => z.join('')));
  });

  it('kernel size mass: symmetric pairs folded, heaviest at the extremes, normalised', () => {
    const m = kernelSizeMass(10);
    expect(m.length).toBe(5);
    expect(m.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // (M-1)/(s(M-s)), doubled for the paired sizes 1..4: ratio size 1 / size 5 = 2 * (9/9) / (9/25)
    expect(m[0] / m[4]).toBeCloseTo(2 * 25 / 9, 12);
  });
});
