// Counts out of n: the exact binomial test (Clopper-Pearson style two-sided p by the "minimum likelihood"
// rule, as R's binom.test) and the Wilson score interval of a share.

/** P(X = k) for X ~ Binomial(n, p), through log-gamma-free log factorial sums (exact enough for n <= 1e6). */
export function binomialPmf(k: number, n: number, p: number): number {
  if (k < 0 || k > n || !Number.isInteger(k)) return 0;
  if (p === 0) return k === 0 ? 1 : 0;
  if (p === 1) return k === n ? 1 : 0;
  return Math.exp(logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log1p(-p));
}

const logFactorials: number[] = [0];
function logFactorial(n: number): number {
  for (let i = logFactorials.length; i <= n; i++) logFactorials[i] = logFactorials[i - 1] + Math.log(i);
  return logFactorials[n];
}
const logChoose = (n: number, k: number) => logFactorial(n) - logFactorial(k) - logFactorial(n - k);

export type Alternative = 'two-sided' | 'greater' | 'less';

/**
 * Exact binomial test of k successes in n trials against success probability p0. 'greater': P(X >= k);
 * 'less': P(X <= k); 'two-sided': the sum of P(X = i) over all i no more likely than k (R's binom.test, with
 * its relative tolerance 1 + 1e-7).
 */
export function binomialTest(k: number, n: number, p0: number, alternative: Alternative = 'two-sided'): number {
  if (!(Number.isInteger(k) && Number.isInteger(n) && k >= 0 && n >= k)) throw new RangeError(`binomialTest needs integers 0 <= k <= n (got k = ${k}, n = ${n})`);
  if (!(p0 >= 0 && p0 <= 1)) throw new RangeError(`binomialTest needs 0 <= p0 <= 1 (got ${p0})`);
  let p = 0;
  if (alternative === 'greater') for (let i = k; i <= n; i++) p += binomialPmf(i, n, p0);
  else if (alternative === 'less') for (let i = 0; i <= k; i++) p += binomialPmf(i, n, p0);
  else {
    const observed = binomialPmf(k, n, p0) * (1 + 1e-7);
    for (let i = 0; i <= n; i++) {
      const q = binomialPmf(i, n, p0);
      if (q <= observed) p += q;
    }
  }
  return Math.min(1, p);
}

/** Wilson score interval of a share k/n (default 95%, z = 1.959964); [0, 1] when n = 0. */
export function wilson(k: number, n: number, z = 1.959963984540054): [number, number] {
  if (n === 0) return [0, 1];
  const phat = k / n;
  const centre = (phat + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z / (1 + (z * z) / n)) * Math.sqrt((phat * (1 - phat)) / n + (z * z) / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}
