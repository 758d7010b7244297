// Values through Redis: BullMQ and our result keys hold JSON, which would turn a Float32Array into an object
// of decimal strings and NaN into null. pack() stores typed arrays as deflated raw bytes (base64) and
// non-finite numbers and -0 by name, so unpack(pack(x)) is bit-identical to x (maps stay float32).
import { deflateSync, inflateSync } from 'node:zlib';

const TYPED = { Float32Array, Float64Array, Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array } as const;
type TypedName = keyof typeof TYPED;

export function pack(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0) ? v : { $num: Object.is(v, -0) ? '-0' : String(v) };
  if (ArrayBuffer.isView(v)) {
    const name = v.constructor.name;
    if (!(name in TYPED)) throw new Error(`cannot send a ${name} through the queue`);
    return { $typed: name, z: deflateSync(Buffer.from(v.buffer, v.byteOffset, v.byteLength), { level: 1 }).toString('base64') };
  }
  if (Array.isArray(v)) return v.map(pack);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = pack(x);
    return out;
  }
  return v;
}

export function unpack(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unpack);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.$num === 'string') return o.$num === '-0' ? -0 : Number(o.$num);
    if (typeof o.$typed === 'string' && typeof o.z === 'string') {
      const bytes = inflateSync(Buffer.from(o.z, 'base64'));
      // copied into a fresh buffer: the typed array needs its own aligned memory
      const Ctor = TYPED[o.$typed as TypedName];
      return new Ctor(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = unpack(x);
    return out;
  }
  return v;
}
