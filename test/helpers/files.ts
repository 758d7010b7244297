// Test files made on the fly: temp folders, a PNG header that claims a huge size, a tiny non-image ONNX model.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { ModelProtoType } from '../../src-main/engine/model/onnx-schema.ts';

export const tempDir = (prefix = 'saliency-test-') => mkdtempSync(path.join(os.tmpdir(), prefix));

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** A valid PNG header declaring width x height RGB, with only a few rows of data (as a decompression bomb). */
export function hugePngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(4 * (width * 3 + 1)))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A valid ONNX model with no image input: y = Identity(x), x float [1,10]. */
export function nonImageOnnx(): Uint8Array {
  const vi = (name: string) => ({ name, type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 1 }, { dim_value: 10 }] } } } });
  return ModelProtoType.encode({
    ir_version: 7, opset_import: [{ domain: '', version: 13 }], producer_name: 'test',
    graph: { name: 'g', node: [{ op_type: 'Identity', input: ['x'], output: ['y'] }], input: [vi('x')], output: [vi('y')] },
  } as never).finish();
}
