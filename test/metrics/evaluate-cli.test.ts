// saliency evaluate end to end on the built-in known-evidence samples: tables in CSV and JSON, curves kept,
// pairwise agreement, pointing game from a boxes file, clear errors for bad usage.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src-main/cli/main.ts';
import { builtinSamplesDir } from '../../src-main/engine/model/builtin.ts';

describe('saliency evaluate', () => {
  it('writes per-image and summary tables with curves and controls', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'eval-'));
    const samples = builtinSamplesDir('known-evidence');
    const truth = JSON.parse(await readFile(path.join(samples, '..', 'ground-truth.json'), 'utf8')) as { samples: { file: string; box: { x: number; y: number; width: number; height: number } }[] };
    const picked = truth.samples.slice(0, 3);
    const boxes = Object.fromEntries(picked.map((s) => [path.basename(s.file), [[s.box.x, s.box.y, s.box.x + s.box.width, s.box.y + s.box.height]]]));
    await writeFile(path.join(out, 'boxes.json'), JSON.stringify(boxes));
    const files = picked.map((s) => path.join(samples, '..', s.file));
    const code = await main(['evaluate', ...files, '--model', 'builtin:known-evidence', '--method', 'gradcam,occlusion',
      '--metric', 'deletion,insertion,pointing-game,spearman,sparseness', '--set', 'occlusion.window=12', '--set', 'deletion.steps=20',
      '--set', 'insertion.steps=20', '--boxes', path.join(out, 'boxes.json'), '--score', 'logit', '--seed', '5', '--out', out]);
    expect(code).toBe(0);
    const per = JSON.parse(await readFile(path.join(out, 'per-image.json'), 'utf8'));
    const summary = JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8'));
    const csv = (await readFile(path.join(out, 'per-image.csv'), 'utf8')).trim().split('\n');
    // 3 images x (2 methods x 4 metrics + 1 pair).
    expect(per.rows).toHaveLength(27);
    expect(csv).toHaveLength(28);
    expect(csv[0]).toBe('image,method,metric,value,control,beats_control,higher_is_better,millis');
    const del = per.rows.find((r: { metric: string }) => r.metric === 'deletion');
    expect(del.curve.x).toHaveLength(21);
    expect(del.controlCurve.y).toHaveLength(21);
    expect(per.rows.some((r: { method: string }) => r.method === 'gradcam|occlusion')).toBe(true);
    expect(per.tags.deletion).toMatchObject({ higherIsBetter: false, category: 'faithfulness' });
    const s = summary.summary.find((r: { method: string; metric: string }) => r.method === 'gradcam' && r.metric === 'deletion');
    expect(s.n).toBe(3);
    expect(s.shareBeatingControl).not.toBeNull();
    const summaryCsv = (await readFile(path.join(out, 'summary.csv'), 'utf8')).trim().split('\n');
    expect(summaryCsv).toHaveLength(1 + summary.summary.length);
    // The same seed gives the same numbers.
    const out2 = await mkdtemp(path.join(tmpdir(), 'eval-'));
    expect(await main(['evaluate', files[0], '--model', 'builtin:known-evidence', '--method', 'gradcam', '--metric', 'deletion',
      '--set', 'deletion.steps=20', '--score', 'logit', '--seed', '5', '--out', out2])).toBe(0);
    const again = JSON.parse(await readFile(path.join(out2, 'per-image.json'), 'utf8'));
    const first = per.rows.find((r: { image: string; method: string; metric: string }) => r.image === files[0] && r.method === 'gradcam' && r.metric === 'deletion');
    expect(again.rows[0].value).toBe(first.value);
    expect(again.rows[0].curve).toEqual(first.curve);
  }, 180_000);

  it('bad usage gets a clear error', async () => {
    const samples = builtinSamplesDir('known-evidence');
    const out = await mkdtemp(path.join(tmpdir(), 'eval-'));
    const errors: string[] = [];
    const orig = console.error;
    console.error = (m: string) => { errors.push(String(m)); };
    try {
      expect(await main(['evaluate', samples, '--model', 'builtin:known-evidence', '--metric', 'nope', '--out', out])).toBe(2);
      expect(await main(['evaluate', samples, '--model', 'builtin:known-evidence', '--metric', 'pointing-game', '--out', out])).toBe(2);
      expect(await main(['evaluate', samples, '--model', 'builtin:known-evidence', '--metric', 'spearman', '--out', out])).toBe(2);
    } finally {
      console.error = orig;
    }
    expect(errors.join('\n')).toMatch(/unknown metric "nope" \(known: deletion/);
    expect(errors.join('\n')).toMatch(/pointing-game need --boxes/);
    expect(errors.join('\n')).toMatch(/at least two/);
  });
});
