// A float64 reference evaluator for the forward graph (the ops of the CNN classifiers we differentiate), used
// only by gradient checks: ONNX Runtime has no float64 Conv, and float32 forward passes cannot resolve central
// differences at steps small enough to cross no ReLU or max-pool kink. Plain loops, correct rather than fast.
import { SaliencyError } from '../../types.ts';
import { GraphIndex, attrFloat, attrInt, attrInts, tensorDims, tensorValues, type OnnxModel, type OnnxNode } from '../onnx-graph.ts';
import { defaultOpset } from './upgrade.ts';

export interface T64 { data: Float64Array; dims: number[] }

const size = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

type Op = (n: OnnxNode, x: (T64 | undefined)[], opset: number) => T64[];

function poolOut(inp: number, k: number, s: number, pb: number, pe: number, ceil: boolean, d = 1): number {
  const span = inp + pb + pe - ((k - 1) * d + 1);
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= inp + pb) out--;
  return out;
}

function explicitPads(n: OnnxNode, spatial: number): number[] {
  const auto = n.attribute?.find((a) => a.name === 'auto_pad')?.s;
  const mode = auto && auto.length ? new TextDecoder().decode(auto) : 'NOTSET';
  if (mode !== 'NOTSET' && mode !== 'VALID') throw new SaliencyError(`float64 reference: ${n.op_type} auto_pad ${mode} is not supported`);
  return mode === 'VALID' ? new Array<number>(2 * spatial).fill(0) : attrInts(n, 'pads') ?? new Array<number>(2 * spatial).fill(0);
}

const conv: Op = (n, [x, w, b]) => {
  const [N, C, H, W] = x!.dims;
  const [M, Cg, KH, KW] = w!.dims;
  const group = attrInt(n, 'group', 1);
  const [sh, sw] = attrInts(n, 'strides') ?? [1, 1];
  const [dh, dw] = attrInts(n, 'dilations') ?? [1, 1];
  const [pt, pl, pb, pr] = explicitPads(n, 2);
  const OH = poolOut(H, KH, sh, pt, pb, false, dh);
  const OW = poolOut(W, KW, sw, pl, pr, false, dw);
  const out = new Float64Array(N * M * OH * OW);
  const Mg = M / group;
  for (let nn = 0; nn < N; nn++) for (let m = 0; m < M; m++) {
    const o = out.subarray(((nn * M) + m) * OH * OW, ((nn * M) + m + 1) * OH * OW);
    if (b) o.fill(b.data[m]);
    const g = Math.floor(m / Mg);
    for (let c = 0; c < Cg; c++) {
      const xc = x!.data.subarray(((nn * C) + g * Cg + c) * H * W, ((nn * C) + g * Cg + c + 1) * H * W);
      for (let ky = 0; ky < KH; ky++) for (let kx = 0; kx < KW; kx++) {
        const wv = w!.data[((m * Cg + c) * KH + ky) * KW + kx];
        if (wv === 0) continue;
        // Output columns whose input column is inside the image: no bounds test in the inner loop.
        const shift = kx * dw - pl;
        const lo = Math.max(0, Math.ceil(-shift / sw));
        const hi = Math.min(OW, Math.floor((W - 1 - shift) / sw) + 1);
        for (let oy = 0; oy < OH; oy++) {
          const iy = oy * sh - pt + ky * dh;
          if (iy < 0 || iy >= H) continue;
          const base = iy * W + shift;
          const orow = oy * OW;
          if (sw === 1) for (let ox = lo; ox < hi; ox++) o[orow + ox] += wv * xc[base + ox];
          else for (let ox = lo; ox < hi; ox++) o[orow + ox] += wv * xc[base + ox * sw];
        }
      }
    }
  }
  return [{ data: out, dims: [N, M, OH, OW] }];
};

function pool(n: OnnxNode, x: T64, max: boolean): T64 {
  const [N, C, H, W] = x.dims;
  const [KH, KW] = attrInts(n, 'kernel_shape')!;
  const [sh, sw] = attrInts(n, 'strides') ?? [1, 1];
  const [pt, pl, pb, pr] = explicitPads(n, 2);
  const ceil = attrInt(n, 'ceil_mode', 0) === 1;
  const includePad = attrInt(n, 'count_include_pad', 0) === 1;
  const OH = poolOut(H, KH, sh, pt, pb, ceil);
  const OW = poolOut(W, KW, sw, pl, pr, ceil);
  const out = new Float64Array(N * C * OH * OW);
  for (let p = 0; p < N * C; p++) {
    const xc = x.data.subarray(p * H * W, (p + 1) * H * W);
    for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
      let acc = max ? -Infinity : 0;
      let count = 0;
      const y0 = oy * sh - pt;
      const x0 = ox * sw - pl;
      for (let ky = 0; ky < KH; ky++) for (let kx = 0; kx < KW; kx++) {
        const iy = y0 + ky;
        const ix = x0 + kx;
        const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
        if (includePad && iy < H + pb && ix < W + pr) count++;
        if (!inside) continue;
        if (!includePad) count++;
        const v = xc[iy * W + ix];
        acc = max ? Math.max(acc, v) : acc + v;
      }
      out[(p * OH + oy) * OW + ox] = max ? acc : acc / count;
    }
  }
  return { data: out, dims: [N, C, OH, OW] };
}

function broadcast(a: T64, b: T64, f: (x: number, y: number) => number): T64 {
  const rank = Math.max(a.dims.length, b.dims.length);
  const pad = (d: number[]) => [...new Array<number>(rank - d.length).fill(1), ...d];
  const da = pad(a.dims);
  const db = pad(b.dims);
  const dims = da.map((v, i) => Math.max(v, db[i]));
  const out = new Float64Array(size(dims));
  const strides = (d: number[]) => {
    const s = new Array<number>(rank).fill(0);
    let acc = 1;
    for (let i = rank - 1; i >= 0; i--) { s[i] = d[i] === 1 ? 0 : acc; acc *= d[i]; }
    return s;
  };
  const sa = strides(da);
  const sb = strides(db);
  const idx = new Array<number>(rank).fill(0);
  for (let k = 0; k < out.length; k++) {
    let ia = 0;
    let ib = 0;
    for (let i = 0; i < rank; i++) { ia += idx[i] * sa[i]; ib += idx[i] * sb[i]; }
    out[k] = f(a.data[ia], b.data[ib]);
    for (let i = rank - 1; i >= 0; i--) { if (++idx[i] < dims[i]) break; idx[i] = 0; }
  }
  return { data: out, dims };
}

const unary = (f: (v: number) => number): Op => (_, [x]) => [{ data: x!.data.map(f), dims: x!.dims }];

const OPS: Record<string, Op> = {
  Conv: conv,
  Relu: unary((v) => (v > 0 ? v : 0)),
  Sigmoid: unary((v) => 1 / (1 + Math.exp(-v))),
  Identity: (_, [x]) => [x!],
  Dropout: (_, [x]) => [x!],
  Clip: (n, [x, lo, hi], opset) => {
    const min = opset < 11 ? attrFloat(n, 'min', -Infinity) : lo ? lo.data[0] : -Infinity;
    const max = opset < 11 ? attrFloat(n, 'max', Infinity) : hi ? hi.data[0] : Infinity;
    return [{ data: x!.data.map((v) => Math.min(max, Math.max(min, v))), dims: x!.dims }];
  },
  MaxPool: (n, [x]) => [pool(n, x!, true)],
  AveragePool: (n, [x]) => [pool(n, x!, false)],
  GlobalAveragePool: (_, [x]) => {
    const [N, C] = x!.dims;
    const plane = size(x!.dims.slice(2));
    const out = new Float64Array(N * C);
    for (let p = 0; p < N * C; p++) { let s = 0; for (let i = 0; i < plane; i++) s += x!.data[p * plane + i]; out[p] = s / plane; }
    return [{ data: out, dims: [N, C, ...x!.dims.slice(2).map(() => 1)] }];
  },
  Concat: (n, xs) => {
    const rank = xs[0]!.dims.length;
    const axis = (attrInt(n, 'axis', 0) + rank) % rank;
    const outer = size(xs[0]!.dims.slice(0, axis));
    const dims = [...xs[0]!.dims];
    dims[axis] = xs.reduce((a, t) => a + t!.dims[axis], 0);
    const out = new Float64Array(size(dims));
    let at = 0;
    for (let o = 0; o < outer; o++) for (const t of xs) {
      const chunk = size(t!.dims.slice(axis));
      out.set(t!.data.subarray(o * chunk, (o + 1) * chunk), at);
      at += chunk;
    }
    return [{ data: out, dims }];
  },
  Flatten: (n, [x]) => {
    const axis = attrInt(n, 'axis', 1);
    return [{ data: x!.data, dims: [size(x!.dims.slice(0, axis)), size(x!.dims.slice(axis))] }];
  },
  Reshape: (_, [x, s]) => {
    const dims = Array.from(s!.data, (v, i) => (v === 0 ? x!.dims[i] : v));
    const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    return [{ data: x!.data, dims: dims.map((d) => (d === -1 ? size(x!.dims) / known : d)) }];
  },
  Pad: (n, [x, p], opset) => {
    const pads = opset < 11 ? attrInts(n, 'pads')! : Array.from(p!.data);
    const rank = x!.dims.length;
    const dims = x!.dims.map((d, i) => d + pads[i] + pads[rank + i]);
    const out = new Float64Array(size(dims));
    const idx = new Array<number>(rank).fill(0);
    for (let k = 0; k < x!.data.length; k++) {
      let o = 0;
      for (let i = 0; i < rank; i++) o = o * dims[i] + idx[i] + pads[i];
      out[o] = x!.data[k];
      for (let i = rank - 1; i >= 0; i--) { if (++idx[i] < x!.dims[i]) break; idx[i] = 0; }
    }
    return [{ data: out, dims }];
  },
  Gemm: (n, [a, b, c]) => {
    const ta = attrInt(n, 'transA', 0);
    const tb = attrInt(n, 'transB', 0);
    const alpha = attrFloat(n, 'alpha', 1);
    const beta = attrFloat(n, 'beta', 1);
    const [M, K] = ta ? [a!.dims[1], a!.dims[0]] : a!.dims;
    const Nn = tb ? b!.dims[0] : b!.dims[1];
    const out = new Float64Array(M * Nn);
    for (let i = 0; i < M; i++) for (let j = 0; j < Nn; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += (ta ? a!.data[k * M + i] : a!.data[i * K + k]) * (tb ? b!.data[j * K + k] : b!.data[k * Nn + j]);
      out[i * Nn + j] = alpha * s;
    }
    const r: T64 = { data: out, dims: [M, Nn] };
    return [c ? broadcast(r, c, (x, y) => x + beta * y) : r];
  },
  Add: (_, [a, b]) => [broadcast(a!, b!, (x, y) => x + y)],
  Sub: (_, [a, b]) => [broadcast(a!, b!, (x, y) => x - y)],
  Mul: (_, [a, b]) => [broadcast(a!, b!, (x, y) => x * y)],
  Div: (_, [a, b]) => [broadcast(a!, b!, (x, y) => x / y)],
  BatchNormalization: (n, [x, s, b, m, v]) => {
    const eps = attrFloat(n, 'epsilon', 1e-5);
    const [N, C] = x!.dims;
    const plane = size(x!.dims.slice(2));
    const out = new Float64Array(x!.data.length);
    for (let i = 0; i < N * C; i++) {
      const c = i % C;
      const k = s!.data[c] / Math.sqrt(v!.data[c] + eps);
      for (let p = 0; p < plane; p++) out[i * plane + p] = (x!.data[i * plane + p] - m!.data[c]) * k + b!.data[c];
    }
    return [{ data: out, dims: x!.dims }];
  },
};

/** Evaluates `output` in float64 from the fed tensors (any tensors: the input or an intermediate block). */
export function evaluateF64(model: OnnxModel, feeds: Record<string, T64>, output: string): T64 {
  const g = new GraphIndex(model.graph);
  const opset = defaultOpset(model);
  const values = new Map<string, T64>(Object.entries(feeds));
  const get = (name: string): T64 | undefined => {
    if (!name) return undefined;
    const have = values.get(name);
    if (have) return have;
    const t = g.constant(name);
    if (t) {
      const v = { data: tensorValues(t), dims: tensorDims(t) };
      values.set(name, v);
      return v;
    }
    const p = g.producer.get(name);
    if (!p) throw new SaliencyError(`float64 reference: nothing produces "${name}"`);
    const op = OPS[p.op_type];
    if (!op) throw new SaliencyError(`float64 reference: ${p.op_type} is not supported`);
    const outs = op(p, p.input.map(get), opset);
    p.output.forEach((o, i) => { if (outs[i]) values.set(o, outs[i]); });
    return values.get(name);
  };
  // The nodes between the feeds and the output, evaluated in graph order (no deep recursion on long chains).
  const needed = new Set<OnnxNode>();
  const stack = [output];
  const seen = new Set<string>();
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t) || values.has(t)) continue;
    seen.add(t);
    const p = g.producer.get(t);
    if (p && !needed.has(p)) { needed.add(p); stack.push(...p.input.filter(Boolean)); }
  }
  for (const n of model.graph.node) if (needed.has(n)) get(n.output[0]);
  return get(output)!;
}
