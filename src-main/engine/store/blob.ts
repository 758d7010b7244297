// Maps are stored as raw little-endian float32 blobs, with their shape in separate columns: compact
// (4 bytes a value), and read back without parsing.
import type { Map2D } from '../types.ts';
import { SaliencyError } from '../types.ts';

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function mapToBlob(map: Map2D): Buffer {
  if (map.data.length !== map.width * map.height) {
    throw new SaliencyError(`map has ${map.data.length} values for a ${map.width}x${map.height} shape`, 'BAD_MAP');
  }
  const data = map.data instanceof Float32Array ? map.data : Float32Array.from(map.data);
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return LITTLE_ENDIAN ? Buffer.from(buf) : Buffer.from(buf).swap32();
}

export function blobToMap(blob: Uint8Array, width: number, height: number): Map2D {
  if (blob.byteLength !== width * height * 4) {
    throw new SaliencyError(`stored map has ${blob.byteLength} bytes, expected ${width * height * 4} for ${width}x${height}`, 'BAD_MAP');
  }
  // Copy into an aligned buffer (SQLite blobs can start at any offset).
  const copy = Buffer.from(blob);
  if (!LITTLE_ENDIAN) copy.swap32();
  return { width, height, data: new Float32Array(copy.buffer, copy.byteOffset, width * height) };
}
