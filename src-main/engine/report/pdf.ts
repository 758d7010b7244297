// HTML to PDF with Chromium's print engine (Debian's /usr/bin/chromium through playwright-core here; the
// desktop app can pass Electron's webContents.printToPDF instead).
import { existsSync } from 'node:fs';
import { SaliencyError } from '../types.ts';

export type PdfPrinter = (html: string, pdfPath: string) => Promise<void>;

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter(Boolean) as string[];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new SaliencyError('PDF export needs Chromium: install it (apt-get install chromium) or set CHROMIUM_PATH', 'NO_CHROMIUM');
  return found;
}

export const chromiumPrinter: PdfPrinter = async (html, pdfPath) => {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    await page.setContent(html, { waitUntil: 'load' });
    await page.pdf({ path: pdfPath, format: 'A4', printBackground: true, margin: { top: '12mm', bottom: '12mm', left: '10mm', right: '10mm' } });
  } finally {
    await browser.close();
  }
};
