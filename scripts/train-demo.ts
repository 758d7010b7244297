// Trains the built-in demo classifier (a small CNN with a global-average-pool -> linear head) on MNIST with
// TensorFlow.js (pure JS CPU backend), exports it to ONNX with the project's own graph builder, checks ONNX
// Runtime against TensorFlow.js, and writes resources/demo/ (model, reference outputs, samples, README).
//
//   npm run train:demo                 (defaults: seed 1, 7 epochs, shifts of up to 2 px)
//   npm run train:demo -- --epochs 2 --out /tmp/demo   (a quick trial run elsewhere)
//
// On the training path the 3x3 convolutions are im2col + tf.matMul, and batch normalisation + ReLU and the
// 2x2 max-pooling are tf.customGrad ops with JS loops: tfjs-cpu's own Conv2D backward, Slice/SplitV,
// broadcasting element-wise and MaxPoolGrad kernels are so slow that training would take hours on two shared
// cores. tfjs still records the graph, differentiates it and runs Adam. Every evaluation (accuracy, the
// reference outputs ONNX Runtime is checked against) uses tfjs's standard tf.conv2d / tf.maxPool forward ops
// on the batch-norm-folded weights, independently of the training path.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { Random } from '../src-main/engine/util/random.ts';
import { argmax } from '../src-main/engine/util/math.ts';
import { OnnxBuilder, hwioToOihw, transposeDense } from '../src-main/engine/model/onnx-builder.ts';
import { Classifier } from '../src-main/engine/model/classifier.ts';
import { loadMnistSplit, digitAsPlanar, MNIST_SIZE, SPLIT_DESCRIPTION, type DigitSet } from './mnist-split.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const SEED = Number(arg('seed', '1'));
const EPOCHS = Number(arg('epochs', '7'));
const BATCH = Number(arg('batch', '32'));
const LIMIT = Number(arg('limit', '0'));
const OUT = path.resolve(arg('out', path.join(REPO, 'resources/demo')));
const LR = { start: 3e-3, end: 2e-4 };
const BN_EPS = 1e-3;
const SHIFT = Number(arg('shift', '2')); // training augmentation: random translation by up to SHIFT pixels
const SAMPLES_PER_DIGIT = 3;
/** Training digits used to measure the batch-normalisation statistics that are folded into the convs. */
const CALIBRATION = 2000;
const REFERENCE_COUNT = 16;
const DIGIT_LABELS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

// ---- layers -------------------------------------------------------------------------------------------

/** [n,h,w,c] -> [n*h*w, 9c] patches of a 3x3 'same' convolution, in HWIO kernel order. */
const im2col = tf.customGrad(((x: tf.Tensor4D) => {
  const [n, h, w, c] = x.shape;
  const src = x.dataSync() as Float32Array;
  const walk = (visit: (col: number, pixel: number) => void) => {
    let o = 0;
    for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) {
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const sy = y + dy;
        const sx = xx + dx;
        if (sy >= 0 && sy < h && sx >= 0 && sx < w) {
          const base = ((b * h + sy) * w + sx) * c;
          for (let k = 0; k < c; k++) visit(o + k, base + k);
        }
        o += c;
      }
    }
  };
  const cols = new Float32Array(n * h * w * 9 * c);
  walk((col, pixel) => { cols[col] = src[pixel]; });
  return {
    value: tf.tensor2d(cols, [n * h * w, 9 * c]),
    gradFunc: (dy: tf.Tensor) => {
      const g = dy.dataSync() as Float32Array;
      const dx = new Float32Array(src.length);
      walk((col, pixel) => { dx[pixel] += g[col]; });
      return tf.tensor4d(dx, [n, h, w, c]);
    },
  };
}) as never) as (x: tf.Tensor4D) => tf.Tensor2D;

/**
 * Batch normalisation with the batch's statistics followed by ReLU, over rows of z [m, c], with a JS backward
 * (tfjs-cpu's broadcasting element-wise kernels made these a majority of the step time).
 */
export const bnRelu = tf.customGrad(((z: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D) => {
  const [m, c] = z.shape;
  const zs = z.dataSync() as Float32Array;
  const g = gamma.dataSync() as Float32Array;
  const b = beta.dataSync() as Float32Array;
  const mean = new Float64Array(c);
  const varc = new Float64Array(c);
  for (let i = 0; i < m * c; i++) mean[i % c] += zs[i];
  for (let k = 0; k < c; k++) mean[k] /= m;
  for (let i = 0; i < m * c; i++) { const d = zs[i] - mean[i % c]; varc[i % c] += d * d; }
  const inv = new Float64Array(c);
  for (let k = 0; k < c; k++) inv[k] = 1 / Math.sqrt(varc[k] / m + BN_EPS);
  const xhat = new Float32Array(m * c);
  const out = new Float32Array(m * c);
  for (let i = 0; i < m * c; i++) {
    const k = i % c;
    xhat[i] = (zs[i] - mean[k]) * inv[k];
    const y = g[k] * xhat[i] + b[k];
    out[i] = y > 0 ? y : 0;
  }
  return {
    value: tf.tensor2d(out, [m, c]),
    gradFunc: (dout: tf.Tensor) => {
      const d = dout.dataSync() as Float32Array;
      const dy = new Float32Array(m * c);
      const dbeta = new Float64Array(c);
      const dgamma = new Float64Array(c);
      for (let i = 0; i < m * c; i++) {
        const v = out[i] > 0 ? d[i] : 0;
        dy[i] = v;
        dbeta[i % c] += v;
        dgamma[i % c] += v * xhat[i];
      }
      const dz = new Float32Array(m * c);
      for (let i = 0; i < m * c; i++) {
        const k = i % c;
        dz[i] = g[k] * inv[k] * (dy[i] - dbeta[k] / m - xhat[i] * dgamma[k] / m);
      }
      return [tf.tensor2d(dz, [m, c]), tf.tensor1d(Float32Array.from(dgamma)), tf.tensor1d(Float32Array.from(dbeta))];
    },
  };
}) as never) as (z: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor2D;

/** 2x2 max-pooling, stride 2, NHWC, with a JS backward (tfjs-cpu's MaxPoolGrad is slow). */
export const maxPool2 = tf.customGrad(((x: tf.Tensor4D) => {
  const [n, h, w, c] = x.shape;
  const ho = h >> 1;
  const wo = w >> 1;
  const src = x.dataSync() as Float32Array;
  const out = new Float32Array(n * ho * wo * c);
  const arg = new Int32Array(out.length);
  let o = 0;
  for (let b = 0; b < n; b++) for (let y = 0; y < ho; y++) for (let xx = 0; xx < wo; xx++) for (let k = 0; k < c; k++) {
    let best = -Infinity;
    let at = 0;
    for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) {
      const i = ((b * h + 2 * y + dy) * w + 2 * xx + dx) * c + k;
      if (src[i] > best) { best = src[i]; at = i; }
    }
    out[o] = best;
    arg[o++] = at;
  }
  return {
    value: tf.tensor4d(out, [n, ho, wo, c]),
    gradFunc: (dy: tf.Tensor) => {
      const g = dy.dataSync() as Float32Array;
      const dx = new Float32Array(src.length);
      for (let i = 0; i < g.length; i++) dx[arg[i]] += g[i];
      return tf.tensor4d(dx, [n, h, w, c]);
    },
  };
}) as never) as (x: tf.Tensor4D) => tf.Tensor4D;

/** Conv layers: kernel size, output channels, and whether a 2x2 max-pool follows. The last is the feature block. */
const LAYERS = [
  { kernel: 3, channels: 8, pool: true },
  { kernel: 3, channels: 16, pool: true },
  { kernel: 3, channels: 32, pool: false },
  { kernel: 1, channels: 64, pool: false },
] as const;
const LAST = LAYERS[LAYERS.length - 1].channels;

/** Trainable parameters: conv kernels (HWIO, no bias) each followed by batch normalisation (gamma, beta). */
interface Params { kernels: tf.Variable[]; gammas: tf.Variable[]; betas: tf.Variable[]; dense: tf.Variable; denseBias: tf.Variable }
/** The inference network: batch normalisation folded into each conv's kernel and bias. */
interface Folded { kernels: Float32Array[]; biases: Float32Array[]; dense: Float32Array; denseBias: Float32Array }

function initParams(rng: Random): Params {
  const heNormal = (shape: number[], fanIn: number) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const std = Math.sqrt(2 / fanIn);
    return tf.variable(tf.tensor(Float32Array.from({ length: size }, () => rng.normal() * std), shape));
  };
  const p: Params = { kernels: [], gammas: [], betas: [], dense: heNormal([LAST, 10], LAST), denseBias: tf.variable(tf.zeros([10])) };
  let cin = 1;
  for (const l of LAYERS) {
    p.kernels.push(heNormal([l.kernel, l.kernel, cin, l.channels], l.kernel * l.kernel * cin));
    p.gammas.push(tf.variable(tf.ones([l.channels])));
    p.betas.push(tf.variable(tf.zeros([l.channels])));
    cin = l.channels;
  }
  return p;
}

/** A 'same' convolution on the training path: im2col (3x3) or a reshape (1x1), then tf.matMul. */
function trainConv(h: tf.Tensor4D, kernel: tf.Variable, size: number): tf.Tensor4D {
  const [n, hh, ww, c] = h.shape;
  const f = kernel.shape[3]!;
  const cols = size === 3 ? im2col(h) : h.reshape([n * hh * ww, c]);
  return tf.matMul(cols, kernel.reshape([size * size * c, f])).reshape([n, hh, ww, f]) as tf.Tensor4D;
}

/** Training forward pass, batch normalisation with the batch's statistics. */
function trainForward(p: Params, x: tf.Tensor4D): tf.Tensor2D {
  let h = x;
  LAYERS.forEach((l, i) => {
    const z = trainConv(h, p.kernels[i], l.kernel);
    const [n, hh, ww, c] = z.shape;
    h = bnRelu(z.reshape([n * hh * ww, c]), p.gammas[i], p.betas[i]).reshape([n, hh, ww, c]) as tf.Tensor4D;
    if (l.pool) h = maxPool2(h);
  });
  return tf.add(tf.matMul(tf.mean(h, [1, 2]), p.dense), p.denseBias) as tf.Tensor2D;
}

/**
 * Evaluation forward pass with tfjs's standard ops (tf.conv2d, tf.maxPool), independent of the training path.
 * `upTo` stops before layer `upTo`'s bias and returns its raw convolution (for calibration).
 */
function evalForward(f: Folded, x: tf.Tensor4D, upTo = -1): tf.Tensor {
  let h = x;
  for (let i = 0; i < LAYERS.length; i++) {
    const l = LAYERS[i];
    const cin = h.shape[3];
    const conv = tf.conv2d(h, tf.tensor4d(f.kernels[i], [l.kernel, l.kernel, cin, l.channels]), 1, 'same');
    if (i === upTo) return conv;
    h = tf.relu(tf.add(conv, tf.tensor1d(f.biases[i]))) as tf.Tensor4D;
    if (l.pool) h = tf.maxPool(h, 2, 2, 'valid');
  }
  return tf.add(tf.matMul(tf.mean(h, [1, 2]), tf.tensor2d(f.dense, [LAST, 10])), tf.tensor1d(f.denseBias));
}

/**
 * Folds batch normalisation into the convs with population statistics measured layer by layer on `calib`
 * (each layer's statistics are taken with the earlier layers already folded, exactly as inference runs).
 */
function fold(p: Params, calib: DigitSet, indices: number[]): Folded {
  const f: Folded = { kernels: p.kernels.map((k) => k.dataSync().slice() as Float32Array), biases: [], dense: p.dense.dataSync().slice() as Float32Array, denseBias: p.denseBias.dataSync().slice() as Float32Array };
  LAYERS.forEach((l, i) => {
    const c = l.channels;
    const sum = new Float64Array(c);
    const sumSq = new Float64Array(c);
    let n = 0;
    for (let start = 0; start < indices.length; start += 250) {
      const idx = indices.slice(start, start + 250);
      const z = tf.tidy(() => evalForward(f, batchTensor(calib, idx, null), i));
      const v = z.dataSync();
      z.dispose();
      for (let j = 0; j < v.length; j++) { sum[j % c] += v[j]; sumSq[j % c] += v[j] * v[j]; }
      n += v.length / c;
    }
    const gamma = p.gammas[i].dataSync();
    const beta = p.betas[i].dataSync();
    const bias = new Float32Array(c);
    const scale = new Float64Array(c);
    for (let k = 0; k < c; k++) {
      const mean = sum[k] / n;
      const variance = Math.max(0, sumSq[k] / n - mean * mean);
      scale[k] = gamma[k] / Math.sqrt(variance + BN_EPS);
      bias[k] = beta[k] - mean * scale[k];
    }
    const kernel = f.kernels[i];
    for (let j = 0; j < kernel.length; j++) kernel[j] *= scale[j % c];
    f.biases[i] = bias;
  });
  return f;
}

// ---- data ---------------------------------------------------------------------------------------------

const PLANE = MNIST_SIZE * MNIST_SIZE;

/** A batch as [n,28,28,1] in [0,1], optionally shifted at random (zero fill). */
function batchTensor(set: DigitSet, indices: number[], rng: Random | null): tf.Tensor4D {
  const data = new Float32Array(indices.length * PLANE);
  indices.forEach((idx, b) => {
    const dx = rng ? rng.int(2 * SHIFT + 1) - SHIFT : 0;
    const dy = rng ? rng.int(2 * SHIFT + 1) - SHIFT : 0;
    for (let y = 0; y < MNIST_SIZE; y++) {
      const sy = y - dy;
      if (sy < 0 || sy >= MNIST_SIZE) continue;
      for (let x = 0; x < MNIST_SIZE; x++) {
        const sx = x - dx;
        if (sx < 0 || sx >= MNIST_SIZE) continue;
        data[b * PLANE + y * MNIST_SIZE + x] = set.pixels[idx * PLANE + sy * MNIST_SIZE + sx] / 255;
      }
    }
  });
  return tf.tensor4d(data, [indices.length, MNIST_SIZE, MNIST_SIZE, 1]);
}

function evaluate(f: Folded, set: DigitSet, indices?: number[]): { accuracy: number; logits: Float32Array } {
  const all = indices ?? Array.from({ length: set.n }, (_, i) => i);
  const logits = new Float32Array(set.n * 10);
  let correct = 0;
  for (let start = 0; start < all.length; start += 250) {
    const idx = all.slice(start, start + 250);
    const out = tf.tidy(() => evalForward(f, batchTensor(set, idx, null)));
    const v = out.dataSync();
    out.dispose();
    idx.forEach((i, j) => {
      logits.set(v.subarray(j * 10, j * 10 + 10), i * 10);
      if (argmax(v, j * 10, 10) === set.labels[i]) correct++;
    });
  }
  return { accuracy: correct / all.length, logits };
}

// ---- export -------------------------------------------------------------------------------------------

function exportOnnx(f: Folded, facts: Record<string, string>): Uint8Array {
  const b = new OnnxBuilder({ producer: 'saliency-studio scripts/train-demo.ts', producerVersion: '1', graphName: 'mnist_demo_cnn' });
  let h = b.input('image', ['batch', 1, MNIST_SIZE, MNIST_SIZE]);
  let cin = 1;
  LAYERS.forEach((l, i) => {
    const k = l.kernel;
    const w = b.initializer(`conv${i + 1}.weight`, hwioToOihw(f.kernels[i], k, k, cin, l.channels), [l.channels, cin, k, k]);
    const bias = b.initializer(`conv${i + 1}.bias`, f.biases[i], [l.channels]);
    const last = i === LAYERS.length - 1;
    const pad = (k - 1) / 2;
    h = b.relu(b.conv(h, w, bias, { kernel: [k, k], pads: [pad, pad, pad, pad] }, `conv${i + 1}`), last ? 'features' : `relu${i + 1}`);
    if (l.pool) h = b.maxPool(h, 2, 2, `pool${i + 1}`);
    cin = l.channels;
  });
  const pooled = b.flatten(b.globalAveragePool(h, 'gap'), 'pooled');
  const w = b.initializer('fc.weight', transposeDense(f.dense, LAST, 10), [10, LAST]);
  const bias = b.initializer('fc.bias', f.denseBias, [10]);
  b.output(b.gemm(pooled, w, bias, 'logits'), ['batch', 10]);
  b.metadata('saliency.preset', 'unit');
  b.metadata('saliency.resize', 'direct');
  b.metadata('saliency.labels', JSON.stringify(DIGIT_LABELS));
  for (const [key, v] of Object.entries(facts)) b.metadata(key, v);
  return b.toBytes();
}

async function writeSample(set: DigitSet, index: number, file: string): Promise<void> {
  const px = Buffer.from(set.pixels.subarray(index * PLANE, (index + 1) * PLANE));
  await sharp(px, { raw: { width: MNIST_SIZE, height: MNIST_SIZE, channels: 1 } })
    .resize(MNIST_SIZE * 4, MNIST_SIZE * 4, { kernel: 'nearest' }).png().toFile(file);
}

// ---- main ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const t0 = performance.now();
  const { train, test } = loadMnistSplit();
  console.log(`MNIST: ${train.n} training and ${test.n} test digits (${SPLIT_DESCRIPTION})`);
  const rng = Random.derive(SEED, 'train-demo');
  if (LIMIT > 0) {
    // Smoke runs only: a spread subset of the training set.
    const keep = Array.from({ length: Math.min(LIMIT, train.n) }, (_, i) => Math.floor(i * train.n / Math.min(LIMIT, train.n)));
    train.pixels = Uint8Array.from(keep.flatMap((i) => Array.from(train.pixels.subarray(i * PLANE, (i + 1) * PLANE))));
    train.labels = Uint8Array.from(keep.map((i) => train.labels[i]));
    train.n = keep.length;
  }
  // Spread over the (digit-ordered) training set.
  const calibration = Array.from({ length: Math.min(CALIBRATION, train.n) }, (_, i) => Math.floor(i * train.n / Math.min(CALIBRATION, train.n)));

  const params = initParams(rng);
  const optimizer = tf.train.adam(LR.start);
  const stepsPerEpoch = Math.ceil(train.n / BATCH);
  const totalSteps = EPOCHS * stepsPerEpoch;
  let step = 0;
  if (process.argv.includes('--profile')) {
    // Where a training step spends its time (kernel totals), then stop.
    const idx = Array.from({ length: BATCH }, (_, i) => i * 7 % train.n);
    const x = batchTensor(train, idx, rng);
    const y = tf.oneHot(tf.tensor1d(idx.map((i) => train.labels[i]), 'int32'), 10).toFloat();
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      const prof = await tf.profile(() => optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, trainForward(params, x)) as tf.Scalar, true)!);
      const totals = new Map<string, number>();
      for (const k of prof.kernels) totals.set(k.name, (totals.get(k.name) ?? 0) + Number(k.kernelTimeMs));
      console.log(`step ${(performance.now() - t).toFixed(0)} ms:`, [...totals].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', '));
    }
    return;
  }
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    const order = rng.shuffle(Array.from({ length: train.n }, (_, i) => i));
    let lossSum = 0;
    const te = performance.now();
    for (let s = 0; s < stepsPerEpoch; s++, step++) {
      // Cosine decay from LR.start to LR.end over the whole run.
      (optimizer as unknown as { learningRate: number }).learningRate =
        LR.end + 0.5 * (LR.start - LR.end) * (1 + Math.cos(Math.PI * step / totalSteps));
      const idx = order.slice(s * BATCH, (s + 1) * BATCH);
      const x = batchTensor(train, idx, rng);
      const y = tf.oneHot(tf.tensor1d(idx.map((i) => train.labels[i]), 'int32'), 10).toFloat();
      const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, trainForward(params, x)) as tf.Scalar, true)!;
      lossSum += loss.dataSync()[0];
      if ((s + 1) % 50 === 0) console.log(`  step ${s + 1}/${stepsPerEpoch}: mean loss ${(lossSum / (s + 1)).toFixed(4)} (${((performance.now() - te) / 1000).toFixed(0)} s)`);
      tf.dispose([x, y, loss]);
    }
    // A quick look (a quarter of the calibration and test sets); the final numbers use all of them.
    const quarter = (n: number) => Array.from({ length: Math.ceil(n / 4) }, (_, i) => 4 * i);
    const acc = evaluate(fold(params, train, calibration.filter((_, i) => i % 4 === 0)), test, quarter(test.n)).accuracy;
    console.log(`epoch ${epoch}/${EPOCHS}: loss ${(lossSum / stepsPerEpoch).toFixed(4)}, accuracy on a quarter of the test set ${(100 * acc).toFixed(2)}% ` +
      `(${((performance.now() - te) / 1000).toFixed(0)} s)`);
  }
  const trainSeconds = (performance.now() - t0) / 1000;

  // Final evaluation with tfjs's standard ops, then export and check ONNX Runtime against it.
  const folded = fold(params, train, calibration);
  const tfjsEval = evaluate(folded, test);
  const trainAcc = evaluate(folded, train).accuracy;
  console.log(`tfjs: test accuracy ${(100 * tfjsEval.accuracy).toFixed(2)}%, training accuracy ${(100 * trainAcc).toFixed(2)}%`);
  const facts = {
    'training.dataset': SPLIT_DESCRIPTION,
    'training.test_accuracy': tfjsEval.accuracy.toFixed(4),
    'training.test_count': String(test.n),
    'training.seed': String(SEED),
    'training.epochs': String(EPOCHS),
    'training.script': 'scripts/train-demo.ts (npm run train:demo)',
    'training.library': `@tensorflow/tfjs ${tf.version.tfjs} (cpu backend)`,
  };
  const bytes = exportOnnx(folded, facts);
  mkdirSync(path.join(OUT, 'samples'), { recursive: true });
  const modelFile = path.join(OUT, 'model.onnx');
  writeFileSync(modelFile, bytes);

  const model = await Classifier.load(modelFile, { batchSize: 250, threads: 1 });
  let maxDiff = 0;
  let correct = 0;
  for (let start = 0; start < test.n; start += 250) {
    const idx = Array.from({ length: Math.min(250, test.n - start) }, (_, i) => start + i);
    const out = await model.predict(idx.map((i) => digitAsPlanar(test, i)));
    idx.forEach((i, j) => {
      if (argmax(out.logits, j * 10, 10) === test.labels[i]) correct++;
      for (let k = 0; k < 10; k++) maxDiff = Math.max(maxDiff, Math.abs(out.logits[j * 10 + k] - tfjsEval.logits[i * 10 + k]));
    });
  }
  await model.dispose();
  const ortAcc = correct / test.n;
  console.log(`ONNX Runtime: test accuracy ${(100 * ortAcc).toFixed(2)}%, max |logit difference| to tfjs ${maxDiff.toExponential(2)}`);
  if (!(maxDiff <= 1e-4)) throw new Error(`ONNX Runtime and tfjs disagree by ${maxDiff}`);

  // Reference tfjs outputs for the test suite, and viewable samples from the test set.
  const reference = Array.from({ length: REFERENCE_COUNT }, (_, r) => Math.floor((r + 0.5) * test.n / REFERENCE_COUNT)).map((i) => ({
    testIndex: i, digit: test.labels[i], logits: Array.from(tfjsEval.logits.subarray(i * 10, i * 10 + 10)),
  }));
  writeFileSync(path.join(OUT, 'reference-outputs.json'), JSON.stringify({
    note: 'tfjs logits (standard tf.conv2d forward) of the trained model on test-set digits, for test/builtin',
    split: SPLIT_DESCRIPTION, seed: SEED, testAccuracy: tfjsEval.accuracy, onnxRuntimeTestAccuracy: ortAcc,
    maxAbsDiffOnnxRuntimeVsTfjs: maxDiff, modelSha256: createHash('sha256').update(bytes).digest('hex'), reference,
  }, null, 1) + '\n');
  const samples: string[] = [];
  for (let d = 0; d < 10; d++) {
    const ofDigit = Array.from({ length: test.n }, (_, i) => i).filter((i) => test.labels[i] === d);
    for (let s = 0; s < SAMPLES_PER_DIGIT; s++) {
      const i = ofDigit[Math.floor((s + 0.5) * ofDigit.length / SAMPLES_PER_DIGIT)];
      const name = `${String(i).padStart(4, '0')}_${d}.png`;
      await writeSample(test, i, path.join(OUT, 'samples', name));
      samples.push(name);
    }
  }
  writeReadme({ tfjsAcc: tfjsEval.accuracy, ortAcc, trainAcc, maxDiff, n: test.n, nTrain: train.n, bytes: bytes.length, samples: samples.length, trainSeconds });
  console.log(`wrote ${modelFile} (${bytes.length} bytes), ${samples.length} samples, reference outputs and README in ${OUT}`);
}

function writeReadme(r: { tfjsAcc: number; ortAcc: number; trainAcc: number; maxDiff: number; n: number; nTrain: number; bytes: number; samples: number; trainSeconds: number }): void {
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  const text = `# Built-in demo model (\`builtin:demo\`)

A small CNN trained by this repository on MNIST digits. Everything here is written by
\`scripts/train-demo.ts\`; do not edit by hand.

| | |
|---|---|
| Test accuracy (ONNX Runtime) | **${pct(r.ortAcc)}** on ${r.n} held-out test digits |
| Test accuracy (TensorFlow.js) | ${pct(r.tfjsAcc)} |
| Training accuracy | ${pct(r.trainAcc)} on ${r.nTrain} digits |
| ONNX Runtime vs TensorFlow.js | max abs logit difference ${r.maxDiff.toExponential(2)} over the test set |
| Model file | \`model.onnx\`, ${(r.bytes / 1024).toFixed(1)} KiB |
| Seed, epochs, batch | ${SEED}, ${EPOCHS}, ${BATCH} |
| Training time | ${(r.trainSeconds / 60).toFixed(1)} min on a shared 2-core CPU |

**Data.** ${SPLIT_DESCRIPTION} (\`scripts/mnist-split.ts\`).
Training adds random shifts of up to ${SHIFT} pixels.

**Network** (input \`image\` float32 [batch,1,28,28], grey in [0,1], white digit on black):
${LAYERS.map((l) => `${l.kernel}x${l.kernel} conv ${l.channels} -> ReLU${l.pool ? ' -> max-pool 2' : ''}`).join(' -> ')}
(\`features\`, the 7x7x${LAST} last conv block) -> GlobalAveragePool -> Gemm -> \`logits\` [batch,10].
Trained with batch normalisation after every conv, folded into the conv weights and biases for export
(population statistics measured layer by layer on ${CALIBRATION} training digits).
Trained with Adam (cosine learning rate ${LR.start} -> ${LR.end}), softmax cross-entropy, He-normal initialisation
from the project's seeded PRNG, with @tensorflow/tfjs on its pure JS CPU backend. Exported to ONNX (opset 13)
by the project's graph builder (\`src-main/engine/model/onnx-builder.ts\`), TensorFlow's HWIO kernels converted to OIHW.

**Metadata** (\`metadata_props\`): \`saliency.preset\`=\`unit\` (pixels /255), \`saliency.resize\`=\`direct\`,
\`saliency.labels\` (the digit names), and \`training.*\` facts (accuracy, seed, epochs, script).

**Files.** \`model.onnx\`; \`reference-outputs.json\` (tfjs logits of ${REFERENCE_COUNT} test digits, checked against
ONNX Runtime by \`test/builtin\`); \`samples/\` (${r.samples} test-set digits, \`<test index>_<digit>.png\`, upscaled 4x
to 112x112 with nearest neighbour so they are viewable).

**Retrain.** \`npm run train:demo\` (options: \`--seed\`, \`--epochs\`, \`--batch\`, \`--shift\`, \`--out DIR\`). The run is
deterministic: same seed, same data, same model file.
`;
  writeFileSync(path.join(OUT, 'README.md'), text);
}

// Run only when executed directly (the labels are importable).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
