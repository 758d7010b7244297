// The report as one self-contained HTML file: styles inline, figures as inline SVG or data: URIs, no scripts
// and no external requests (a Content-Security-Policy meta tag forbids them), printable to PDF.
import type { ReportData } from './collect.ts';
import type { Analysis } from './analysis.ts';
import type { AgreementResult } from './agreement.ts';
import { boxPlot, esc, heatmap, lineChart, type Series } from './charts.ts';
import { type ConceptsSection, renderConceptsHtml } from './concepts.ts';

export interface GalleryItem {
  imageId: number;
  relPath: string;
  caption: string;
  original: string;
  maps: { method: string; uri: string; note: string }[];
}

const fmt = (v: number | null | undefined, digits = 3) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const pct = (v: number | null) => (v === null ? '–' : `${Math.round(100 * v)}%`);

/** Mean curve per method, resampled on 21 points of x in [0,1]. */
function meanCurves(data: ReportData, metric: string): Series[] {
  const xs = Array.from({ length: 21 }, (_, i) => i / 20);
  const out: Series[] = [];
  for (const method of data.methods) {
    const curves = data.metrics.filter((m) => m.metric === metric && m.method === method && m.curve && m.curve.x.length > 1).map((m) => m.curve!);
    if (!curves.length) continue;
    const y = xs.map((x) => curves.reduce((s, c) => s + interp(c.x, c.y, x), 0) / curves.length);
    out.push({ name: method, x: xs, y });
  }
  return out;
}

function interp(xs: number[], ys: number[], x: number): number {
  if (x <= xs[0]) return ys[0];
  for (let i = 1; i < xs.length; i++) {
    if (x <= xs[i]) {
      const t = (x - xs[i - 1]) / (xs[i] - xs[i - 1] || 1);
      return ys[i - 1] + t * (ys[i] - ys[i - 1]);
    }
  }
  return ys[ys.length - 1];
}

function summaryTable(data: ReportData): string {
  const metrics = [...new Set(data.summary.map((s) => s.metric))];
  if (!metrics.length) return '<p class="muted">No metrics stored for this selection.</p>';
  const head = `<tr><th>method</th>${metrics.map((m) => {
    const s = data.summary.find((x) => x.metric === m)!;
    return `<th>${esc(m)} <span class="muted">${s.higherIsBetter ? '↑' : '↓'}</span></th>`;
  }).join('')}</tr>`;
  const best = new Map(metrics.map((m) => {
    const rows = data.summary.filter((s) => s.metric === m);
    const b = rows.reduce((a, r) => ((r.higherIsBetter ? r.mean > a.mean : r.mean < a.mean) ? r : a), rows[0]);
    return [m, b.method];
  }));
  const body = data.methods.map((method) => `<tr><td>${esc(method)}</td>${metrics.map((m) => {
    const s = data.summary.find((x) => x.metric === m && x.method === method);
    if (!s) return '<td>–</td>';
    const ctl = s.controlMean !== null ? `<div class="muted">random ${fmt(s.controlMean)}; beats it on ${pct(s.beatsControl)}</div>` : '';
    return `<td class="${best.get(m) === method ? 'best' : ''}">${fmt(s.mean)} ± ${fmt(s.std)} <span class="muted">(n=${s.n})</span>${ctl}</td>`;
  }).join('')}</tr>`).join('');
  return `<table class="num">${head}${body}</table><p class="muted">Mean ± standard deviation over images; the best mean per metric is highlighted; “random” is the same metric on seeded random maps of the same image (the mean over the metric’s controlSamples maps).</p>`;
}

function winnerSentence(data: ReportData): string {
  const lines: string[] = [];
  for (const metric of [...new Set(data.summary.map((s) => s.metric))]) {
    const rows = data.summary.filter((s) => s.metric === metric).sort((a, b) => (a.higherIsBetter ? b.mean - a.mean : a.mean - b.mean));
    if (rows.length < 2) continue;
    const [w, second] = rows;
    lines.push(`<li><b>${esc(metric)}</b>: ${esc(w.method)} wins (${fmt(w.mean)}), ahead of ${esc(second.method)} (${fmt(second.mean)}) by ${fmt(Math.abs(w.mean - second.mean))}.</li>`);
  }
  return lines.length ? `<ul>${lines.join('')}</ul>` : '';
}

export function renderHtml(data: ReportData, analysis: Analysis, agreement: AgreementResult, gallery: GalleryItem[], concepts?: ConceptsSection): string {
  const metricsWithCurves = [...new Set(data.metrics.filter((m) => m.curve).map((m) => m.metric))];
  const curveCharts = metricsWithCurves.map((m) => {
    const series = meanCurves(data, m);
    return series.length ? `<figure>${lineChart(series, `${m}: mean curve`, 'fraction of pixels perturbed', 'target score')}</figure>` : '';
  }).join('');
  const distCharts = [...new Set(data.summary.map((s) => s.metric))].map((m) => {
    const groups = data.methods.map((method) => ({ name: method, values: data.metrics.filter((r) => r.metric === m && r.method === method && r.value !== null).map((r) => r.value!) })).filter((g) => g.values.length);
    return `<figure>${boxPlot(groups, `${m}: distribution over images`, m)}</figure>`;
  }).join('');
  const findings = analysis.perMethod.map((f) => `<div class="card"><h3>${esc(f.method)}</h3>` +
    `<p class="good">Strengths</p><ul>${f.strengths.map((s) => `<li>${esc(s)}</li>`).join('') || '<li class="muted">none found</li>'}</ul>` +
    `<p class="bad">Weaknesses</p><ul>${f.weaknesses.map((s) => `<li>${esc(s)}</li>`).join('') || '<li class="muted">none found</li>'}</ul></div>`).join('');
  const r = data.ratings;
  const ratingRows = r.perMethod.filter((p) => p.likertN || p.wins || p.losses).map((p) =>
    `<tr><td>${esc(p.seriesLabel)}</td><td>${fmt(p.likertMean, 2)} <span class="muted">(n=${p.likertN})</span></td><td>${fmt(p.bradleyTerry, 3)}</td><td>${p.wins}</td><td>${p.losses}</td></tr>`).join('');
  const ratings = r.likert + r.pairwise === 0 ? '<p class="muted">No ratings for this selection.</p>'
    : `<table class="num"><tr><th>method</th><th>Likert mean (1-5)</th><th>Bradley-Terry strength</th><th>pairwise wins</th><th>losses</th></tr>${ratingRows}</table>` +
      `<p>Raters: ${r.raters.map(esc).join(', ')}. ${r.likert} Likert ratings, ${r.pairwise} pairwise choices. Inter-rater agreement (Krippendorff's alpha over ${r.alpha.pairable} explanations rated by two or more raters): interval ${fmt(r.alpha.interval, 3)}, ordinal ${fmt(r.alpha.ordinal, 3)}.</p>`;
  const weights = data.weightSets.length ? `<table><tr><th>weight set</th><th>source</th><th>weights</th><th>provenance</th></tr>${data.weightSets.map((w) =>
    `<tr><td>${esc(w.name)}</td><td>${esc(w.source)}</td><td>${Object.entries(w.weights).map(([k, v]) => `${esc(k)} ${v.toFixed(3)}`).join('<br>')}</td><td><code>${esc(JSON.stringify(w.provenance))}</code></td></tr>`).join('')}</table>`
    : '<p class="muted">No ensemble weight sets saved.</p>';
  const runs = `<table><tr><th>run</th><th>method</th><th>seed</th><th>app</th><th>settings</th></tr>${data.runs.map((run) =>
    `<tr><td>${run.id}</td><td>${esc(run.method)}</td><td>${run.seed}</td><td>${esc(run.appVersion)}</td><td><code>${esc(JSON.stringify(run.settings))}</code></td></tr>`).join('')}</table>`;
  const galleryHtml = gallery.map((g) => `<div class="row"><figure><img src="${g.original}" alt=""><figcaption>${esc(g.relPath)}<br>${esc(g.caption)}</figcaption></figure>` +
    g.maps.map((m) => `<figure><img src="${m.uri}" alt=""><figcaption><b>${esc(m.method)}</b><br>${esc(m.note)}</figcaption></figure>`).join('') + '</div>').join('');
  const model = data.model;
  const info = model.info as { input?: { width: number; height: number; layout: string }; head?: { description?: string; reason?: string }; presetReason?: string };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>${esc(data.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;border-bottom:1px solid #ccc;padding-bottom:3px;margin-top:28px}h3{font-size:14px;margin:4px 0}
table{border-collapse:collapse;margin:8px 0;font-size:12px}td,th{border:1px solid #ddd;padding:3px 6px;vertical-align:top;text-align:left}
table.num td{text-align:right}table.num td:first-child{text-align:left}.best{background:#e3f2e1;font-weight:bold}
.muted{color:#777;font-size:11px;font-weight:normal}.good{color:#2e7d32;margin:4px 0}.bad{color:#c62828;margin:4px 0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:10px}.card{border:1px solid #ddd;border-radius:6px;padding:8px;font-size:12px;break-inside:avoid}
.charts{display:flex;flex-wrap:wrap;gap:8px}figure{margin:0;break-inside:avoid}.row{display:flex;flex-wrap:wrap;gap:6px;margin:8px 0;break-inside:avoid}
.row img{width:150px;height:auto;display:block}.row figcaption{font-size:10px;max-width:150px;word-break:break-all}code{font-size:10px;word-break:break-all}
</style></head><body>
<h1>${esc(data.title)}</h1>
<p>Made ${esc(data.createdAt)} by Saliency Studio ${esc(data.appVersion)} (Node ${esc(data.versions.node)}, ONNX Runtime ${esc(data.versions.onnxruntime)}).
${data.images.length} images, ${data.explanations.length} explanations, ${data.methods.length} methods and ensembles: ${data.methods.map(esc).join(', ')}.</p>
<h2>Model</h2>
<p><b>${esc(model.name)}</b> <span class="muted">sha256 ${esc(model.sha256)}</span><br>
input ${info.input ? `${info.input.layout} ${info.input.width}x${info.input.height}` : '?'}; preset ${esc(model.preset ?? '?')}${info.presetReason ? ` (${esc(info.presetReason)})` : ''}; feature block ${esc(model.featureLayer ?? 'none')}<br>
<span class="muted">${esc(info.head?.description ?? info.head?.reason ?? '')}</span></p>
<h2>Evaluation protocol</h2><p>Metrics under protocol <b>${esc(data.protocol)}</b> (docs/protocol.md): faithfulness curves follow the target class's probability, with a random-map control; maps are compared per series (method, target class, score kind), never merged.</p>${data.refusals.map((r) => `<p class="bad">Not compared: ${esc(r)}</p>`).join('')}
<h2>Which method wins</h2>${winnerSentence(data)}${summaryTable(data)}
<h2>Curves and distributions</h2><div class="charts">${curveCharts}${distCharts}</div>
<h2>Strengths and weaknesses of each method</h2><p class="muted">Computed from the numbers above: ranks among methods per image and per class, random-map controls, complexity, sensitivity and randomisation checks.</p>
<div class="cards">${findings}</div>${analysis.notes.map((n) => `<p class="muted">${esc(n)}</p>`).join('')}
<h2>Agreement between methods</h2><div class="charts"><figure>${heatmap(agreement.methods, agreement.matrix, 'mean Spearman rank correlation')}</figure></div>
${analysis.disagreements.length ? `<p>Images where the single methods disagree most: ${analysis.disagreements.map((d) => `${esc(d.relPath)} (${fmt(d.meanAgreement, 2)})`).join(', ')}.</p>` : ''}
<h2>Human ratings</h2>${ratings}
<h2>Ensemble weights and their provenance</h2>${weights}
<h2>Images</h2>${galleryHtml || '<p class="muted">No images.</p>'}
${concepts ? renderConceptsHtml(concepts) : ''}
<h2>Reproducibility</h2><p>Selection: <code>${esc(JSON.stringify(data.selection))}</code></p>${runs}
</body></html>`;
}
