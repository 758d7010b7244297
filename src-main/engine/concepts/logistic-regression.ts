// L2-regularised logistic regression in float64: binary (one logit, sigmoid) for two classes, multinomial
// (softmax) for more. Fitted by L-BFGS on mean loss + (l2/2)|W|^2 (the bias is not penalised), so the result
// is deterministic. The model is linear in its input, which SMER's fidelity identity relies on.
import { SaliencyError } from '../types.ts';
import { minimizeLbfgs } from './lbfgs.ts';

export interface LogisticModel {
  kind: 'binary' | 'multinomial';
  classes: string[];
  dim: number;
  /** Outputs x dim, row-major: 1 output (the logit of classes[1]) when binary, K when multinomial. */
  weights: Float64Array;
  bias: Float64Array;
  l2: number;
  fit: { iterations: number; converged: boolean; gradientNorm: number; loss: number };
}

export interface LogisticOptions {
  /** L2 strength on the weights (of the mean loss). Default 1e-3. */
  l2?: number;
  maxIterations?: number;
}

export const outputsOf = (m: Pick<LogisticModel, 'kind' | 'classes'>) => (m.kind === 'binary' ? 1 : m.classes.length);

/** The raw linear outputs W x + b (length 1 when binary, K when multinomial). */
export function decision(m: LogisticModel, x: Float64Array): Float64Array {
  const outs = outputsOf(m);
  const z = new Float64Array(outs);
  for (let k = 0; k < outs; k++) {
    let s = m.bias[k];
    const row = k * m.dim;
    for (let i = 0; i < m.dim; i++) s += m.weights[row + i] * x[i];
    z[k] = s;
  }
  return z;
}

/**
 * One score per class whose softmax is the class probability. Binary: [-z/2, z/2] (softmax = sigmoid(z)),
 * so both classes get a score that is linear in the input.
 */
export function classScores(m: LogisticModel, z: Float64Array): Float64Array {
  return m.kind === 'binary' ? Float64Array.of(-z[0] / 2, z[0] / 2) : z;
}

export function softmax(scores: Float64Array): Float64Array {
  let max = -Infinity;
  for (const s of scores) max = Math.max(max, s);
  const p = scores.map((s) => Math.exp(s - max));
  const sum = p.reduce((a, b) => a + b, 0);
  return p.map((v) => v / sum);
}

export function probabilities(m: LogisticModel, x: Float64Array): Float64Array {
  return softmax(classScores(m, decision(m, x)));
}

export function fitLogistic(X: readonly Float64Array[], y: readonly number[], classes: string[], opts: LogisticOptions = {}): LogisticModel {
  const n = X.length;
  const K = classes.length;
  if (K < 2) throw new SaliencyError(`logistic regression needs at least 2 classes, got ${K}`, 'BAD_DATA');
  if (n === 0 || n !== y.length) throw new SaliencyError(`logistic regression: ${n} inputs for ${y.length} labels`, 'BAD_DATA');
  const dim = X[0].length;
  if (X.some((x) => x.length !== dim)) throw new SaliencyError('logistic regression: inputs differ in length', 'BAD_DATA');
  if (y.some((c) => !Number.isInteger(c) || c < 0 || c >= K)) throw new SaliencyError(`logistic regression: labels must be 0..${K - 1}`, 'BAD_DATA');
  const l2 = opts.l2 ?? 1e-3;
  if (!(l2 >= 0)) throw new SaliencyError(`l2 must be >= 0, got ${l2}`, 'BAD_SETTING');
  const kind = K === 2 ? 'binary' : 'multinomial';
  const outs = kind === 'binary' ? 1 : K;
  const nw = outs * dim;
  const z = new Float64Array(outs);

  // theta = [W (outs x dim), b (outs)]
  const objective = (theta: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let loss = 0;
    for (let r = 0; r < n; r++) {
      const x = X[r];
      for (let k = 0; k < outs; k++) {
        let s = theta[nw + k];
        for (let i = 0; i < dim; i++) s += theta[k * dim + i] * x[i];
        z[k] = s;
      }
      if (kind === 'binary') {
        const t = y[r];
        // log(1 + e^z) - t z, computed without overflow.
        loss += Math.max(z[0], 0) + Math.log1p(Math.exp(-Math.abs(z[0]))) - t * z[0];
        const err = 1 / (1 + Math.exp(-z[0])) - t;
        for (let i = 0; i < dim; i++) grad[i] += err * x[i];
        grad[nw] += err;
      } else {
        let max = -Infinity;
        for (let k = 0; k < K; k++) max = Math.max(max, z[k]);
        let sum = 0;
        for (let k = 0; k < K; k++) sum += Math.exp(z[k] - max);
        const logSum = max + Math.log(sum);
        loss += logSum - z[y[r]];
        for (let k = 0; k < K; k++) {
          const err = Math.exp(z[k] - logSum) - (k === y[r] ? 1 : 0);
          for (let i = 0; i < dim; i++) grad[k * dim + i] += err * x[i];
          grad[nw + k] += err;
        }
      }
    }
    let penalty = 0;
    for (let j = 0; j < theta.length; j++) grad[j] /= n;
    for (let j = 0; j < nw; j++) {
      penalty += theta[j] * theta[j];
      grad[j] += l2 * theta[j];
    }
    return loss / n + (l2 / 2) * penalty;
  };

  const res = minimizeLbfgs(objective, new Float64Array(nw + outs), { maxIterations: opts.maxIterations ?? 5000, gradientTolerance: 1e-8 });
  const weights = res.x.slice(0, nw);
  const bias = res.x.slice(nw);
  if (kind === 'multinomial') {
    // Softmax is unchanged by a common shift of the biases: centre them so the model is unique.
    const mean = bias.reduce((a, b) => a + b, 0) / K;
    for (let k = 0; k < K; k++) bias[k] -= mean;
  }
  return { kind, classes: [...classes], dim, weights, bias, l2, fit: { iterations: res.iterations, converged: res.converged, gradientNorm: res.gradientNorm, loss: res.value } };
}
