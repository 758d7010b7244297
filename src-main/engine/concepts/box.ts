// Bounding boxes for concepts: strict parsing of "x_min, y_min, x_max, y_max" answers and validation
// against the image they are about. Coordinates are pixels of the original image; x_max/y_max are exclusive.
import { SaliencyError } from '../types.ts';

export interface Box {
  xMin: number;
  yMin: number;
  xMax: number;
  yMax: number;
}

const FOUR_INTEGERS = /^\s*[[(]?\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(-?\d+)\s*[\])]?\s*$/;

/** Exactly four integers separated by commas, optionally in one pair of brackets; nothing else. */
export function parseBox(text: string): Box {
  const m = FOUR_INTEGERS.exec(text);
  if (!m || /^\s*\[.*\)\s*$|^\s*\(.*\]\s*$/.test(text)) {
    const shown = text.length > 120 ? `${text.slice(0, 120)}...` : text;
    throw new SaliencyError(`expected a box as four integers "x_min, y_min, x_max, y_max", got ${JSON.stringify(shown)}`, 'BOX_MALFORMED');
  }
  const [xMin, yMin, xMax, yMax] = m.slice(1, 5).map(Number);
  return { xMin, yMin, xMax, yMax };
}

/** Throws BOX_OUTSIDE_IMAGE unless 0 <= min < max <= size on both axes. */
export function validateBox(box: Box, width: number, height: number, what = 'box'): Box {
  const { xMin, yMin, xMax, yMax } = box;
  const ints = [xMin, yMin, xMax, yMax].every(Number.isInteger);
  if (!ints) throw new SaliencyError(`${what} ${formatBox(box)}: coordinates must be integers`, 'BOX_MALFORMED');
  if (xMin >= xMax || yMin >= yMax) {
    throw new SaliencyError(`${what} ${formatBox(box)} is empty or inverted (need x_min < x_max and y_min < y_max)`, 'BOX_MALFORMED');
  }
  if (xMin < 0 || yMin < 0 || xMax > width || yMax > height) {
    throw new SaliencyError(`${what} ${formatBox(box)} lies outside the ${width}x${height} image`, 'BOX_OUTSIDE_IMAGE');
  }
  return box;
}

export function formatBox(b: Box): string {
  return `[${b.xMin}, ${b.yMin}, ${b.xMax}, ${b.yMax}]`;
}
