// Colormaps and overlays the app and the reports draw with.
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { COLORMAPS, colormapLut, colouriseMap, scaleMap } from '../../src-main/engine/image/colormap.ts';
import { mapPng, overlayPng } from '../../src-main/engine/image/overlay.ts';

const rgb = (name: (typeof COLORMAPS)[number], i: number) => Array.from(colormapLut(name).slice(i * 3, i * 3 + 3));
const near = (a: number[], b: number[], tol: number) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

describe('colormaps', () => {
  it('follow the reference colormaps: viridis within 5/255 of matplotlib, turbo dark-blue -> green -> dark red, jet and grey exact', () => {
    // matplotlib viridis: #440154 (0), #21918c (0.5), #fde725 (1).
    expect(near(rgb('viridis', 0), [68, 1, 84], 5)).toBe(true);
    expect(near(rgb('viridis', 128), [33, 145, 140], 5)).toBe(true);
    expect(near(rgb('viridis', 255), [253, 231, 37], 5)).toBe(true);
    // Google's turbo polynomial: dark at both ends, green in the middle, red at the top.
    const [t0, t5, t1] = [rgb('turbo', 0), rgb('turbo', 128), rgb('turbo', 255)];
    expect(Math.max(...t0)).toBeLessThan(60);
    expect(t5[1]).toBeGreaterThan(Math.max(t5[0], t5[2]));
    expect(t1[0]).toBeGreaterThan(100);
    expect(t1[0]).toBeGreaterThan(5 * Math.max(t1[1], t1[2]));
    expect(rgb('jet', 0)).toEqual([0, 0, 128]);
    expect(rgb('jet', 255)).toEqual([128, 0, 0]);
    expect(rgb('grey', 0)).toEqual([0, 0, 0]);
    expect(rgb('grey', 255)).toEqual([255, 255, 255]);
    expect(() => colormapLut('rainbow' as never)).toThrow(/unknown colormap "rainbow"; known: viridis, turbo, jet, grey/);
  });

  it('scales maps min-max or signed, keeping NaN (pixels the model never saw)', () => {
    const data = Float32Array.from([-2, 0, 1, 2, NaN]);
    expect(Array.from(scaleMap(data, 'normalised'))).toEqual([0, 0.5, 0.75, 1, NaN]);
    expect(Array.from(scaleMap(data, 'raw'))).toEqual([0, 0.5, 0.75, 1, NaN]);
    expect(Array.from(scaleMap(Float32Array.from([0, 1, 2, 4]), 'raw'))).toEqual([0.5, 0.625, 0.75, 1]);
    expect(Array.from(scaleMap(Float32Array.from([3, 3]), 'normalised'))).toEqual([0, 0]);
    const rgba = colouriseMap(Float32Array.from([0, 1, NaN]), 'grey', 0.5);
    expect(Array.from(rgba)).toEqual([0, 0, 0, 128, 255, 255, 255, 128, 0, 0, 0, 0]);
  });

  it('draws a PNG overlay on the original, only over the region the model saw', async () => {
    const original = { width: 8, height: 4, data: new Uint8Array(8 * 4 * 3).fill(100) };
    // The model saw the centre 4x4 square, scaled to a 2x2 input.
    const transform = { originalWidth: 8, originalHeight: 4, crop: { x: 2, y: 0, width: 4, height: 4 }, inputWidth: 2, inputHeight: 2 };
    const map = { width: 2, height: 2, data: Float32Array.from([0, 1, 0, 1]) };
    const png = await overlayPng(original, map, transform, { colormap: 'grey', opacity: 1 });
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([8, 4, 3]);
    const px = (x: number, y: number) => data[(y * 8 + x) * 3];
    expect(px(0, 0)).toBe(100); // outside the crop: the original
    expect(px(7, 3)).toBe(100);
    expect(px(2, 1)).toBe(0); // left column of the map: 0 -> black at opacity 1
    expect(px(5, 1)).toBe(255); // right column: 1 -> white
    const alone = await sharp(await mapPng(map, { colormap: 'viridis' })).metadata();
    expect([alone.width, alone.height, alone.channels]).toEqual([2, 2, 4]);
  });
});
