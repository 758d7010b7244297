// The researcher's story, end to end in real Chromium against `saliency serve` with the real SqueezeNet 1.1:
// open a folder with two broken files -> the broken files are listed with their errors -> a study job (3 methods
// + mean ensemble + deletion/insertion/AOPC with random controls) after a measured cost estimate -> Compare
// shows every image with paging, intervals and a coloured legend -> a second target for one image stays a
// separate series -> 5 Likert + 5 A/B ratings with undo -> weights with their n -> the saved ensemble run over
// the library -> HTML + PDF reports whose numbers equal the API's. Screenshots of each step go to
// docs/screenshots/story-*.png. Every wait is on UI state (no clock bound a loaded machine could exceed).
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { DATA, HAS_DATA, MODELS, REPO, model } from '../helpers/data.ts';
import { ARTIFACTS, HAS_CHROMIUM, buildRenderer, callApi, launchChromium, serve, type Served } from './helpers.ts';

const SAMPLES = ['n01440764_tench.JPEG', 'n01443537_goldfish.JPEG', 'n01530575_brambling.JPEG', 'n02085620_Chihuahua.JPEG',
  'n02123045_tabby.JPEG', 'n02690373_airliner.JPEG', 'n03417042_garbage_truck.JPEG', 'n07753592_banana.JPEG'];
const METHODS = ['gradcam', 'ablationcam', 'occlusion'];
const METRICS = ['deletion', 'insertion', 'aopc-morf'];
const SHOTS = path.join(REPO, 'docs', 'screenshots');

/** Per-test bound of vitest: an hour, far beyond a loaded machine's time; the waits themselves are on UI state. */
const HOUR = Number(process.env.STORY_TIMEOUT ?? 3_600_000);
const NO_LIMIT = { timeout: HOUR };
/** expect.poll's default bound is 1 s: here it waits on UI state as long as the test may run. */
const poll = <T,>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: HOUR, interval: 100 });

describe.skipIf(!HAS_CHROMIUM || !HAS_DATA)('story: a study from an open folder to a report (SqueezeNet, Chromium)', () => {
  let server: Served;
  let browser: Browser;
  let page: Page;
  let folder: string;
  let libraryId: string;
  const shot = async (name: string) => { log(`screenshot ${name}`); await page.screenshot({ path: path.join(SHOTS, `story-${name}.png`) }); };
  // Progress of the story, as it happens (vitest prints a file's output only at its end).
  const log = (msg: string) => appendFileSync(path.join(ARTIFACTS, 'story.log'), `${new Date().toISOString()} ${msg}\n`);
  const onFail = () => onTestFailed(async () => { await page.screenshot({ path: path.join(ARTIFACTS, `story-failed-${Date.now()}.png`) }).catch(() => undefined); });
  const api = <T,>(method: string, body: unknown) => callApi<T>(server, method, body);
  /** Waits (on the Jobs screen) until the newest job whose label contains `text` has finished, and returns its state. */
  const waitJob = async (text: string) => {
    await page.locator('nav button[data-screen="jobs"]').click();
    const job = page.getByTestId('job').filter({ hasText: text }).first();
    await job.waitFor(NO_LIMIT);
    await poll(async () => ['done', 'failed', 'cancelled'].includes((await job.getAttribute('data-state')) ?? '')).toBe(true);
    return job.getAttribute('data-state');
  };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    log('start');
    buildRenderer();
    folder = mkdtempSync(path.join(os.tmpdir(), 'saliency-story-'));
    for (const f of SAMPLES) copyFileSync(path.join(DATA, 'imagenet-samples', f), path.join(folder, f));
    copyFileSync(path.join(DATA, 'imagenet-samples', 'manifest.csv'), path.join(folder, 'manifest.csv'));
    writeFileSync(path.join(folder, 'notes-not-an-image.jpg'), 'this is text, not a JPEG');
    writeFileSync(path.join(folder, 'truncated.png'), readFileSync(path.join(DATA, 'imagenet-samples', SAMPLES[0])).subarray(0, 400));
    server = await serve(['--model', model(MODELS.squeezenet), '--library', path.join(folder, 'none')]);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(HOUR);
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(server.openUrl);
  }, HOUR);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  }, HOUR);

  it('opens the folder and lists the two broken files with their errors', async () => {
    onFail();
    log('test: opens the folder and lists the two broken files with their errors');
    await page.getByTestId('folder-input').fill(folder);
    await page.getByTestId('open-folder').click();
    await poll(() => page.getByTestId('tile').count()).toBe(SAMPLES.length);
    await page.locator('.tile-pred').first().waitFor();
    await page.waitForFunction(() => ![...(globalThis as any).document.querySelectorAll('.tile-pred')].some((t: any) => t.textContent === '…'), undefined, NO_LIMIT);
    log('tiles and predictions shown');
    libraryId = (await api<{ id: string }[]>('library.list', {}))[0].id;
    const badge = page.getByTestId('unreadable-badge');
    // One file fails the scan, the other only when decoded for prediction: the badge follows.
    await poll(() => badge.textContent()).toContain('2 file(s) could not be read');
    await shot('1-library');
    await badge.click();
    await poll(() => page.getByTestId('tile-error').count()).toBe(2);
    expect(await page.getByTestId('grid-total').textContent()).toBe('2 unreadable files');
    const errors = await page.getByTestId('tile-error').allTextContents();
    expect(errors.every((e) => /not a readable image|could not be decoded/.test(e))).toBe(true);
    await shot('2-broken-files');
    await badge.click();
    await poll(() => page.getByTestId('tile').count()).toBe(SAMPLES.length);
  }, HOUR);

  it('runs a study (3 methods + mean ensemble + deletion/insertion/AOPC with controls) after a cost estimate', async () => {
    onFail();
    log('test: runs a study (3 methods + mean ensemble + deletion/insertion/AOPC with controls) after a cost estimate');
    await page.locator('[data-testid="study-panel"] > summary').click();
    const panel = page.getByTestId('study-panel');
    const checked = panel.locator('input[type="checkbox"]:checked');
    while (await checked.count()) await checked.first().uncheck();
    for (const m of METHODS) await panel.locator(`input[value="${m}"]`).check();
    // Occlusion with 56-px patches keeps the study cheap. The settings form shows each default; a bad value gets
    // the CLI's one line next to its field and blocks the study until it is fixed.
    await page.locator('[data-testid="settings-occlusion"] > summary').click();
    const windowField = page.getByTestId('setting-occlusion-window');
    expect(await windowField.getAttribute('placeholder')).toBe('32'); // the explainer's default
    await windowField.fill('0');
    await poll(() => panel.getByTestId('setting-error').first().textContent().catch(() => '')).toBe('occlusion: window must be a whole number of at least 1 (got 0)');
    expect(await page.getByTestId('estimate-study').isDisabled()).toBe(true);
    await page.getByTestId('settings-blocked').waitFor();
    await shot('3a-study-settings-refused');
    await windowField.fill('56');
    await page.getByTestId('setting-occlusion-stride').fill('56');
    await poll(() => panel.getByTestId('setting-error').count()).toBe(0);
    await poll(() => page.getByTestId('estimate-study').isDisabled()).toBe(false);
    await panel.locator('input[value="mean"]').check();
    for (const m of METRICS) await panel.locator(`input[value="${m}"]`).check();
    await page.getByTestId('metric-steps').fill('10');
    await page.getByTestId('metric-controls').fill('2');
    expect(await page.getByTestId('start-study').isDisabled()).toBe(true); // an estimate first
    await page.getByTestId('estimate-study').click();
    const estimate = page.getByTestId('estimate');
    await estimate.waitFor(NO_LIMIT);
    const text = (await estimate.textContent())!;
    expect(text).toContain(`${SAMPLES.length} images × ${METHODS.length + 1} maps`);
    const evals = Number(/maps: ([\d,]+) model evaluations/.exec(text)![1].replace(/,/g, ''));
    console.log(`study estimate: ${text.replace(/\s+/g, ' ').slice(0, 200)}`);
    expect(evals).toBeGreaterThan(0);
    log('estimate shown');
    await estimate.scrollIntoViewIfNeeded();
    await shot('3-study-estimate');
    const t0 = Date.now();
    await page.getByTestId('start-study').click();
    log('study started');
    // While it runs: progress and a time left measured on this job.
    await page.locator('nav button[data-screen="jobs"]').click();
    await poll(async () => /\d+ s left|min .* left/.test((await page.getByTestId('job').filter({ hasText: 'study:' }).first().textContent()) ?? '')).toBe(true);
    await shot('4-jobs-running');
    // ETA on a real run: what the app says after 20% of the job, against the time it then really took.
    type JobT = { label: string; done: number; total: number; state: string; etaSeconds: number | null };
    const studyJob = async () => (await api<JobT[]>('jobs.list', {})).find((j) => j.label.startsWith('study:'))!;
    await poll(async () => { const j = await studyJob(); return j.done >= j.total * 0.2 && j.etaSeconds !== null; }).toBe(true);
    const at20 = { t: Date.now(), eta: (await studyJob()).etaSeconds! };
    expect(await waitJob('study:')).toBe('done');
    const actual = (Date.now() - at20.t) / 1000;
    console.log(`ETA after 20% of the study job: ${at20.eta.toFixed(0)} s shown, ${actual.toFixed(0)} s actual (error ${((Math.abs(at20.eta - actual) / actual) * 100).toFixed(0)}%)`);
    console.log(`study job: ${((Date.now() - t0) / 1000).toFixed(0)} s measured (estimated from ${evals} evaluations)`);
    await shot('4-jobs');
    const list = await api<{ items: { id: string; methods: string[] }[] }>('images.list', { libraryId, limit: 100 });
    for (const it of list.items) expect(it.methods.sort()).toEqual([...METHODS, 'ensemble:mean'].sort());
  }, HOUR);

  it('Compare covers every image with paging, per-series intervals and a coloured legend', async () => {
    onFail();
    log('test: Compare covers every image with paging, per-series intervals and a coloured legend');
    await page.keyboard.press('c');
    await page.getByTestId('compare-grid').waitFor(NO_LIMIT);
    await page.getByTestId('page-size').selectOption('4');
    await poll(() => page.getByTestId('compare-count').textContent()).toBe(`${SAMPLES.length} images with maps · page 1 of 2`);
    log('compare page 1');
    await shot('5a-compare-summary');
    const names = new Set<string>();
    await poll(() => page.getByTestId('compare-row').count()).toBe(4);
    for (const t of await page.getByTestId('compare-row').locator('button').allTextContents()) names.add(t);
    await page.getByTestId('page-next').click();
    await poll(() => page.getByTestId('compare-count').textContent()).toBe(`${SAMPLES.length} images with maps · page 2 of 2`);
    await poll(async () => (await page.getByTestId('compare-row').locator('button').allTextContents()).some((t) => names.has(t))).toBe(false);
    for (const t of await page.getByTestId('compare-row').locator('button').allTextContents()) names.add(t);
    expect([...names].sort()).toEqual([...SAMPLES].sort());
    // The summary table's intervals are the API's.
    const summary = await api<{ rows: { seriesLabel: string; metric: string; n: number; mean: number; lo: number; hi: number }[] }>('study.summary', { libraryId });
    expect(summary.rows.length).toBe((METHODS.length + 1) * METRICS.length);
    for (const r of summary.rows) expect(r.n).toBe(SAMPLES.length);
    expect(await page.getByTestId('summary-row').count()).toBe(summary.rows.length);
    const first = summary.rows[0];
    expect(await page.getByTestId('summary-ci').first().textContent()).toContain(`[${Number(first.lo.toPrecision(3))}, ${Number(first.hi.toPrecision(3))}]`);
    // Sorting by disagreement puts the image whose methods disagree most first.
    await page.getByTestId('compare-sort').selectOption('disagreement');
    await poll(() => page.getByTestId('compare-count').textContent()).toContain('page 1 of 2');
    // Curves with a legend whose swatches carry distinct colours.
    await page.getByTestId('show-curves').first().click();
    await page.getByTestId('curves').locator('[data-testid="curve"]').first().waitFor(NO_LIMIT);
    const colours = await page.getByTestId('legend').first().locator('[data-testid="legend-swatch"]').evaluateAll((els) => els.map((e: any) => (globalThis as any).getComputedStyle(e).backgroundColor));
    expect(colours.length).toBe(METHODS.length + 1);
    expect(new Set(colours).size).toBe(colours.length);
    const textColours = await page.getByTestId('legend').first().locator('.legend-item span:last-child').evaluateAll((els) => els.map((e: any) => (globalThis as any).getComputedStyle(e).color));
    expect(new Set(textColours).size).toBe(textColours.length);
    await page.getByTestId('curves').scrollIntoViewIfNeeded();
    await shot('5-compare');
    // Every map has a colour bar with its values.
    expect(await page.getByTestId('compare-grid').getByTestId('colorbar').count()).toBeGreaterThan(0);
  }, HOUR);

  it('a second target for one image stays a separate series everywhere', async () => {
    onFail();
    log('test: a second target for one image stays a separate series everywhere');
    await page.keyboard.press('l');
    await page.getByTestId('filter-text').fill('tabby');
    await poll(() => page.getByTestId('tile').count()).toBe(1);
    await page.getByTestId('tile').first().click();
    await page.getByTestId('explanation').first().locator('canvas').waitFor(NO_LIMIT);
    const before = await page.getByTestId('explanation').count();
    // The model's second guess, typed by name (target by label): a class other than the top-1.
    const second = (await page.getByTestId('predictions').locator('li button').nth(1).textContent())!.trim();
    const secondIndex = (await api<{ classIndex: number; label: string }[]>('model.labels', {})).find((l) => l.label === second)!.classIndex;
    await page.getByTestId('target-class').fill(second);
    await poll(() => page.getByTestId('target-resolved').textContent()).toBe(`class ${secondIndex}`);
    await page.locator('.checks input[value="gradcam"]').check();
    await page.getByTestId('run-methods').click();
    await poll(() => page.getByTestId('explanation').count()).toBe(before + 1);
    const captions = await page.getByTestId('explanation').filter({ hasText: 'gradcam' }).locator('figcaption').allTextContents();
    expect(captions.some((c) => c.includes(second))).toBe(true);
    // Hover readout and enlarge on the new map.
    const frame = page.getByTestId('explanation').filter({ hasText: second }).getByTestId('map-frame');
    await frame.locator('canvas').waitFor(NO_LIMIT);
    await frame.hover();
    await page.getByTestId('map-readout').waitFor();
    expect(await page.getByTestId('map-readout').textContent()).toMatch(/th pct/);
    await shot('6-image-second-target');
    await frame.click();
    await page.getByTestId('map-enlarged').waitFor();
    await page.getByTestId('zoom-in').click();
    expect(await page.getByTestId('zoom').textContent()).toBe('125%');
    await shot('6b-enlarged');
    await page.keyboard.press('Escape');
    await page.keyboard.press('c');
    await page.getByTestId('compare-grid').waitFor(NO_LIMIT);
    // The tabby is on the second page (4 per page, by name): its second target is a column of its own there.
    await page.getByTestId('page-next').click();
    await poll(async () => (await page.getByTestId('compare-column').allTextContents()).filter((c) => c.startsWith(`gradcam (class ${secondIndex} `)).length).toBe(1);
    expect(await page.getByTestId('compare-column').allTextContents()).toContain('gradcam (top-1, logit)');
    await shot('6c-compare-second-target');
  }, HOUR);

  it('rates 5 maps on a Likert scale and 5 pairs A/B, with undo', async () => {
    onFail();
    log('test: rates 5 maps on a Likert scale and 5 pairs A/B, with undo');
    await page.keyboard.press('r');
    await page.getByTestId('rate-instructions').waitFor();
    await page.getByTestId('rater').fill('story-rater');
    await page.getByTestId('blind').uncheck();
    await page.getByTestId('start-rating').click();
    await page.getByTestId('rate-map').first().locator('canvas').waitFor(NO_LIMIT);
    await poll(() => page.getByTestId('rate-question').textContent()).toMatch(/evidence for the class .+ \(class \d+\)\?/);
    expect(await page.getByTestId('rate-image').textContent()).toMatch(/\.JPEG$/);
    await shot('7-rate-likert');
    const progress = () => page.getByTestId('session-progress').textContent();
    for (let i = 0; i < 3; i++) { await page.keyboard.press(String(i + 2)); await poll(progress).toBe(`${i + 1} this session`); }
    await page.getByTestId('undo').click();
    await poll(progress).toBe('2 this session');
    for (let i = 2; i < 5; i++) { await page.keyboard.press(String(i)); await poll(progress).toBe(`${i + 1} this session`); }
    let ratings = await api<{ method: string; likertCount: number; pairwiseCount: number }[]>('ratings.summary', { libraryId });
    expect(ratings.reduce((a, r) => a + r.likertCount, 0)).toBe(5);

    await page.locator('input[type="radio"][value="pairwise"]').check();
    await page.getByTestId('start-rating').click();
    await page.getByTestId('rate-map').nth(1).locator('canvas').waitFor(NO_LIMIT);
    await page.getByTestId('plain-toggle').click();
    expect(await page.getByTestId('rate-map').first().locator('canvas').count()).toBe(0);
    await page.getByTestId('plain-toggle').click();
    await shot('8-rate-pairwise');
    await page.getByTestId('skip').click();
    const keys = ['ArrowLeft', 'ArrowRight', 'ArrowLeft', 'ArrowDown'];
    for (let i = 0; i < keys.length; i++) { await page.keyboard.press(keys[i]); await poll(progress).toBe(`${i + 1} this session`); }
    await page.keyboard.press('u');
    await poll(progress).toBe('3 this session');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowRight');
    await poll(progress).toBe('5 this session');
    ratings = await api<{ method: string; likertCount: number; pairwiseCount: number }[]>('ratings.summary', { libraryId });
    expect(ratings.reduce((a, r) => a + r.pairwiseCount, 0)).toBe(10);
  }, HOUR);

  it('derives weights from the ratings with their n, and runs the saved ensemble over the library', async () => {
    onFail();
    log('test: derives weights from the ratings with their n, and runs the saved ensemble over the library');
    await page.keyboard.press('e');
    await page.getByTestId('source-likert').check();
    await page.getByTestId('derive').click();
    await page.getByTestId('weights-note').waitFor(NO_LIMIT);
    const ns = await page.getByTestId('weight-n').allTextContents();
    expect(ns.length).toBeGreaterThan(0);
    expect(ns.every((n) => /^n = \d+$/.test(n))).toBe(true);
    // Each weight with its 95% bootstrap interval over the ratings (none where a method has fewer than 2).
    const cis = await page.getByTestId('weight-interval').allTextContents();
    expect(cis.length).toBe(ns.length);
    expect(cis.every((c) => /^\[\d\.\d\d, \d\.\d\d\]$|^no interval \(n < 2\)$/.test(c))).toBe(true);
    console.log(`Likert weights: ${(await page.locator('.weight').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim()).join('; ')}`);
    // 5 ratings over 3+ methods: every method has fewer than 5, so the app warns.
    await page.getByTestId('weights-warning').waitFor();
    for (const w of await page.locator('.weight span:first-child').allTextContents()) expect(w.startsWith('ensemble')).toBe(false);
    await page.getByTestId('save-ensemble').click();
    await page.getByTestId('run-saved-ensemble').waitFor();
    await page.getByTestId('ensemble-preview').locator('canvas').waitFor(NO_LIMIT);
    await shot('9-ensemble');
    await page.getByTestId('run-saved-ensemble').click();
    expect(await waitJob('ensemble:weighted')).toBe('done');
    const list = await api<{ items: { methods: string[] }[] }>('images.list', { libraryId, limit: 100 });
    for (const it of list.items) expect(it.methods).toContain('ensemble:weighted');
  }, HOUR);

  it('exports HTML and PDF reports whose numbers equal the API\'s', async () => {
    await page.keyboard.press('x');
    const exported: Record<string, string> = {};
    for (const format of ['json', 'pdf', 'html']) {
      await page.locator('select[aria-label="Format"]').selectOption(format);
      await page.getByTestId('export-report').click();
      await poll(async () => (await page.getByTestId('report-result').textContent().catch(() => '')) ?? '').toContain(`.${format}`);
      exported[format] = /Saved (\S+\.\w+)/.exec((await page.getByTestId('report-result').textContent())!)![1];
      if (format === 'html') await shot('10-reports');
    }
    const report = JSON.parse(readFileSync(exported.json, 'utf8')) as { summary: { method: string; series?: string; seriesLabel?: string; metric: string; mean: number; n: number }[] };
    // The API's numbers: the study summary of Grad-CAM's top-1 deletion AUCs (the study's settings; the 16-step
    // curves Compare computed for one image are not pooled with them, in the API as in the report).
    const summary = await api<{ rows: { seriesLabel: string; metric: string; n: number; mean: number }[] }>('study.summary', { libraryId });
    const row = summary.rows.find((r) => r.seriesLabel.startsWith('gradcam (top-1') && r.metric === 'deletion')!;
    expect(row.n).toBe(SAMPLES.length);
    const mean = row.mean;
    const inReport = report.summary.find((r) => r.metric === 'deletion' && (r.seriesLabel ?? r.series ?? r.method).startsWith('gradcam') && !(r.seriesLabel ?? '').includes('class ') && r.n === SAMPLES.length)!;
    console.log(`Grad-CAM deletion AUC: API ${mean} (n = ${row.n}), report ${inReport?.mean} (n = ${inReport?.n})`);
    expect(inReport.mean).toBeCloseTo(mean, 10);
    const html = readFileSync(exported.html, 'utf8');
    expect(html).toContain(mean.toFixed(3));
    const pdfText = execFileSync('pdftotext', ['-layout', exported.pdf, '-'], { encoding: 'utf8' });
    expect(pdfText).toContain(mean.toFixed(3));
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.getByTestId('open-report').click()]);
    await popup.waitForLoadState('load');
    await popup.screenshot({ path: path.join(SHOTS, 'story-11-report.png'), fullPage: false });
    await popup.close();
  }, HOUR);
});
