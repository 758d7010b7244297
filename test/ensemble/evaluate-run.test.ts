// issue 20: `saliency evaluate --ensemble` reproduces, bit for bit, the ensemble maps and metric values that
// `saliency run --ensemble` stores (same seed, same settings, weighted ensemble with a --weights file), on the
// real SqueezeNet; and `saliency ensemble-compare` scores on test images only, with weightings fitted on
// disjoint training images (an overlap is refused).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HAS_DATA, MODELS, manifest, model, sample } from '../helpers/data.ts';
import { runCli } from '../helpers/cli.ts';
import { openStore } from '../../src-main/engine/store/store.ts';
import { decodeNpy } from '../../src-main/engine/io/npy.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'ensemble-evaluate-run-'));
const SETS = ['--set', 'rise.masks=40', '--set', 'deletion.steps=4', '--set', 'deletion.controlSamples=1'];
const COMMON = ['--model', model(MODELS.squeezenet), '--method', 'gradcam,ablationcam,rise', '--ensemble', 'mean,variance,weighted', '--metric', 'deletion', '--seed', '3', ...SETS];

describe.skipIf(!HAS_DATA)('ensembles: evaluate --ensemble = run --ensemble; ensemble-compare', () => {
  it('evaluate --ensemble reproduces bit for bit the ensemble maps and scores that run --ensemble stores', { timeout: 0 }, async () => {
    const rows = await manifest();
    const lib = path.join(dir, 'lib');
    mkdirSync(lib);
    const files = [rows[100].filename, rows[500].filename];
    for (const f of files) copyFileSync(sample(f), path.join(lib, f));
    const weights = path.join(dir, 'w.json');
    writeFileSync(weights, JSON.stringify({ gradcam: 2, ablationcam: 1, rise: 0.5 }));
    const db = path.join(dir, 'db.sqlite');
    const run = await runCli(['run', '--library', lib, ...COMMON, '--weights', weights, '--db', db, '--workers', '1']);
    expect(run.code, run.stderr).toBe(0);
    const out = path.join(dir, 'eval');
    const maps = path.join(dir, 'maps');
    const ev = await runCli(['evaluate', ...files.map((f) => path.join(lib, f)), ...COMMON, '--weights', weights, '--out', out, '--save-maps', maps]);
    expect(ev.code, ev.stderr).toBe(0);
    const evRows = (JSON.parse(readFileSync(path.join(out, 'per-image.json'), 'utf8')) as { rows: { image: string; method: string; metric: string; value: number; control: number }[] }).rows;

    const store = openStore(db);
    try {
      let compared = 0;
      for (const e of store.explanations.list().filter((x) => x.method.startsWith('ensemble:'))) {
        const stored = store.explanations.get(e.id)!;
        const file = path.basename(store.images.get(e.imageId)!.path);
        const { data } = decodeNpy(readFileSync(path.join(maps, file.replace(/\.[^.]+$/, ''), `${e.method.replace(':', '-')}.npy`)));
        expect(data.length).toBe(stored.map.data.length);
        expect(Buffer.from(data.buffer, data.byteOffset, data.byteLength).equals(Buffer.from(stored.map.data.buffer, stored.map.data.byteOffset, stored.map.data.byteLength)), `${e.method} map of ${file}`).toBe(true);
        const [m] = store.metrics.list({ explanationId: e.id, name: 'deletion' });
        const r = evRows.find((x) => path.basename(x.image) === file && x.method === e.method && x.metric === 'deletion')!;
        expect(r, `${e.method} deletion row of ${file}`).toBeDefined();
        expect(r.value).toBe(m.value);
        expect(r.control).toBe(m.randomValue);
        if (e.method === 'ensemble:weighted') expect((stored.settings.weights as Record<string, number>).gradcam).toBeCloseTo(2 / 3.5, 12);
        compared++;
      }
      expect(compared).toBe(6); // 2 images x mean, variance, weighted
    } finally {
      store.close();
    }
  });

  it('ensemble-compare: fitted on training images, scored on disjoint test images; an overlap is refused', { timeout: 0 }, async () => {
    const rows = await manifest();
    const test = [rows[10], rows[300], rows[600]].map((r) => sample(r.filename));
    const train = [rows[150], rows[450]].map((r) => sample(r.filename));
    const base = ['--model', model(MODELS.squeezenet), '--method', 'gradcam,ablationcam,rise', '--set', 'rise.masks=30', '--set', 'deletion.steps=3', '--set', 'insertion.steps=3',
      '--set', 'deletion.controlSamples=1', '--set', 'insertion.controlSamples=1', '--weightings', 'mean,metric-softmax,stacking,ratings-bt,median'];
    const overlap = await runCli(['ensemble-compare', ...test, '--train', train[0], '--train', test[1], ...base, '--out', path.join(dir, 'bad')]);
    expect(overlap.code).toBe(2);
    expect(overlap.stderr).toMatch(/training and test images overlap/);
    const out = path.join(dir, 'cmp');
    const r = await runCli(['ensemble-compare', ...test, ...train.flatMap((t) => ['--train', t]), ...base, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(readFileSync(path.join(out, 'ensemble-compare.json'), 'utf8'));
    expect(res.splits).toHaveLength(1);
    expect(res.splits[0].train).toEqual(train);
    expect(res.perImage.map((p: { image: string }) => p.image)).toEqual(test);
    for (const p of res.perImage) expect(res.splits[0].train).not.toContain(p.image);
    // the weights were fitted on the training images and say so
    expect(res.splits[0].fits.stacking.weightSet.provenance.fittedOn).toEqual(train);
    expect(Object.keys(res.splits[0].fits['metric-softmax'].weightSet.weights).sort()).toEqual(['ablationcam', 'gradcam', 'rise']);
    // every weighting vs the mean and vs the best member (chosen on the training images), Holm over all
    expect(res.comparisons).toHaveLength(4 + 5);
    for (const c of res.comparisons) {
      expect(c.n).toBe(3);
      expect(c.pHolm).toBeGreaterThanOrEqual(c.p);
      expect(c.better + c.worse).toBeLessThanOrEqual(3);
    }
    const best = res.splits[0].bestMember;
    const trainGain = res.splits[0].trainMemberGain;
    expect(Math.max(...Object.values(trainGain) as number[])).toBe(trainGain[best]);
    for (const p of res.perImage) expect(p.bestMember).toBe(p.gains[`member:${best}`]);
    // k folds: every image is tested once
    const cv = await runCli(['ensemble-compare', ...test, ...train, ...base, '--folds', '5', '--out', path.join(dir, 'cv'), '--weightings', 'mean,median']);
    expect(cv.code, cv.stderr).toBe(0);
    const cvRes = JSON.parse(readFileSync(path.join(dir, 'cv', 'ensemble-compare.json'), 'utf8'));
    expect(cvRes.perImage.map((p: { image: string }) => p.image).sort()).toEqual([...test, ...train].sort());
  });
});
