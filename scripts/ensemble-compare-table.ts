// The README table of issue 20 from `saliency ensemble-compare` runs (one --out directory per model): for each
// weighting, per model, the paired difference to the plain mean and to the best member (chosen on the training
// images), with its 95% interval and the images better; bold = interval above 0 and Holm p < 0.05.
// Usage: node --import tsx scripts/ensemble-compare-table.ts squeezenet=/tmp/cmp/squeezenet mobilenet=... [...]
// The experiment itself (issue 20, README "Ensembles: do weightings beat the mean?"): per model,
//   saliency ensemble-compare <30 images, offset 0> --train <8 images, offset 7> ... (see the README).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CompareResult } from '../src-main/engine/ensemble/compare.ts';

const runs = process.argv.slice(2).map((a) => {
  const [key, dir] = a.split('=');
  return { key, r: JSON.parse(readFileSync(path.join(dir, 'ensemble-compare.json'), 'utf8')) as CompareResult };
});
const f3 = (x: number | null) => (x === null || !Number.isFinite(x) ? '–' : (x >= 0 ? '+' : '') + x.toFixed(3));
const cell = (r: CompareResult, w: string, against: string) => {
  const c = r.comparisons.find((x) => x.weighting === w && x.against === against);
  if (!c) return '';
  const text = `${f3(c.diff)} [${f3(c.ci95[0])}, ${f3(c.ci95[1])}] ${c.better}/${c.n}`;
  return c.winner === w ? `**${text}**` : c.winner ? `*${text}* (worse)` : text;
};
const names = runs[0].r.summary.map((s) => s.name).filter((n) => !n.startsWith('member:') && n !== 'best member');
const head = `| ensemble | ${runs.map((x) => `${x.key}: vs mean`).join(' | ')} | ${runs.map((x) => `${x.key}: vs best member`).join(' | ')} |`;
const lines = [head, `|---|${runs.map(() => '---|').join('')}${runs.map(() => '---|').join('')}`];
for (const n of names) lines.push(`| ${n} | ${runs.map((x) => cell(x.r, n, 'mean')).join(' | ')} | ${runs.map((x) => cell(x.r, n, 'best member')).join(' | ')} |`);
console.log(lines.join('\n'));
console.log('\nPer model: n test images, mean insertion - deletion of the mean, the best member (chosen on training) and the random control:');
for (const { key, r } of runs) {
  const s = (n: string) => r.summary.find((x) => x.name === n)!;
  const ctl = r.perImage.map((p) => p.control);
  console.log(`- ${key}: n = ${r.perImage.length}; mean ${f3(s('mean').mean)} [${f3(s('mean').ci95[0])}, ${f3(s('mean').ci95[1])}]; best member ${r.splits.map((x) => x.bestMember).join('/')} ${f3(s('best member').mean)} [${f3(s('best member').ci95[0])}, ${f3(s('best member').ci95[1])}]; random control ${f3(ctl.reduce((a, b) => a + b, 0) / ctl.length)}; ${r.comparisons.length} comparisons Holm-adjusted together`);
}
