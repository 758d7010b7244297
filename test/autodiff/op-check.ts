// Builds a one-op (or few-op) graph with OnnxBuilder, compiles its backward graph, and compares every coordinate
// of the gradient with central finite differences of L = sum(w * y) (float64 accumulation).
import * as ort from 'onnxruntime-node';
import { OnnxBuilder } from '../../src-main/engine/model/onnx-builder.ts';
import { encodeModel } from '../../src-main/engine/model/onnx-graph.ts';
import { GradientGraph } from '../../src-main/engine/model/autodiff/gradient-graph.ts';
import { coordinateCheck, type CheckResult } from '../../src-main/engine/model/autodiff/finite-diff.ts';
import { Random } from '../../src-main/engine/util/random.ts';

export interface OpCase {
  /** Per-example input dims (the batch is added). */
  dims: number[];
  build: (b: OnnxBuilder, x: string) => string;
  /** Finite-difference step (piecewise-linear ops tolerate large steps; keep inputs away from kinks). */
  h?: number;
  /** Input values: default normal(0,1) with |x| >= 0.1 (away from ReLU kinks) and distinct values. */
  values?: (rng: Random, count: number) => Float32Array;
  probability?: boolean;
  opset?: number;
}

export async function checkOp(c: OpCase, seed = 1): Promise<CheckResult> {
  const b = new OnnxBuilder({ producer: 'test', graphName: 'op', opset: c.opset ?? 13 });
  const x = b.input('x', ['batch', ...c.dims]);
  const y = c.build(b, x);
  b.output(y, ['batch']);
  const model = b.build();
  delete model.graph.output![0].type!.tensor_type!.shape; // the output's shape is whatever the op gives
  const bytes = encodeModel(model);
  const rng = new Random(seed);
  const count = c.dims.reduce((a, d) => a * d, 1);
  const values = c.values?.(rng, count) ?? Float32Array.from({ length: count }, (_, i) => {
    const v = rng.normal();
    return (Math.sign(v) || 1) * (0.1 + Math.abs(v)) + i * 1e-3;
  });
  const graph = await GradientGraph.compile(bytes, { input: 'x', output: y, wrt: ['x'], label: 'test', threads: 1 });
  const M = graph.outputSize;
  const w = Float32Array.from({ length: M }, () => rng.normal());
  const zeros = new Float32Array(M);
  const run = await graph.run(values, 1, c.probability ? zeros : w, c.probability ? w : zeros);
  const forward = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const objective = async (inputs: Float32Array[]) => {
    const n = inputs.length;
    const data = new Float32Array(n * count);
    inputs.forEach((v, i) => data.set(v, i * count));
    const out = (await forward.run({ x: new ort.Tensor('float32', data, [n, ...c.dims]) }))[y].data as Float32Array;
    const L = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const row = out.subarray(i * M, (i + 1) * M);
      let s = 0;
      if (c.probability) {
        let max = -Infinity;
        for (const v of row) max = Math.max(max, v);
        let z = 0;
        for (const v of row) z += Math.exp(v - max);
        for (let j = 0; j < M; j++) s += w[j] * Math.exp(row[j] - max) / z;
      } else {
        for (let j = 0; j < M; j++) s += w[j] * row[j];
      }
      L[i] = s;
    }
    return L;
  };
  const result = await coordinateCheck(objective, values, run.grads.x, c.h ?? 1e-2);
  await forward.release();
  await graph.dispose();
  return result;
}
