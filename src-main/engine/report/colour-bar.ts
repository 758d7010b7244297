// A report map's colour bar: the colormap as an inline SVG gradient from the map's minimum to its maximum
// (the overlay is drawn 'normalised', min -> 0, max -> 1, colormap.ts scaleMap), with the values at both ends.
import { colormapLut, mapRange, type ColormapName } from '../image/colormap.ts';
import { esc } from './charts.ts';

const STOPS = 9;

const num = (v: number) => (!Number.isFinite(v) ? '–' : Math.abs(v) >= 1e3 || (v !== 0 && Math.abs(v) < 1e-2) ? v.toExponential(1) : v.toPrecision(3));

/** 150 px wide SVG bar: the colormap low -> high, labelled with the map's min and max values. */
export function colourBarSvg(colormap: ColormapName, lo: number, hi: number, id: string): string {
  const lut = colormapLut(colormap);
  const stops = Array.from({ length: STOPS }, (_, k) => {
    const i = Math.round((k / (STOPS - 1)) * 255);
    return `<stop offset="${(k / (STOPS - 1)).toFixed(3)}" stop-color="rgb(${lut[i * 3]},${lut[i * 3 + 1]},${lut[i * 3 + 2]})"/>`;
  }).join('');
  return `<svg class="cbar" width="150" height="22" viewBox="0 0 150 22" role="img" aria-label="colour bar ${esc(num(lo))} to ${esc(num(hi))}">` +
    `<defs><linearGradient id="${esc(id)}">${stops}</linearGradient></defs><rect x="0" y="0" width="150" height="8" fill="url(#${esc(id)})"/>` +
    `<text x="0" y="20" font-size="9">${esc(num(lo))}</text><text x="150" y="20" font-size="9" text-anchor="end">${esc(num(hi))}</text></svg>`;
}
