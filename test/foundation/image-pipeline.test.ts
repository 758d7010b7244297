// The image pipeline: formats, grey, alpha, 16-bit, EXIF orientation, and the mapping back to the original.
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { decodeImage, planTransform, toModelInput } from '../../src-main/engine/image/load-image.ts';
import { resizeBilinear } from '../../src-main/engine/image/resample.ts';
import { mapToOriginal, resizeMap } from '../../src-main/engine/image/upsample.ts';
import { encodeNpy, decodeNpy } from '../../src-main/engine/io/npy.ts';

const raw = (w: number, h: number, ch: 1 | 3 | 4, f: (x: number, y: number, c: number) => number) => {
  const b = Buffer.alloc(w * h * ch);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < ch; c++) b[(y * w + x) * ch + c] = f(x, y, c);
  return sharp(b, { raw: { width: w, height: h, channels: ch } });
};

describe('decoding', () => {
  it('reads JPEG, PNG and WebP to 8-bit RGB', async () => {
    for (const fmt of ['jpeg', 'png', 'webp'] as const) {
      const bytes = await raw(40, 30, 3, (x, y, c) => (c === 0 ? 200 : 30)).toFormat(fmt, { quality: 95 }).toBuffer();
      const img = await decodeImage(bytes, `x.${fmt}`);
      expect([img.width, img.height, img.data.length]).toEqual([40, 30, 40 * 30 * 3]);
      expect(Math.abs(img.data[0] - 200)).toBeLessThan(8);
      expect(Math.abs(img.data[1] - 30)).toBeLessThan(8);
    }
  });
  it('greyscale becomes three equal channels', async () => {
    const img = await decodeImage(await raw(8, 8, 1, (x) => x * 30).png().toBuffer(), 'g.png');
    expect(img.data.length).toBe(8 * 8 * 3);
    expect([img.data[9], img.data[10], img.data[11]]).toEqual([90, 90, 90]);
  });
  it('alpha is composited on white', async () => {
    const img = await decodeImage(await raw(4, 4, 4, (x, y, c) => (c === 3 ? 0 : 10)).png().toBuffer(), 'a.png');
    expect(Array.from(img.data.subarray(0, 3))).toEqual([255, 255, 255]);
  });
  it('16-bit PNGs are reduced to 8 bits', async () => {
    const png16 = await raw(4, 4, 3, () => 128).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    const img = await decodeImage(png16, 'deep.png');
    expect(Math.abs(img.data[0] - 128)).toBeLessThanOrEqual(1);
  });
  it('EXIF orientation turns the image upright', async () => {
    const bytes = await raw(40, 20, 3, (x) => (x < 20 ? 0 : 255)).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const upright = await decodeImage(bytes, 'r.jpg');
    expect([upright.width, upright.height]).toEqual([20, 40]);
    const asStored = await decodeImage(bytes, 'r.jpg', { orient: false });
    expect([asStored.width, asStored.height]).toEqual([40, 20]);
  });
});

describe('resampling and the transform back to the original', () => {
  it('resizing a constant image keeps it constant; same size is a copy', () => {
    const src = new Uint8Array(50 * 30 * 3).fill(77);
    expect(resizeBilinear(src, 50, 30, 17, 9).every((v) => v === 77)).toBe(true);
    const rnd = Uint8Array.from({ length: 12 * 3 }, (_, i) => (i * 37) % 256);
    expect(Array.from(resizeBilinear(rnd, 4, 3, 4, 3))).toEqual(Array.from(rnd));
  });
  it('the centre crop region maps model pixels onto the original', () => {
    const t = planTransform(500, 375, 224, 224, 'crop');
    // 375 -> 256, 500 -> 341; crop 224 at (58, 16) in resized pixels.
    expect(t.crop.x).toBeCloseTo(58 * 500 / 341, 6);
    expect(t.crop.y).toBeCloseTo(16 * 375 / 256, 6);
    expect(t.crop.width).toBeCloseTo(224 * 500 / 341, 6);
    const direct = planTransform(500, 375, 224, 224, 'direct');
    expect(direct.crop).toEqual({ x: 0, y: 0, width: 500, height: 375 });
  });
  it('a map drawn on the original is NaN outside the crop and follows the map inside', async () => {
    const img = await decodeImage(await raw(100, 50, 3, () => 0).png().toBuffer(), 'w.png');
    const t = planTransform(img.width, img.height, 32, 32, 'crop');
    const input = toModelInput(img, t);
    expect([input.width, input.height]).toEqual([32, 32]);
    const map = { width: 32, height: 32, data: Float32Array.from({ length: 32 * 32 }, (_, i) => i % 32) };
    const o = mapToOriginal(map, t);
    expect([o.width, o.height]).toEqual([100, 50]);
    expect(Number.isNaN(o.data[25 * 100 + 2])).toBe(true); // left margin, outside the crop
    expect(o.data[25 * 100 + 40]).toBeLessThan(o.data[25 * 100 + 60]); // increasing to the right
  });
  it('resizeMap uses half-pixel centres (a 2x2 map upsampled keeps its corners)', () => {
    const m = resizeMap({ width: 2, height: 2, data: Float32Array.from([0, 1, 2, 3]) }, 4, 4);
    expect(m.data[0]).toBeCloseTo(0);
    expect(m.data[15]).toBeCloseTo(3);
    expect(m.data[1]).toBeCloseTo(0.25);
  });
});

describe('.npy maps', () => {
  it('round-trips data and shape with a numpy-compatible header', () => {
    const data = Float32Array.from({ length: 6 }, (_, i) => i / 3);
    const buf = encodeNpy(data, [2, 3]);
    expect(buf.toString('latin1', 1, 6)).toBe('NUMPY');
    expect((10 + buf.readUInt16LE(8)) % 64).toBe(0);
    const back = decodeNpy(buf);
    expect(back.shape).toEqual([2, 3]);
    expect(Array.from(back.data)).toEqual(Array.from(data));
  });
});
