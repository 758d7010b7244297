import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensembleWeights } from '../../src-main/cli/commands/ensemble-weights.ts';
import { checkWeightSet } from '../../src-main/engine/ensemble/weights/weight-set.ts';
import type { WeightSet } from '../../src-main/engine/ensemble/types.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'ensemble-weights-'));
const file = (name: string, text: string) => { const p = path.join(dir, name); writeFileSync(p, text); return p; };
const read = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

describe('saliency ensemble-weights', () => {
  it('--from metrics: deletion (lower better) and insertion (higher better) -> weights with provenance', async () => {
    const csv = file('m.csv', 'method,metric,value,higherIsBetter,image\ngradcam,deletion,0.10,false,a\nlime,deletion,0.20,false,a\nrise,deletion,0.30,false,a\n'
      + 'gradcam,insertion,0.60,true,a\nlime,insertion,0.50,true,a\nrise,insertion,0.40,true,a\n');
    const out = path.join(dir, 'w.json');
    expect(await ensembleWeights.run(['--from', 'metrics', '--in', csv, '--out', out, '--transform', 'rank'])).toBe(0);
    const w = checkWeightSet(read(out));
    expect(w.source).toBe('metrics');
    expect(w.weights).toEqual({ gradcam: 3 / 6, lime: 2 / 6, rise: 1 / 6 });
    expect(w.provenance).toMatchObject({ scope: 'set', transform: 'rank', rows: 6 });
    expect(await ensembleWeights.run(['--from', 'metrics', '--in', csv, '--out', out, '--per', 'image'])).toBe(0);
    expect((read(out) as WeightSet[]).map((s) => s.name)).toEqual(['metrics-image-a']);
  });

  it('--from ratings: pairwise choices (Bradley-Terry) and Likert scores are told apart by their columns', async () => {
    const out = path.join(dir, 'r.json');
    const pairs = file('p.json', JSON.stringify([...Array(3).fill({ a: 'lime', b: 'rise', winner: 'A' }), { a: 'lime', b: 'rise', winner: 'B' }]));
    expect(await ensembleWeights.run(['--from', 'ratings', '--in', pairs, '--out', out])).toBe(0);
    const bt = read(out) as WeightSet;
    expect(bt.weights.lime).toBeCloseTo(0.75, 6);
    expect(bt.provenance).toMatchObject({ kind: 'pairwise', comparisons: 4 });
    const likert = file('l.csv', 'method,score\nlime,7\nrise,4\n');
    expect(await ensembleWeights.run(['--from', 'ratings', '--in', likert, '--out', out, '--scale', '1,7'])).toBe(0);
    expect((read(out) as WeightSet).weights).toEqual({ lime: 6 / 9, rise: 3 / 9 });
  });

  it('--from manual, and clear errors for bad usage', async () => {
    const out = path.join(dir, 'h.json');
    expect(await ensembleWeights.run(['--from', 'manual', '--in', file('h.json.in', '{"gradcam": 3, "lime": 1}'), '--out', out, '--note', 'pilot'])).toBe(0);
    expect(read(out)).toMatchObject({ source: 'manual', weights: { gradcam: 0.75, lime: 0.25 }, provenance: { note: 'pilot' } });
    await expect(ensembleWeights.run(['--from', 'vibes', '--in', out, '--out', out])).rejects.toThrow(/--from must be metrics, ratings or manual/);
    await expect(ensembleWeights.run(['--from', 'ratings', '--in', file('x.csv', 'foo,bar\n1,2\n'), '--out', out])).rejects.toThrow(/ratings need columns a,b,winner/);
    await expect(ensembleWeights.run(['--from', 'metrics', '--in', path.join(dir, 'missing.csv'), '--out', out])).rejects.toThrow(/--in .*missing\.csv: no such file or folder/);
  });
});
