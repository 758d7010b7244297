// Report polish (issue 15): the title names the library (not the model's path), the images section says how
// many of the selection's images it shows, settings/selection/provenance are tables (no raw JSON), and every
// gallery map carries a colour bar with its value range and names the class it explains.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HAS_DATA, MODELS, model, sample } from '../helpers/data.ts';
import { tempLibrary } from '../helpers/library.ts';
import type { Store } from '../../src-main/engine/store/store.ts';
import { createExplainJob } from '../../src-main/engine/jobs/create-job.ts';
import { runJob } from '../../src-main/engine/jobs/runner.ts';
import { makeReport, type ReportResult } from '../../src-main/engine/report/make-report.ts';
import { colourBarSvg } from '../../src-main/engine/report/colour-bar.ts';
import { mapRange } from '../../src-main/engine/image/colormap.ts';
import { colormapLut } from '../../src-main/engine/image/colormap.ts';
import { settingsTable } from '../../src-main/engine/report/settings-table.ts';

const IMAGES = ['n02123045_tabby', 'n07747607_orange', 'n01440764_tench'];

describe('report building blocks', () => {
  it('colour bar: the colormap from the map minimum to its maximum, values printed', () => {
    expect(mapRange([0.5, NaN, -2, 3])).toEqual({ lo: -2, hi: 3 });
    const svg = colourBarSvg('viridis', -2, 3, 'cb1');
    expect(svg).toMatch(/<linearGradient id="cb1">(<stop [^>]+\/>){9}<\/linearGradient>/);
    expect(svg).toContain('>-2.00<');
    expect(svg).toContain('>3.00<');
    const lut = colormapLut('viridis');
    expect(svg).toContain(`<stop offset="0.000" stop-color="rgb(${lut[0]},${lut[1]},${lut[2]})"/>`);
    expect(svg).toContain(`<stop offset="1.000" stop-color="rgb(${lut[765]},${lut[766]},${lut[767]})"/>`);
  });

  it('settings table: key/value rows, nested objects as nested tables, escaped', () => {
    const html = settingsTable({ samples: 150, baseline: '<zero>', grid: { cells: 7, p: 0.5 }, ids: [1, 2] });
    expect(html).toContain('<tr><th>samples</th><td>150</td></tr>');
    expect(html).toContain('&lt;zero&gt;');
    expect(html).toContain('<tr><th>grid</th><td><table class="kv"><tr><th>cells</th><td>7</td></tr>');
    expect(html).toContain('<td>1, 2</td>');
    expect(settingsTable({})).toContain('defaults');
  });
});

describe.skipIf(!HAS_DATA)('report polish on real SqueezeNet maps', () => {
  let store: Store;
  let result: ReportResult;
  let html: string;
  const libName = 'cats-and-fruit';

  beforeAll(async () => {
    const lib = await tempLibrary(IMAGES.map((f) => sample(`${f}.JPEG`)), libName);
    const { dir, libraryId } = lib;
    store = lib.store;
    const job = await createExplainJob(store, { libraryId, modelPath: model(MODELS.squeezenet), methods: ['gradcam'], seed: 1 });
    await runJob(store, job.id, { workers: 1 });
    result = await makeReport(store, { libraryId }, { outDir: path.join(dir, 'report'), formats: ['html'], maxImages: 2 });
    html = readFileSync(result.files.html!, 'utf8');
  }, 600_000);

  afterAll(() => store?.close());

  it('is titled by the library name, not the model path', () => {
    expect(result.data.title).toBe(`${libName}: saliency report (model ${MODELS.squeezenet})`);
    expect(html).toContain(`<title>${libName}: saliency report (model ${MODELS.squeezenet})</title>`);
    expect(html).not.toMatch(/<h1>[^<]*\//);
  });

  it('states how many images the gallery shows of the selection', () => {
    expect(html).toContain(`2 of ${IMAGES.length} images shown`);
  });

  it('renders run settings and the selection as tables, not raw JSON', () => {
    const repro = html.slice(html.indexOf('<h2>Reproducibility</h2>'));
    expect(repro).toContain('<table class="kv"><tr><th>libraryId</th>');
    expect(repro).not.toMatch(/\{"/);
    expect(html).not.toMatch(/<code>\{/);
  });

  it('gives every gallery map a colour bar with its range and the class it explains', () => {
    const gallery = html.slice(html.indexOf('<h2>Images</h2>'), html.indexOf('<h2>Reproducibility</h2>'));
    const maps = gallery.match(/<figure><img src="data:image\/png;base64,[^"]+" alt="">(<svg class="cbar"[\s\S]*?<\/svg>)?<figcaption><b>gradcam/g) ?? [];
    expect(maps).toHaveLength(2);
    for (const m of maps) expect(m).toContain('<svg class="cbar"');
    // The class by its label (the model's top-1 class of each image), and the score kind.
    expect(gallery.match(/<b>gradcam \([A-Za-z][\w '-]*, logit\)<\/b>/g)).toHaveLength(2);
  });
});
