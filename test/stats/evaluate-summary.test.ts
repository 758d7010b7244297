// saliency evaluate's summary.json and pairs.csv carry the statistics: per method and metric the 95% bootstrap
// interval and the paired difference to the random control; per metric the pairs of methods with Holm p and a
// verdict; agreement metrics (pairs of methods already) are summarised but never ranked.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src-main/cli/main.ts';
import { builtinSamplesDir } from '../../src-main/engine/model/builtin.ts';

describe('saliency evaluate summary statistics', () => {
  it('summary.json rows have ci95 and vsControl, and a pairs array with verdicts', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'eval-stats-'));
    const samples = builtinSamplesDir('known-evidence');
    const code = await main(['evaluate', samples, '--model', 'builtin:known-evidence', '--method', 'gradcam,occlusion',
      '--metric', 'deletion,spearman', '--set', 'occlusion.window=12', '--set', 'deletion.steps=10', '--seed', '3', '--no-curves', '--json', '--out', out]);
    expect(code).toBe(0);
    const summary = JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8'));
    const del = summary.summary.filter((r: { metric: string }) => r.metric === 'deletion');
    expect(del).toHaveLength(2);
    for (const r of del) {
      expect(r.n).toBeGreaterThanOrEqual(2);
      expect(r.ci95[0]).toBeLessThanOrEqual(r.mean);
      expect(r.ci95[1]).toBeGreaterThanOrEqual(r.mean);
      expect(r.controlMean).toEqual(expect.any(Number));
      expect(r.vsControl.diff).toBeCloseTo(r.mean - r.controlMean, 10);
      expect(r.vsControl.ci95).toHaveLength(2);
      expect(r).toMatchObject({ kind: 'single' });
    }
    expect(summary.pairs).toHaveLength(1);
    const p = summary.pairs[0];
    expect(p).toMatchObject({ metric: 'deletion', a: 'gradcam', b: 'occlusion', n: del[0].n });
    expect(p.diff).toBeCloseTo(del[0].mean - del[1].mean, 10);
    expect(p.pHolm).toBeGreaterThan(0);
    expect(p.verdict).toMatch(/^(gradcam|occlusion) better than (gradcam|occlusion) \(diff .*Holm p|^no clear difference \(n = \d+\)$/);
    // An interval that includes zero is never a win.
    if (p.ci95[0] <= 0 && p.ci95[1] >= 0) expect(p.winner).toBeNull();
    expect(summary.summary.some((r: { method: string; metric: string }) => r.metric === 'spearman' && r.method === 'gradcam|occlusion')).toBe(true);
    expect(summary.pairs.some((x: { metric: string }) => x.metric === 'spearman')).toBe(false);
    const pairsCsv = (await readFile(path.join(out, 'pairs.csv'), 'utf8')).trim().split('\n');
    expect(pairsCsv[0]).toBe('metric,a,b,kind,n,diff,ci95_lo,ci95_hi,p,p_holm,winner,verdict');
    expect(pairsCsv).toHaveLength(2);
    const summaryCsv = (await readFile(path.join(out, 'summary.csv'), 'utf8')).trim().split('\n');
    expect(summaryCsv[0]).toContain('ci95_lo,ci95_hi');
    expect(summaryCsv[0]).toContain('vs_control_diff,vs_control_ci95_lo,vs_control_ci95_hi');
  }, 300_000);
});
