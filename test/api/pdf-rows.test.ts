// The exported PDF's tables keep one row per line (issue 15, "PDF rows not wrapping"): a real study (SqueezeNet,
// 3 images, 3 methods + the mean ensemble, 4 metrics with controls) exported through the API as a PDF (Chromium's
// print engine) and read back with pdftotext -layout: every series' summary row, with each of its metrics'
// means, is one line; so is every series x metric row of the random-control table.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { HAS_DATA } from '../helpers/data.ts';
import { withRealLibrary } from './real-library.ts';
import { HAS_CHROMIUM } from '../e2e/helpers.ts';

const FILES = ['n01440764_tench.JPEG', 'n01443537_goldfish.JPEG', 'n01491361_tiger_shark.JPEG'];
let HAS_PDFTOTEXT = true;
try { execFileSync('pdftotext', ['-v'], { stdio: 'ignore' }); } catch { HAS_PDFTOTEXT = false; console.warn('[skip] no pdftotext (poppler-utils): the PDF layout test is skipped'); }

describe.skipIf(!HAS_DATA || !HAS_CHROMIUM || !HAS_PDFTOTEXT)('PDF report rows (real SqueezeNet, Chromium print)', () => {
  it('prints each series\' summary row and each control row on one line', async () => {
    await withRealLibrary(FILES, async (api, libraryId) => {
      const library = { id: libraryId };
      const metrics = ['deletion', 'insertion', 'aopc-morf', 'aopc-lerf'];
      await api.call('study.start', {
        libraryId: library.id, methods: ['gradcam', 'gradcampp', 'occlusion'], ensembles: ['mean'], metrics,
        methodSettings: { occlusion: { window: 112, stride: 112 } },
        metricSettings: Object.fromEntries(metrics.map((m) => [m, { steps: 8, controlSamples: 1 }])),
      });
      await api.jobs.idle();
      const summary = await api.call('study.summary', { libraryId: library.id });
      const exported = await api.call('reports.export', { libraryId: library.id, format: 'pdf' });
      const lines = execFileSync('pdftotext', ['-layout', exported.path, '-'], { encoding: 'utf8' }).split('\n');
      const labels = [...new Set(summary.rows.map((r) => r.seriesLabel))];
      expect(labels.length).toBe(4);
      // Summary tables (3 metrics each, in the report's metric order): a line with the series label and the means of
      // the table's metrics.
      const order = [...metrics].sort();
      for (const group of [order.slice(0, 3), order.slice(3)]) {
        for (const label of labels) {
          const means = group.map((m) => summary.rows.find((r) => r.seriesLabel === label && r.metric === m)!.mean.toFixed(3));
          const line = lines.find((l) => l.trimStart().startsWith(label) && means.every((v) => l.includes(v)));
          if (!line) console.log(lines.filter((l) => l.includes(label.split(' ')[0])).join('\n'));
          expect(line, `${label}: ${means.join(', ')} on one line`).toBeDefined();
        }
      }
      // Random-control table: series, metric, the map's mean and the paired difference on one line (the API orients
      // the difference so that > 0 is better than chance; the report prints map − random as measured).
      let controlRows = 0;
      for (const r of summary.rows.filter((x) => x.vsControl)) {
        const diff = Math.abs(r.vsControl!.diff).toFixed(3);
        const line = lines.find((l) => l.trimStart().startsWith(r.seriesLabel) && l.includes(` ${r.metric} `) && l.includes(r.mean.toFixed(3)) && l.includes(diff));
        expect(line, `${r.seriesLabel} ${r.metric} control row on one line`).toBeDefined();
        controlRows++;
      }
      expect(controlRows).toBe(labels.length * metrics.length);
      console.log(`PDF: ${labels.length} series x ${metrics.length} metrics, every summary and control row on one line (${lines.length} text lines)`);
    });
  }, 1_800_000);
});
