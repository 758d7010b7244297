// builtin:<name> model specs, and the ONNX builder the built-in models are made with.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { BUILTIN_MODELS, builtinSamplesDir, isBuiltinSpec, resolveModelSpec } from '../../src-main/engine/model/builtin.ts';
import { OnnxBuilder, float, hwioToOihw, transposeDense } from '../../src-main/engine/model/onnx-builder.ts';
import { decodeModel, metadata, attr } from '../../src-main/engine/model/onnx-graph.ts';
import { SaliencyError } from '../../src-main/engine/types.ts';

describe('builtin model specs', () => {
  it('resolves every built-in model to a bundled file with samples', () => {
    expect(BUILTIN_MODELS.map((m) => m.spec)).toEqual(['builtin:demo', 'builtin:known-evidence']);
    for (const m of BUILTIN_MODELS) {
      const file = resolveModelSpec(m.spec);
      expect(file.endsWith('model.onnx')).toBe(true);
      expect(existsSync(file)).toBe(true);
      expect(readdirSync(builtinSamplesDir(m.name)).filter((f) => f.endsWith('.png')).length).toBeGreaterThanOrEqual(8);
      expect(builtinSamplesDir(m.spec)).toBe(builtinSamplesDir(m.name));
      expect(m.description.length).toBeGreaterThan(20);
    }
  });

  it('leaves paths alone and names the known models for an unknown builtin', () => {
    expect(resolveModelSpec('/tmp/x.onnx')).toBe('/tmp/x.onnx');
    expect(isBuiltinSpec('builtin:demo')).toBe(true);
    expect(isBuiltinSpec('demo.onnx')).toBe(false);
    expect(() => resolveModelSpec('builtin:resnet')).toThrow(SaliencyError);
    expect(() => resolveModelSpec('builtin:resnet')).toThrow(/unknown built-in model "builtin:resnet".*builtin:demo, builtin:known-evidence/);
    expect(() => builtinSamplesDir('nope')).toThrow(/unknown built-in model/);
  });
});

describe('OnnxBuilder', () => {
  it('builds a graph ONNX Runtime runs, with typed attributes and metadata', async () => {
    const b = new OnnxBuilder({ producer: 'test', graphName: 'g' });
    const x = b.input('x', ['batch', 1, 4, 4]);
    // A 2x2 kernel given in HWIO; after conversion ONNX must compute the same correlation.
    const hwio = [1, 10, 100, 1000]; // [kh=2, kw=2, cin=1, cout=1]
    const w = b.initializer('w', hwioToOihw(hwio, 2, 2, 1, 1), [1, 1, 2, 2]);
    const bias = b.initializer('b', [0.5], [1]);
    const conv = b.conv(x, w, bias, { kernel: [2, 2] });
    const pooled = b.flatten(b.globalAveragePool(b.relu(conv)));
    const fw = b.initializer('fw', transposeDense([2, 3], 1, 2), [2, 1]);
    const fb = b.initializer('fb', [0, 1], [2]);
    b.output(b.gemm(pooled, fw, fb, 'logits'), ['batch', 2]);
    b.metadata('k', 'v');
    const bytes = b.toBytes();
    const m = decodeModel(bytes, 'test');
    expect(metadata(m, 'k')).toBe('v');
    const gemm = m.graph.node.find((n) => n.op_type === 'Gemm')!;
    expect(attr(gemm, 'alpha')?.f).toBe(1);
    expect(attr(gemm, 'transB')?.type).toBe(2);
    const s = await ort.InferenceSession.create(bytes);
    const input = Float32Array.from({ length: 32 }, (_, i) => i % 16);
    const r = await s.run({ x: new ort.Tensor('float32', input, [2, 1, 4, 4]) });
    // conv at (y,x) = p(y,x) + 10 p(y,x+1) + 100 p(y+1,x) + 1000 p(y+1,x+1) + 0.5 with p = 4y + x; mean over 3x3.
    let mean = 0;
    for (let y = 0; y < 3; y++) for (let xx = 0; xx < 3; xx++) {
      const p = (yy: number, xi: number) => 4 * yy + xi;
      mean += (p(y, xx) + 10 * p(y, xx + 1) + 100 * p(y + 1, xx) + 1000 * p(y + 1, xx + 1) + 0.5) / 9;
    }
    const out = r.logits.data as Float32Array;
    expect(out[0]).toBeCloseTo(2 * mean, 2);
    expect(out[1]).toBeCloseTo(3 * mean + 1, 2);
    expect(out[2]).toBeCloseTo(out[0], 4);
    await s.release();
  });

  it('refuses dangling inputs, reused names and wrong initializer sizes', () => {
    const b = new OnnxBuilder({ producer: 'test', graphName: 'g' });
    b.input('x', [1, 3, 8, 8]);
    expect(() => b.relu('nothing')).toThrow(/reads "nothing", which nothing produces/);
    expect(() => b.initializer('x', [1], [1])).toThrow(/already used/);
    expect(() => b.initializer('w', [1, 2, 3], [2, 2])).toThrow(/3 values for shape \[2,2\]/);
    expect(() => b.output('y', [1])).toThrow(/not produced/);
    expect(() => new OnnxBuilder({ producer: 't', graphName: 'g' }).toBytes()).toThrow(/needs an input and an output/);
    expect(float(2).value).toBe(2);
  });
});
