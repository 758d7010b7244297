// The report as one self-contained HTML file: styles inline, figures as inline SVG or data: URIs, no scripts
// and no external requests (a Content-Security-Policy meta tag forbids them), printable to PDF.
import type { ReportData } from './collect.ts';
import type { Analysis } from './analysis.ts';
import type { AgreementResult } from './agreement.ts';
import { boxPlot, esc, heatmap, lineChart, type Series } from './charts.ts';
import { type ConceptsSection, renderConceptsHtml } from './concepts.ts';
import { STATISTICS_NOTE } from './summary.ts';
import { settingsTable } from './settings-table.ts';
import { renderRobustnessHtml, robustnessSection } from './robustness.ts';

export interface GalleryItem {
  imageId: number;
  relPath: string;
  caption: string;
  original: string;
  /** colourBar: inline SVG, the colormap from the map's minimum to its maximum. */
  maps: { method: string; uri: string; note: string; colourBar: string }[];
}

const fmt = (v: number | null | undefined, digits = 3) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const pct = (v: number | null) => (v === null ? '–' : `${Math.round(100 * v)}%`);

/** Mean curve per series, resampled on 21 points of x in [0,1]. */
function meanCurves(data: ReportData, metric: string): Series[] {
  const xs = Array.from({ length: 21 }, (_, i) => i / 20);
  const out: Series[] = [];
  for (const series of data.series) {
    const curves = data.metrics.filter((m) => m.metric === metric && m.series === series.key && m.curve && m.curve.x.length > 1).map((m) => m.curve!);
    if (!curves.length) continue;
    const y = xs.map((x) => curves.reduce((s, c) => s + interp(c.x, c.y, x), 0) / curves.length);
    out.push({ name: series.label, x: xs, y });
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

const ci = (c: [number, number] | null | undefined) => (c && Number.isFinite(c[0]) ? `[${fmt(c[0])}, ${fmt(c[1])}]` : '[–]');

/** Per series and metric: mean [95% CI] and rank, one line per series (class "rows": printed without wrapping,
 *  so a PDF keeps each series on one line); then one line per series and metric against the random control. */
function summaryTable(data: ReportData): string {
  const metrics = [...new Set(data.summary.map((s) => s.metric))];
  if (!metrics.length) return '<p class="muted">No metrics stored for this selection.</p>';
  const row = (series: ReportData['series'][number], m: string) => data.summary.find((x) => x.metric === m && x.series === series.key);
  const label = (series: ReportData['series'][number]) => `${esc(series.label)}${series.isEnsemble ? ' <span class="muted">ens.</span>' : ''}`;
  // At most 3 metrics per table: a page is ~140 characters wide at the print size.
  const groups = Array.from({ length: Math.ceil(metrics.length / 3) }, (_, i) => metrics.slice(3 * i, 3 * i + 3));
  const tables = groups.map((ms) => {
    const head = `<tr><th>series</th>${ms.map((m) => {
      const s = data.summary.find((x) => x.metric === m)!;
      return `<th>${esc(m)} <span class="muted">${s.higherIsBetter ? '↑' : '↓'}</span></th>`;
    }).join('')}<th>n</th></tr>`;
    const body = data.series.map((series) => {
      const ns = [...new Set(ms.map((m) => row(series, m)?.n).filter((n) => n !== undefined))];
      return `<tr><td>${label(series)}</td>${ms.map((m) => {
        const s = row(series, m);
        return s ? `<td>${fmt(s.mean)} <span class="muted">${ci(s.ci95)} #${s.rank}</span></td>` : '<td>–</td>';
      }).join('')}<td>${ns.join('/') || '–'}</td></tr>`;
    }).join('');
    return `<table class="num rows">${head}${body}</table>`;
  }).join('');
  const control = data.series.flatMap((series) => metrics.map((m) => {
    const s = row(series, m);
    const d = s?.vsControl;
    if (!s || s.controlMean === null || !d) return '';
    const verdict = d.better === true ? '✓ better than chance' : d.better === false ? '✗ worse than chance' : 'no clear difference';
    return `<tr><td>${label(series)}</td><td>${esc(m)}</td><td>${fmt(s.mean)}</td><td>${fmt(s.controlMean)}</td><td>${fmt(d.diff)} <span class="muted">${ci(d.ci95)}</span></td><td>${verdict}</td><td>${pct(s.beatsControl)} <span class="muted">${ci(s.beatsControlCi95)}</span></td></tr>`;
  })).join('');
  return `${tables}<p class="muted">Mean over images with its 95% bootstrap interval and its rank (#) among the ${data.series.some((x) => x.isEnsemble) ? 'single methods or among the ensembles (ranked apart)' : 'single methods'}; n = images. Ranks order the means and are not claims: see “Which method wins”.</p>`
    + (control ? `<h3>Against the random control</h3><table class="num rows"><tr><th>series</th><th>metric</th><th>map</th><th>random</th><th>map − random</th><th>verdict</th><th>beats it on</th></tr>${control}</table><p class="muted">“random” is the same metric on seeded random maps of the same image (the mean over the metric’s controlSamples maps); map − random is the mean paired difference with its 95% interval (✓ better than chance: the interval excludes zero on the metric’s good side; signs as measured, so for metrics where lower is better a negative difference is the good side); “beats it on” is the share of images where the map beats its control, with its interval.</p>` : '');
}

/** "Which method wins": only the paired comparisons whose interval excludes zero (Holm), per metric; single
 * methods and ensembles separately, then each ensemble against the best single method. */
function whichWins(data: ReportData): string {
  const items: string[] = [];
  for (const metric of [...new Set(data.summary.map((s) => s.metric))]) {
    const pairs = data.pairs.filter((p) => p.metric === metric);
    const singles = data.summary.filter((s) => s.metric === metric && s.kind === 'single');
    const line = (list: typeof pairs) => list.map((p) => (p.winner ? esc(p.verdict) : `${esc(p.aLabel)} vs ${esc(p.bLabel)}: ${esc(p.verdict)}`)).join('; ');
    const groups: [string, typeof pairs][] = [
      ['single methods', pairs.filter((p) => p.kind === 'single')],
      ['ensembles', pairs.filter((p) => p.kind === 'ensemble')],
      [`each ensemble vs the best single method (${esc(singles.find((s) => s.rank === 1)?.seriesLabel ?? '–')})`, pairs.filter((p) => p.kind === 'ensemble-vs-best-single')],
    ];
    for (const [what, list] of groups) if (list.length) items.push(`<li><b>${esc(metric)}</b>, ${what}: ${line(list)}.</li>`);
    if (!pairs.length && data.summary.some((s) => s.metric === metric)) {
      const n = data.summary.filter((s) => s.metric === metric).length;
      items.push(`<li><b>${esc(metric)}</b>: ${n < 2 ? 'only one series: nothing to compare' : 'not a comparison of methods (agreement between two maps)'}.</li>`);
    }
  }
  return items.length ? `<ul>${items.join('')}</ul>` : '';
}

/** Measured pros and cons per series (cost, resolution, stability, faithfulness, annotations, sanity). */
function profilesTable(analysis: Analysis): string {
  if (!analysis.profiles.length) return '';
  const aspects = ['cost', 'resolution', 'stability', 'faithfulness', 'annotations', 'sanity'] as const;
  const rows = analysis.profiles.map((p) => `<tr><td>${esc(p.label)}</td>${aspects.map((a) =>
    `<td>${p.statements.filter((st) => st.aspect === a).map((st) => esc(st.text)).join('<br>') || '–'}</td>`).join('')}</tr>`).join('');
  return `<table><tr><th>series</th>${aspects.map((a) => `<th>${a}</th>`).join('')}</tr>${rows}</table>`;
}

export function renderHtml(data: ReportData, analysis: Analysis, agreement: AgreementResult, gallery: GalleryItem[], concepts?: ConceptsSection): string {
  const metricsWithCurves = [...new Set(data.metrics.filter((m) => m.curve).map((m) => m.metric))];
  const curveCharts = metricsWithCurves.map((m) => {
    const series = meanCurves(data, m);
    return series.length ? `<figure>${lineChart(series, `${m}: mean curve`, 'fraction of pixels perturbed', 'target score')}</figure>` : '';
  }).join('');
  const distCharts = [...new Set(data.summary.map((s) => s.metric))].map((m) => {
    const groups = data.series.map((x) => ({ name: x.label, values: data.metrics.filter((r) => r.metric === m && r.series === x.key && r.value !== null).map((r) => r.value!) })).filter((g) => g.values.length);
    return `<figure>${boxPlot(groups, `${m}: distribution over images`, m)}</figure>`;
  }).join('');
  const findings = analysis.perMethod.map((f) => `<div class="card"><h3>${esc(f.label)}</h3>` +
    `<p class="good">Strengths</p><ul>${f.strengths.map((s) => `<li>${esc(s)}</li>`).join('') || '<li class="muted">none found</li>'}</ul>` +
    `<p class="bad">Weaknesses</p><ul>${f.weaknesses.map((s) => `<li>${esc(s)}</li>`).join('') || '<li class="muted">none found</li>'}</ul></div>`).join('');
  const r = data.ratings;
  const ratingRows = r.perMethod.filter((p) => p.likertN || p.wins || p.losses).map((p) =>
    `<tr><td>${esc(p.seriesLabel)}</td><td>${fmt(p.likertMean, 2)} <span class="muted">(n=${p.likertN})</span></td><td>${fmt(p.bradleyTerry, 3)}</td><td>${p.wins}</td><td>${p.losses}</td></tr>`).join('');
  const ratings = r.likert + r.pairwise === 0 ? '<p class="muted">No ratings for this selection.</p>'
    : `<table class="num"><tr><th>method</th><th>Likert mean (1-5)</th><th>Bradley-Terry strength</th><th>pairwise wins</th><th>losses</th></tr>${ratingRows}</table>` +
      `<p>Raters: ${r.raters.map(esc).join(', ')}. ${r.likert} Likert ratings, ${r.pairwise} pairwise choices. Inter-rater agreement (Krippendorff's alpha over ${r.alpha.pairable} explanations rated by two or more raters): interval ${fmt(r.alpha.interval, 3)}, ordinal ${fmt(r.alpha.ordinal, 3)}.</p>`;
  const weights = data.weightSets.length ? `<table><tr><th>weight set</th><th>source</th><th>weights</th><th>provenance</th></tr>${data.weightSets.map((w) =>
    `<tr><td>${esc(w.name)}</td><td>${esc(w.source)}</td><td>${Object.entries(w.weights).map(([k, v]) => `${esc(k)} ${v.toFixed(3)}`).join('<br>')}</td><td>${settingsTable(w.provenance)}</td></tr>`).join('')}</table>`
    : '<p class="muted">No ensemble weight sets saved.</p>';
  const runs = `<table><tr><th>run</th><th>method</th><th>seed</th><th>app</th><th>settings</th></tr>${data.runs.map((run) =>
    `<tr><td>${run.id}</td><td>${esc(run.method)}</td><td>${run.seed}</td><td>${esc(run.appVersion)}</td><td>${settingsTable(run.settings as Record<string, unknown>)}</td></tr>`).join('')}</table>`;
  const galleryHtml = gallery.map((g) => `<div class="row"><figure><img src="${g.original}" alt=""><figcaption>${esc(g.relPath)}<br>${esc(g.caption)}</figcaption></figure>` +
    g.maps.map((m) => `<figure><img src="${m.uri}" alt="">${m.colourBar}<figcaption><b>${esc(m.method)}</b><br>${esc(m.note)}</figcaption></figure>`).join('') + '</div>').join('');
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
table.kv{margin:0;font-size:10px}table.kv th{font-weight:normal;color:#555}.cbar{display:block}
.row img{width:150px;height:auto;display:block}.row figcaption{font-size:10px;max-width:150px;word-break:break-all}code{font-size:10px;word-break:break-all}
table.rows td,table.rows th{white-space:nowrap}
@media print{body{margin:0;max-width:none}table.rows{font-size:9px}table.rows td,table.rows th{padding:2px 4px}}
</style></head><body>
<h1>${esc(data.title)}</h1>
<p>Made ${esc(data.createdAt)} by Saliency Studio ${esc(data.appVersion)} (Node ${esc(data.versions.node)}, ONNX Runtime ${esc(data.versions.onnxruntime)}).
${data.images.length} images, ${data.explanations.length} explanations, ${data.methods.length} methods and ensembles: ${data.methods.map(esc).join(', ')}.</p>
<h2>Model</h2>
<p><b>${esc(model.name)}</b> <span class="muted">sha256 ${esc(model.sha256)}</span><br>
input ${info.input ? `${info.input.layout} ${info.input.width}x${info.input.height}` : '?'}; preset ${esc(model.preset ?? '?')}${info.presetReason ? ` (${esc(info.presetReason)})` : ''}; feature block ${esc(model.featureLayer ?? 'none')}<br>
<span class="muted">${esc(info.head?.description ?? info.head?.reason ?? '')}</span></p>
<h2>Evaluation protocol</h2><p>Metrics under protocol <b>${esc(data.protocol)}</b> (docs/protocol.md): faithfulness curves follow the target class's probability, with a random-map control; maps are compared per series (method, target class, score kind), never merged.</p>${data.refusals.map((r) => `<p class="bad">Not compared: ${esc(r)}</p>`).join('')}
<h2>Which method wins</h2>${whichWins(data)}${summaryTable(data)}<p class="muted">${esc(STATISTICS_NOTE)}</p>
<h2>Curves and distributions</h2><div class="charts">${curveCharts}${distCharts}</div>
<h2>Strengths and weaknesses of each method</h2><p class="muted">Computed from the numbers above, each a tested claim: against the random control and other series only where the paired 95% interval excludes zero (Holm); “best/worst on many images” only where an exact binomial test against chance rejects at 0.05; per-class findings only for classes with at least ${analysis.minClassImages} images.</p>
<div class="cards">${findings}</div>${analysis.notes.map((n) => `<p class="muted">${esc(n)}</p>`).join('')}
<h2>Measured pros and cons</h2><p class="muted">Each with its mean, 95% bootstrap interval and n over this selection's images. Seconds are wall-clock on the machine that made the maps.</p>${profilesTable(analysis)}
${analysis.conventions.map((c) => `<p class="muted">${esc(c)}</p>`).join('')}
${renderRobustnessHtml(robustnessSection(data))}
<h2>Agreement between methods</h2><div class="charts"><figure>${heatmap(agreement.methods, agreement.matrix, 'mean Spearman rank correlation')}</figure></div>
${analysis.disagreements.length ? `<p>Images where the single methods disagree most: ${analysis.disagreements.map((d) => `${esc(d.relPath)} (${fmt(d.meanAgreement, 2)})`).join(', ')}.</p>` : ''}
<h2>Human ratings</h2>${ratings}
<h2>Ensemble weights and their provenance</h2>${weights}
<h2>Images</h2><p data-shown="${gallery.length}">${gallery.length} of ${data.images.length} images shown${gallery.length < data.images.length ? ' (the first in library order; every number above covers all of them)' : ''}. Each map is labelled with its method, class explained and score kind; its colour bar runs from the map's minimum to its maximum.</p>${galleryHtml || '<p class="muted">No images.</p>'}
${concepts ? renderConceptsHtml(concepts) : ''}
<h2>Reproducibility</h2><p>Selection:</p>${settingsTable(data.selection as unknown as Record<string, unknown>)}${runs}
</body></html>`;
}
