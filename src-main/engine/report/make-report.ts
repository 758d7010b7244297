// Making a comparison report: collect the numbers from the store, analyse them, draw the images, and write
// HTML, PDF, CSV and JSON; each file is recorded in the store with what it was made from.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Store } from '../store/store.ts';
import type { ModelInfo } from '../model/classifier.ts';
import { labelsFor, type ClassLabel } from '../model/labels.ts';
import { readImageFile, planTransform } from '../image/load-image.ts';
import { overlayPng } from '../image/overlay.ts';
import { colourBarSvg } from './colour-bar.ts';
import { mapRange, type ColormapName } from '../image/colormap.ts';
import { SaliencyError } from '../types.ts';
import { collectReport, type ReportData, type ReportSelection } from './collect.ts';
import { analyse, type Analysis } from './analysis.ts';
import { agreementOf, type AgreementResult } from './agreement.ts';
import { renderHtml, type GalleryItem } from './html.ts';
import { robustnessSection } from './robustness.ts';
import { metricsCsv, pairsCsv, summaryCsv } from './tables.ts';
import { measureMaps } from './profile.ts';
import { type ConceptOptions, conceptsCsv, conceptsSection, type ConceptsSection } from './concepts.ts';
import { chromiumPrinter, type PdfPrinter } from './pdf.ts';
import sharp from 'sharp';

export const REPORT_FORMATS = ['html', 'pdf', 'csv', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportOptions {
  outDir: string;
  formats?: ReportFormat[];
  /** File name without extension (default "report"). */
  name?: string;
  /** Images drawn in the gallery (all numbers cover every image). */
  maxImages?: number;
  colormap?: ColormapName;
  labels?: ClassLabel[];
  printer?: PdfPrinter;
  /** Fewest images of a class for a per-class finding (default 5). */
  minClassImages?: number;
  /** The concept (SMER) section, made when the selected images have captions in the store; false: never. */
  concepts?: ConceptOptions | false;
}

export interface ReportResult {
  files: Partial<Record<ReportFormat | 'summary-csv' | 'pairs-csv' | 'concepts-csv', string>>;
  data: ReportData;
  analysis: Analysis;
  agreement: AgreementResult;
  concepts?: ConceptsSection;
}

const dataUri = (png: Buffer) => `data:image/png;base64,${png.toString('base64')}`;

async function gallery(store: Store, data: ReportData, max: number, colormap: ColormapName): Promise<GalleryItem[]> {
  const info = data.model.info as unknown as ModelInfo;
  const out: GalleryItem[] = [];
  for (const img of data.images.slice(0, max)) {
    let original;
    try {
      original = await readImageFile(img.path);
    } catch (e) {
      continue; // a vanished or broken file: its numbers stay in the tables
    }
    const t = planTransform(original.width, original.height, info.input.width, info.input.height, info.resize);
    const thumb = await sharp(Buffer.from(original.data), { raw: { width: original.width, height: original.height, channels: 3 } })
      .resize(256, 256, { fit: 'inside' }).png().toBuffer();
    const maps = [];
    for (const series of data.series) {
      const id = img.explanations[series.key];
      if (id === undefined) continue;
      const e = store.explanations.get(id)!;
      const values = data.metrics.filter((m) => m.explanationId === id && m.value !== null).map((m) => `${m.metric} ${m.value!.toFixed(3)}`);
      // Every map names its series: method, target class (label) and score kind.
      const method = `${e.method} (${data.labels[e.targetClass] ?? `class ${e.targetClass}`}, ${e.scoreKind})`;
      const { lo, hi } = mapRange(e.map.data);
      maps.push({
        method, uri: dataUri(await overlayPng(original, e.map, t, { maxSide: 256, colormap, opacity: 0.55 })), note: values.join(', '),
        colourBar: colourBarSvg(colormap, lo, hi, `cbar-${img.id}-${id}`),
      });
    }
    const label = (c: number | null) => (c === null ? '?' : data.labels[c] ?? `class ${c}`);
    out.push({
      imageId: img.id, relPath: img.relPath, original: dataUri(thumb), maps,
      caption: `true: ${label(img.trueClass)}; predicted: ${label(img.predictedClass)}${img.predictedProbability !== null ? ` (${img.predictedProbability.toFixed(2)})` : ''}`,
    });
  }
  return out;
}

export async function makeReport(store: Store, selection: ReportSelection, opts: ReportOptions): Promise<ReportResult> {
  const formats = opts.formats ?? ['html', 'csv', 'json'];
  for (const f of formats) if (!REPORT_FORMATS.includes(f)) throw new SaliencyError(`unknown report format "${f}" (known: ${REPORT_FORMATS.join(', ')})`, 'BAD_SETTING');
  const first = collectReport(store, selection);
  const numClasses = (first.model.info as unknown as ModelInfo).numClasses ?? 0;
  const labels = opts.labels ?? (numClasses ? labelsFor(numClasses, {}) : []);
  const data = collectReport(store, selection, labels);
  if (data.images.length === 0) throw new SaliencyError('the selection has no explained images: nothing to report', 'EMPTY_REPORT');
  const agreement = agreementOf(store, data);
  const analysis = analyse(data, agreement.perImage, { minClassImages: opts.minClassImages, measures: measureMaps(store, data) });
  const concepts = opts.concepts === false ? undefined : await conceptsSection(store, data, labels, opts.concepts);
  await mkdir(opts.outDir, { recursive: true });
  const base = path.join(opts.outDir, opts.name ?? 'report');
  const files: ReportResult['files'] = {};
  const madeFrom = {
    selection, model: { id: data.model.id, sha256: data.model.sha256 }, runs: data.runs.map((r) => r.id),
    images: data.images.length, explanations: data.explanations.length, metrics: data.metrics.length, weightSets: data.weightSets.map((w) => w.name),
    ...(concepts ? { captions: concepts.captioned, conceptSettings: concepts.settings } : {}),
  };
  let html: string | undefined;
  if (formats.includes('html') || formats.includes('pdf')) {
    html = renderHtml(data, analysis, agreement, await gallery(store, data, opts.maxImages ?? 12, opts.colormap ?? 'turbo'), concepts);
  }
  if (formats.includes('html')) { files.html = `${base}.html`; await writeFile(files.html, html!); }
  if (formats.includes('pdf')) { files.pdf = `${base}.pdf`; await (opts.printer ?? chromiumPrinter)(html!, files.pdf); }
  if (formats.includes('csv')) {
    files.csv = `${base}.metrics.csv`;
    files['summary-csv'] = `${base}.summary.csv`;
    await writeFile(files.csv, metricsCsv(data));
    await writeFile(files['summary-csv'], summaryCsv(data));
    files['pairs-csv'] = `${base}.pairs.csv`;
    await writeFile(files['pairs-csv'], pairsCsv(data));
    if (concepts?.status === 'ok') { files['concepts-csv'] = `${base}.concepts.csv`; await writeFile(files['concepts-csv'], conceptsCsv(concepts)); }
  }
  if (formats.includes('json')) {
    files.json = `${base}.json`;
    const robustness = robustnessSection(data);
    await writeFile(files.json, JSON.stringify({ ...data, analysis, agreement, ...(concepts ? { concepts } : {}), ...(robustness ? { robustness } : {}) }, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2));
  }
  store.transaction(() => {
    for (const [kind, file] of Object.entries(files)) store.reports.add({ kind, path: path.resolve(file!), madeFrom });
  });
  return { files, data, analysis, agreement, ...(concepts ? { concepts } : {}) };
}
