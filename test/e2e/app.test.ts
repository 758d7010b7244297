// End to end, as a user would: `saliency serve` on a free port with a temporary data folder, Debian's Chromium
// driven by playwright-core. Open a folder, run a job, view maps, rate with the keyboard, draw a box, derive
// ensemble weights, look at the curves, export a report; screenshots go to test-artifacts/e2e/.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { DATA, HAS_DATA, MODELS, model } from '../helpers/data.ts';
import { ARTIFACTS, HAS_CHROMIUM, buildRenderer, callApi, launchChromium, serve, type Served } from './helpers.ts';

const SAMPLES = ['n01440764_tench.JPEG', 'n02085620_Chihuahua.JPEG', 'n02123045_tabby.JPEG', 'n02690373_airliner.JPEG', 'n03417042_garbage_truck.JPEG', 'n07753592_banana.JPEG'];
const METHODS = ['gradcam', 'ablationcam'];

/** Waits are on UI state; their bound (and vitest's per-test/hook bound) is an hour, far beyond a loaded machine's
 *  time, so a busy 2-core machine slows these tests down instead of failing them. */
const HOUR = 3_600_000;
vi.setConfig({ testTimeout: HOUR, hookTimeout: HOUR });

beforeAll(() => {
  mkdirSync(ARTIFACTS, { recursive: true });
  if (HAS_CHROMIUM) buildRenderer();
});

describe.skipIf(!HAS_CHROMIUM)('first run, as the README says: saliency serve with no options', () => {
  it('opens on the bundled samples with predictions and Grad-CAM maps', async () => {
    const t0 = Date.now();
    const server = await serve([]);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
      await page.goto(server.openUrl);
      await page.getByTestId('tile').first().waitFor({ timeout: HOUR });
      await expect.poll(() => page.locator('.tile-methods').count(), { timeout: HOUR }).toBeGreaterThan(0);
      await page.screenshot({ path: path.join(ARTIFACTS, '00-first-run-library.png') });
      await page.locator('.tile-methods').first().click();
      await page.getByTestId('explanation').first().locator('canvas').waitFor({ timeout: HOUR });
      const seconds = (Date.now() - t0) / 1000;
      console.log(`first run: maps visible ${seconds.toFixed(1)} s after starting saliency serve (model ${await page.getByTestId('model-name').textContent()})`);
      expect(seconds).toBeLessThan(60);
      await page.screenshot({ path: path.join(ARTIFACTS, '00-first-run-image.png') });
    } finally {
      await browser.close();
      await server.stop();
    }
  });
});

describe.skipIf(!HAS_CHROMIUM || !HAS_DATA)('the app in Chromium against saliency serve', () => {
  let server: Served;
  let browser: Browser;
  let page: Page;
  let folder: string;
  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });

  beforeAll(async () => {
    folder = mkdtempSync(path.join(os.tmpdir(), 'saliency-e2e-lib-'));
    const available = new Set(readdirSync(path.join(DATA, 'imagenet-samples')));
    for (const f of SAMPLES.filter((s) => available.has(s))) copyFileSync(path.join(DATA, 'imagenet-samples', f), path.join(folder, f));
    copyFileSync(path.join(DATA, 'imagenet-samples', 'manifest.csv'), path.join(folder, 'manifest.csv'));
    // A missing --library folder is reported and skipped: the test opens its folder through the UI.
    server = await serve(['--model', model(MODELS.mobilenet), '--library', path.join(folder, 'none')]);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
    page.on('pageerror', (e) => console.error('page error:', e.message));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('opens a folder typed into the Library screen and lists its images with predictions', async () => {
    await page.goto(server.openUrl);
    // The token is moved out of the address bar.
    await expect.poll(() => page.url()).not.toContain('token=');
    // The renderer has no Node: no require, no process, nothing but the API client.
    expect(await page.evaluate(() => [typeof (globalThis as any).require, typeof (globalThis as any).process, typeof (globalThis as any).saliency])).toEqual(['undefined', 'undefined', 'undefined']);
    await page.getByTestId('folder-input').fill(folder);
    await page.getByTestId('open-folder').click();
    await page.getByTestId('tile').first().waitFor();
    expect(await page.getByTestId('tile').count()).toBe(SAMPLES.length);
    await expect.poll(() => page.locator('.tile-pred').allTextContents(), { timeout: HOUR }).not.toContain('…');
    await expect.poll(() => page.locator('.tile-badge.good').count()).toBeGreaterThan(0);
    await shot('01-library');
  });

  it('runs a job of two methods on the library and shows its progress on the Jobs screen', async () => {
    // The study panel: the chosen methods only (no metrics), a measured cost estimate, then the job.
    await page.locator('[data-testid="study-panel"] > summary').click();
    const checked = page.getByTestId('study-panel').locator('input[type="checkbox"]:checked');
    while (await checked.count()) await checked.first().uncheck();
    for (const m of METHODS) await page.getByTestId('study-panel').locator(`input[value="${m}"]`).check();
    await page.getByTestId('estimate-study').click();
    await page.getByTestId('estimate').waitFor({ timeout: HOUR });
    await page.getByTestId('start-study').click();
    await page.locator('[data-testid="study-panel"] > summary').click();
    await page.locator('nav button[data-screen="jobs"]').click();
    const job = page.getByTestId('job').filter({ hasText: 'gradcam, ablationcam' });
    await expect.poll(() => job.getAttribute('data-state'), { timeout: HOUR }).toBe('done');
    await expect.poll(() => job.textContent()).toContain(`${SAMPLES.length * METHODS.length} / ${SAMPLES.length * METHODS.length} done`);
    await shot('02-jobs');
  });

  it('shows the original and every method\'s map on the Image screen, with colormap and opacity controls', async () => {
    await page.keyboard.press('l');
    await page.getByTestId('filter-text').fill('tabby');
    await expect.poll(() => page.getByTestId('tile').count()).toBe(1);
    await page.getByTestId('tile').first().click();
    await page.getByTestId('explanation').nth(METHODS.length - 1).locator('canvas').waitFor();
    expect(await page.getByTestId('explanation').count()).toBe(METHODS.length);
    expect(await page.getByTestId('predictions').locator('li').count()).toBe(5);
    // The overlay is really painted: some pixels of the canvas are opaque and coloured.
    const painted = await page.getByTestId('explanation').first().locator('canvas').evaluate((c: any) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n / (d.length / 4);
    });
    expect(painted).toBeGreaterThan(0.5);
    await page.getByTestId('colormap').selectOption('viridis');
    // Choose another target class (the true one, "tabby", ranked below the top prediction) and run one more method.
    await page.getByTestId('predictions').getByRole('button', { name: 'tabby' }).click();
    expect(await page.getByTestId('target-class').inputValue()).toBe('281');
    await page.locator('.checks input[value="occlusion"]').check();
    await page.getByTestId('run-methods').click();
    await expect.poll(() => page.getByTestId('explanation').count(), { timeout: HOUR }).toBe(METHODS.length + 1);
    await page.getByTestId('explanation').filter({ hasText: 'occlusion' }).locator('canvas').waitFor();
    expect(await page.getByTestId('explanation').filter({ hasText: 'occlusion' }).textContent()).toContain('→ tabby');
    // The concept panel sits beside the maps; with no captions in this library it says what it needs.
    await expect.poll(() => page.getByTestId('concepts').locator('[data-testid="concepts-reason"]').textContent(), { timeout: HOUR })
      .toMatch(/needs captions of at least 10 images of 2\+ classes.*this library has 0 captioned image\(s\)/);
    await shot('03-image');
  });

  it('rates maps with the keyboard: Likert 1-5 in blind mode, then A vs B with the arrow keys', async () => {
    await page.keyboard.press('r');
    await page.getByTestId('rater').fill('e2e-rater');
    await page.getByTestId('start-rating').click();
    await page.getByTestId('rate-map').first().locator('canvas').waitFor();
    await page.waitForFunction(() => [...(globalThis as any).document.querySelectorAll('.rate-one img')].every((i: any) => i.complete && i.naturalWidth > 0));
    // Blind: no method name is shown.
    for (const m of METHODS) expect(await page.locator('.rate-one figcaption').textContent()).not.toContain(m);
    await shot('04-rate-likert');
    // Every map is one Likert item: two methods on each image, plus the occlusion map of the tabby.
    const total = SAMPLES.length * METHODS.length + 1;
    expect(await page.getByTestId('rate-progress').textContent()).toBe(`0 / ${total} rated`);
    for (let i = 0; i < total; i++) {
      await page.keyboard.press(String((i % 5) + 1));
      await expect.poll(() => page.getByTestId('rate-progress').textContent()).toBe(`${i + 1} / ${total} rated`);
    }
    await page.getByTestId('rate-done').waitFor();
    const summary = await callApi<{ method: string; likertCount: number }[]>(server, 'ratings.summary', {});
    expect(summary.reduce((a, s) => a + s.likertCount, 0)).toBe(total);

    await page.locator('input[type="radio"][value="pairwise"]').check();
    await page.getByTestId('start-rating').click();
    await page.getByTestId('rate-map').nth(1).locator('canvas').waitFor();
    await page.waitForFunction(() => [...(globalThis as any).document.querySelectorAll('.rate-pair img')].every((i: any) => i.complete && i.naturalWidth > 0));
    await shot('05-rate-pairwise');
    // One pair per image: the tabby's occlusion map explains another class (tabby, not its top-1 class), and A/B
    // only pits maps of one target against each other (docs/protocol.md), so it adds no pair.
    const pairs = SAMPLES.length;
    expect(await page.getByTestId('rate-progress').textContent()).toBe(`0 / ${pairs} rated`);
    for (let i = 0; i < pairs; i++) {
      await page.keyboard.press(i % 3 === 2 ? 'ArrowRight' : i % 4 === 3 ? 'ArrowDown' : 'ArrowLeft');
      await expect.poll(() => page.getByTestId('rate-progress').textContent()).toBe(`${i + 1} / ${pairs} rated`);
    }
    const after = await callApi<{ pairwiseCount: number }[]>(server, 'ratings.summary', {});
    expect(after.reduce((a, s) => a + s.pairwiseCount, 0)).toBe(2 * pairs);
  });

  it('draws a box and a caption on the Annotate screen, saved through the API', async () => {
    await page.keyboard.press('a');
    const stage = page.getByTestId('annotate-stage');
    await stage.locator('img').waitFor();
    const box = (await stage.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.25);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.8, { steps: 5 });
    await page.mouse.up();
    expect(await page.getByTestId('box').count()).toBe(1);
    await page.getByTestId('caption').fill('the cat\'s striped face');
    await page.getByTestId('concept-input').fill('stripes, ears');
    await page.getByTestId('concept-input').press('Enter');
    await page.getByTestId('save-annotation').click();
    await expect.poll(() => page.locator('.notice').allTextContents()).toContain('Annotation saved');
    await shot('06-annotate');
    const images = await callApi<{ items: { id: string; name: string }[] }>(server, 'images.list', { libraryId: (await callApi<{ id: string }[]>(server, 'library.list', {}))[0].id });
    const tabby = images.items.find((i) => i.name.includes('tabby'))!;
    const saved = await callApi<{ boxes: { x: number; y: number; w: number; h: number }[]; caption: string; concepts: string[] }>(server, 'annotations.get', { imageId: tabby.id });
    expect(saved.boxes).toHaveLength(1);
    expect(saved.boxes[0].x).toBeCloseTo(0.2, 1);
    expect(saved.boxes[0].w).toBeCloseTo(0.5, 1);
    expect(saved.caption).toBe('the cat\'s striped face');
    expect(saved.concepts).toEqual(['stripes', 'ears']);
  });

  it('derives ensemble weights from the ratings with a live preview, and saves the ensemble', async () => {
    await page.keyboard.press('e');
    await page.getByTestId('source-likert').check();
    await page.getByTestId('derive').click();
    await page.getByTestId('weights-note').waitFor();
    const weights = (await page.getByTestId('weight').allTextContents()).map(Number);
    expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 1);
    await page.getByTestId('ensemble-preview').locator('canvas').waitFor();
    await page.getByTestId('source-bradley-terry').check();
    await page.getByTestId('derive').click();
    await expect.poll(() => page.getByTestId('weights-note').textContent()).toContain('Bradley-Terry');
    await page.getByTestId('save-ensemble').click();
    await shot('07-ensemble');
    await page.keyboard.press('i');
    await page.getByTestId('ensemble').locator('canvas').waitFor();
  });

  it('plots deletion and insertion curves on the Compare screen', async () => {
    await page.keyboard.press('c');
    await page.getByTestId('compare-grid').waitFor();
    await page.getByTestId('show-curves').first().click();
    await page.getByTestId('curves').locator('svg path').first().waitFor({ timeout: HOUR });
    expect(await page.getByTestId('curves').locator('svg path').count()).toBe(2 * METHODS.length);
    await shot('08-compare');
  });

  it('shows keyboard shortcuts and switches theme', async () => {
    await page.keyboard.press('?');
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
    await shot('09-help');
    await page.keyboard.press('Escape');
    await page.keyboard.press('t');
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.dataset.theme)).toBe('light');
    await page.keyboard.press('i');
    await page.getByTestId('ensemble').locator('canvas').waitFor();
    await shot('10-image-light');
    await page.keyboard.press('t');
  });

  it('exports an HTML report from the Reports screen', async () => {
    await page.keyboard.press('x');
    await page.getByTestId('export-report').click();
    const outcome = await Promise.race([
      page.getByTestId('report-result').waitFor({ timeout: HOUR }).then(() => 'exported'),
      page.getByTestId('report-error').waitFor({ timeout: HOUR }).then(() => 'error'),
    ]);
    const problem = outcome === 'error' ? await page.getByTestId('report-error').textContent() : '';
    expect(outcome, problem ?? '').toBe('exported');
    const file = /Saved (\S+\.html)/.exec((await page.getByTestId('report-result').textContent())!)![1];
    expect(readFileSync(file, 'utf8')).toContain('<html');
    await shot('12-reports');
    // Opened from the app, the report loads with no request beyond this server.
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.getByTestId('open-report').click()]);
    const requests: string[] = [];
    popup.on('request', (r) => requests.push(r.url()));
    await popup.waitForLoadState('load');
    expect(await popup.locator('img').count()).toBeGreaterThan(0);
    expect(requests.filter((u) => !u.startsWith(server.url) && !u.startsWith('data:'))).toEqual([]);
    await popup.screenshot({ path: path.join(ARTIFACTS, '13-report-html.png') });
    await popup.close();
  });

  it('keeps the grid light with 10,000 images: few DOM tiles, and the last image reachable by scrolling', async () => {
    const big = mkdtempSync(path.join(os.tmpdir(), 'saliency-e2e-10k-'));
    // One small PNG, hard-linked 10,000 times: the scan still reads, hashes and checks every file.
    const src = path.join(big, 'img_00000.png');
    await sharp({ create: { width: 48, height: 48, channels: 3, background: { r: 200, g: 120, b: 40 } } }).png().toFile(src);
    for (let i = 1; i < 10_000; i++) linkSync(src, path.join(big, `img_${String(i).padStart(5, '0')}.png`));
    const t0 = performance.now();
    const lib = await callApi<{ id: string; imageCount: number }>(server, 'library.open', { path: big });
    console.log(`10,000-image library opened (scanned into SQLite) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(lib.imageCount).toBe(10_000);
    // The prediction job of 10,000 images is not what this test measures.
    for (const j of await callApi<{ id: string; state: string }[]>(server, 'jobs.list', {})) {
      if (j.state === 'running' || j.state === 'queued') await callApi(server, 'jobs.cancel', { jobId: j.id });
    }
    await page.reload();
    await page.keyboard.press('l');
    await page.locator('select[aria-label="Library"]').selectOption(lib.id);
    await expect.poll(() => page.getByTestId('grid-total').textContent(), { timeout: HOUR }).toBe('10000 images');
    expect(await page.getByTestId('tile').count()).toBeLessThan(150);
    // Scroll through the whole grid in 40 steps: the DOM stays at the visible rows at every step, and a step
    // takes a frame or so. Frame times on this shared 2-core machine are printed; the bound only catches a grid
    // that renders all 10,000 tiles (seconds per frame).
    const frames = await page.getByTestId('grid').evaluate(async (el: any) => {
      const raf = (globalThis as any).requestAnimationFrame as (cb: () => void) => void;
      const times: number[] = [];
      let maxTiles = 0;
      let last = performance.now();
      for (let i = 1; i <= 40; i++) {
        el.scrollTop = (el.scrollHeight * i) / 40;
        await new Promise((r) => raf(() => r(null)));
        await new Promise((r) => raf(() => r(null)));
        maxTiles = Math.max(maxTiles, el.querySelectorAll('.tile').length);
        const now = performance.now();
        times.push(now - last);
        last = now;
      }
      times.sort((a, b) => a - b);
      return { median: times[20], max: times[39], maxTiles };
    });
    console.log(`10,000-image grid: ${frames.maxTiles} tiles in the DOM at most; median ${frames.median.toFixed(1)} ms per scroll step (2 frames), worst ${frames.max.toFixed(1)} ms`);
    expect(frames.maxTiles).toBeLessThan(150);
    expect(frames.median).toBeLessThan(1000);
    await expect.poll(() => page.locator('.tile-name').allTextContents(), { timeout: HOUR }).toContain('img_09999.png');
    expect(await page.getByTestId('tile').count()).toBeLessThan(150);
    await shot('11-library-10k');
  });
});
