// Charts as inline SVG strings (no scripts, no external requests): line charts for metric curves, box plots
// for score distributions, a heatmap for the agreement matrix.

export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const num = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toFixed(2));

interface Frame { width: number; height: number; left: number; right: number; top: number; bottom: number }
const frame = (width = 420, height = 260): Frame => ({ width, height, left: 48, right: 12, top: 28, bottom: 40 });

function axes(f: Frame, title: string, xLabel: string, yLabel: string, y0: number, y1: number, xTicks?: { at: number; label: string }[]): string {
  const ih = f.height - f.top - f.bottom;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => {
    const y = f.top + ih * (1 - t);
    return `<line x1="${f.left}" x2="${f.width - f.right}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${f.left - 4}" y="${y + 3}" text-anchor="end">${num(y0 + t * (y1 - y0))}</text>`;
  }).join('');
  const xt = (xTicks ?? []).map((t) => `<text x="${t.at}" y="${f.height - f.bottom + 14}" text-anchor="middle">${esc(t.label)}</text>`).join('');
  return `<text x="${f.width / 2}" y="16" text-anchor="middle" font-weight="bold">${esc(title)}</text>${ticks}${xt}` +
    `<text x="${f.width / 2}" y="${f.height - 6}" text-anchor="middle">${esc(xLabel)}</text>` +
    `<text x="12" y="${f.top + ih / 2}" text-anchor="middle" transform="rotate(-90 12 ${f.top + ih / 2})">${esc(yLabel)}</text>` +
    `<line x1="${f.left}" x2="${f.left}" y1="${f.top}" y2="${f.height - f.bottom}" stroke="#888"/>` +
    `<line x1="${f.left}" x2="${f.width - f.right}" y1="${f.height - f.bottom}" y2="${f.height - f.bottom}" stroke="#888"/>`;
}

const svg = (f: Frame, body: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}" font-family="sans-serif" font-size="10">${body}</svg>`;

function range(values: number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return [0, 1];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (lo === hi) { lo -= 0.5; hi += 0.5; }
  return [lo, hi];
}

function legend(f: Frame, names: string[]): string {
  return names.map((n, i) => `<rect x="${f.left + 8}" y="${f.top + 4 + i * 12}" width="9" height="9" fill="${PALETTE[i % PALETTE.length]}"/>` +
    `<text x="${f.left + 21}" y="${f.top + 12 + i * 12}">${esc(n)}</text>`).join('');
}

export interface Series { name: string; x: number[]; y: number[] }

export function lineChart(series: Series[], title: string, xLabel: string, yLabel: string): string {
  const f = frame();
  const [y0, y1] = range(series.flatMap((s) => s.y));
  const [x0, x1] = range(series.flatMap((s) => s.x));
  const iw = f.width - f.left - f.right;
  const ih = f.height - f.top - f.bottom;
  const px = (x: number) => f.left + ((x - x0) / (x1 - x0)) * iw;
  const py = (y: number) => f.top + (1 - (y - y0) / (y1 - y0)) * ih;
  const lines = series.map((s, i) => `<polyline fill="none" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="1.6" points="${s.x.map((x, k) => `${px(x).toFixed(1)},${py(s.y[k]).toFixed(1)}`).join(' ')}"/>`).join('');
  const xt = [0, 0.5, 1].map((t) => ({ at: px(x0 + t * (x1 - x0)), label: num(x0 + t * (x1 - x0)) }));
  return svg(f, axes(f, title, xLabel, yLabel, y0, y1, xt) + lines + legend(f, series.map((s) => s.name)));
}

export function boxPlot(groups: { name: string; values: number[] }[], title: string, yLabel: string): string {
  const f = frame(Math.max(300, 60 + groups.length * 56));
  const [y0, y1] = range(groups.flatMap((g) => g.values));
  const iw = f.width - f.left - f.right;
  const ih = f.height - f.top - f.bottom;
  const py = (y: number) => f.top + (1 - (y - y0) / (y1 - y0)) * ih;
  const w = iw / Math.max(groups.length, 1);
  const q = (s: number[], p: number) => {
    const pos = (s.length - 1) * p;
    const lo = Math.floor(pos);
    return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo);
  };
  const boxes = groups.map((g, i) => {
    const s = g.values.filter(Number.isFinite).sort((a, b) => a - b);
    if (!s.length) return '';
    const cx = f.left + w * (i + 0.5);
    const c = PALETTE[i % PALETTE.length];
    const [lo, q1, med, q3, hi] = [s[0], q(s, 0.25), q(s, 0.5), q(s, 0.75), s[s.length - 1]];
    const dots = s.map((v, k) => `<circle cx="${(cx + ((k % 5) - 2) * 3).toFixed(1)}" cy="${py(v).toFixed(1)}" r="1.6" fill="${c}" opacity="0.55"/>`).join('');
    return `<line x1="${cx}" x2="${cx}" y1="${py(lo)}" y2="${py(hi)}" stroke="${c}"/>` +
      `<rect x="${cx - w * 0.3}" y="${py(q3)}" width="${w * 0.6}" height="${Math.max(1, py(q1) - py(q3))}" fill="${c}" fill-opacity="0.25" stroke="${c}"/>` +
      `<line x1="${cx - w * 0.3}" x2="${cx + w * 0.3}" y1="${py(med)}" y2="${py(med)}" stroke="${c}" stroke-width="2"/>${dots}`;
  }).join('');
  const xt = groups.map((g, i) => ({ at: f.left + w * (i + 0.5), label: g.name.replace('ensemble:', 'ens:') }));
  return svg(f, axes(f, title, '', yLabel, y0, y1, xt) + boxes);
}

export function heatmap(labels: string[], matrix: number[][], title: string): string {
  const cell = 34;
  const left = 110;
  const top = 34;
  const width = left + cell * labels.length + 10;
  const height = top + cell * labels.length + 90;
  const colour = (v: number) => {
    if (!Number.isFinite(v)) return '#eee';
    const t = Math.max(-1, Math.min(1, v));
    const [r, g, b] = t >= 0 ? [255 - 180 * t, 255 - 110 * t, 255 - 40 * t] : [255, 255 + 150 * t, 255 + 150 * t];
    return `rgb(${r | 0},${g | 0},${b | 0})`;
  };
  const cells = matrix.map((row, i) => row.map((v, j) =>
    `<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="${colour(v)}" stroke="#fff"/>` +
    `<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 3}" text-anchor="middle">${Number.isFinite(v) ? v.toFixed(2) : '–'}</text>`).join('')).join('');
  const rows = labels.map((l, i) => `<text x="${left - 4}" y="${top + i * cell + cell / 2 + 3}" text-anchor="end">${esc(l)}</text>`).join('');
  const cols = labels.map((l, j) => `<text x="${left + j * cell + cell / 2}" y="${top + labels.length * cell + 8}" text-anchor="end" transform="rotate(-50 ${left + j * cell + cell / 2} ${top + labels.length * cell + 8})">${esc(l)}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="10">` +
    `<text x="${width / 2}" y="16" text-anchor="middle" font-weight="bold">${esc(title)}</text>${cells}${rows}${cols}</svg>`;
}
