// Raw maps are written as NumPy .npy files (format 1.0, little-endian float32, C order): every researcher's
// tool reads them (numpy.load), and the header carries the shape.
import { SaliencyError } from '../types.ts';

export function encodeNpy(data: Float32Array, shape: number[]): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), body]);
}

export function decodeNpy(buf: Buffer): { data: Float32Array; shape: number[] } {
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new SaliencyError('not a .npy file', 'BAD_INPUT');
  const len = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + len);
  if (!header.includes("'<f4'")) throw new SaliencyError('only little-endian float32 .npy files are supported', 'BAD_INPUT');
  const shape = (/'shape': \(([^)]*)\)/.exec(header)?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const start = 10 + len;
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length));
  return { data, shape };
}
