// Appends nodes and constants to a graph under fresh names: what the backward compiler writes with.
import { DataType, type OnnxNode, type OnnxTensor } from '../onnx-graph.ts';
import { toAttribute, type AttrValue } from '../onnx-builder.ts';

export class Emitter {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private counter = 0;

  constructor(private readonly taken: Set<string>, private readonly prefix = 'grad') {}

  fresh(hint: string): string {
    let name: string;
    do name = `${this.prefix}/${hint}_${this.counter++}`; while (this.taken.has(name));
    this.taken.add(name);
    return name;
  }

  /** Adds a node with `outputs` fresh outputs; returns their names. */
  ops(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs = 1): string[] {
    const outs = Array.from({ length: outputs }, () => this.fresh(op));
    this.nodes.push({
      op_type: op, name: this.fresh(`${op}_node`), input: inputs, output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => toAttribute(k, v)),
    });
    return outs;
  }

  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    return this.ops(op, inputs, attrs)[0];
  }

  f32(values: ArrayLike<number>, dims: number[]): string {
    const raw = new Uint8Array(values.length * 4);
    const dv = new DataView(raw.buffer);
    for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i], true);
    const name = this.fresh('const');
    this.initializers.push({ name, dims, data_type: DataType.FLOAT, raw_data: raw });
    return name;
  }

  /** A float32 scalar (rank 0): broadcasts against anything. */
  scalar(v: number): string {
    return this.f32([v], []);
  }

  i64(values: number[], dims: number[] = [values.length]): string {
    const raw = new Uint8Array(values.length * 8);
    const dv = new DataView(raw.buffer);
    values.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
    const name = this.fresh('shape');
    this.initializers.push({ name, dims, data_type: DataType.INT64, raw_data: raw });
    return name;
  }

  shapeOf(x: string): string {
    return this.op('Shape', [x]);
  }

  /** Reshape `g` to the runtime shape of `like`. */
  reshapeLike(g: string, like: string): string {
    return this.op('Reshape', [g, this.shapeOf(like)]);
  }

  zerosLike(x: string): string {
    return this.op('ConstantOfShape', [this.shapeOf(x)]);
  }

  /** Sums over `axes` (opset 13+: axes as an input). */
  reduceSum(x: string, axes: number[], keepdims: boolean): string {
    return this.op('ReduceSum', [x, this.i64(axes)], { keepdims: keepdims ? 1 : 0 });
  }

  /**
   * The gradient of a broadcast operand: sums `g` (shape `outShape`) back to `inShape` (numpy broadcasting).
   * Shapes are the probed static shapes; dimension 0 is the batch in both where present.
   */
  unbroadcast(g: string, outShape: number[], inShape: number[]): string {
    let out = g;
    const lead = outShape.length - inShape.length;
    if (lead > 0) out = this.reduceSum(out, Array.from({ length: lead }, (_, i) => i), false);
    const axes = inShape.map((d, i) => (d === 1 && outShape[lead + i] !== 1 ? i : -1)).filter((i) => i >= 0);
    if (axes.length) out = this.reduceSum(out, axes, true);
    return out;
  }
}
