// Bad settings, bad targets, unknown names and cancellation give clear SaliencyErrors naming the problem.
import { beforeAll, describe, expect, it } from 'vitest';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { getExplainer } from '../../src-main/engine/explain/registry.ts';
import type { PreparedImage } from '../../src-main/engine/explain/types.ts';
import { SaliencyError } from '../../src-main/engine/types.ts';
import { gapEvidenceModelBytes, twoSquaresImage, SIZE } from './gap-evidence-model.ts';
import { identityTransform } from '../helpers/prepared.ts';

let model: Classifier;
const image: PreparedImage = {
  id: 'two-squares',
  input: twoSquaresImage(),
  transform: identityTransform(SIZE),
};
const target = { classIndex: 0, score: 'logit' as const };

beforeAll(async () => {
  model = await Classifier.load({ bytes: gapEvidenceModelBytes(), name: 'gap-evidence' }, { batchSize: 16 });
});

function settingsError(method: string, partial: Record<string, unknown>): SaliencyError {
  try {
    getExplainer(method).settings(partial);
  } catch (e) {
    expect(e).toBeInstanceOf(SaliencyError);
    expect((e as SaliencyError).code).toBe('BAD_SETTING');
    return e as SaliencyError;
  }
  throw new Error(`${method} accepted ${JSON.stringify(partial)}`);
}

describe('settings are validated with clear errors', () => {
  it('defaults are the documented ones', () => {
    expect(getExplainer('rise').settings({})).toMatchObject({ masks: 4000, cells: 7, p: 0.5, progressEvery: 500 });
    expect(getExplainer('occlusion').settings({})).toMatchObject({ window: 32, stride: 16, baseline: 'mean' });
    expect(getExplainer('partitionshap').settings({})).toMatchObject({ maxEvals: 500, baseline: 'blur' });
    expect(getExplainer('scorecam').settings({})).toMatchObject({ topK: 0, relu: true }); // 0 = every channel, as pytorch-grad-cam
    expect(getExplainer('ablationcam').settings({})).toMatchObject({ relu: true });
  });

  it('rejects impossible values, naming the method and setting', () => {
    expect(settingsError('rise', { masks: 0 }).message).toMatch(/rise: masks must be a whole number between 1 and 100000 \(got 0\)/);
    expect(settingsError('rise', { masks: 1e8 }).message).toMatch(/rise: masks must be a whole number between 1 and 100000 \(got 100000000\)/);
    expect(settingsError('rise', { masks: 2.5 }).message).toMatch(/masks/);
    expect(settingsError('rise', { p: 1 }).message).toMatch(/rise: p must be a number in \(0, 1\)/);
    expect(settingsError('rise', { cells: 0 }).message).toMatch(/cells/);
    expect(settingsError('rise', { baseline: 'purple' }).message).toMatch(/baseline "purple" is not one of/);
    expect(settingsError('occlusion', { window: 8, stride: 9 }).message).toMatch(/stride \(9\) must not exceed window \(8\)/);
    expect(settingsError('occlusion', { window: -1 }).message).toMatch(/occlusion: window/);
    expect(settingsError('partitionshap', { maxEvals: 2 }).message).toMatch(/partitionshap: maxEvals must be a whole number between 4 and 100000/);
    expect(settingsError('partitionshap', { baseline: 'segment-mean' }).message).toMatch(/needs superpixels/);
    expect(settingsError('scorecam', { topK: -1 }).message).toMatch(/scorecam: topK must be a whole number of at least 0/);
  });

  it('rejects settings that do not fit the image', async () => {
    const rise = getExplainer('rise');
    await expect(rise.explain(image, target, rise.settings({ cells: 100, masks: 4 }), 1, { model })).rejects.toThrow(/rise: cells is 100, more than the 64 pixels/);
    const occ = getExplainer('occlusion');
    await expect(occ.explain(image, target, occ.settings({ window: 65 }), 1, { model })).rejects.toThrow(/occlusion: window \(65\) is larger than the 64x64 image/);
  });

  it('rejects a target class out of range, for every method', async () => {
    for (const name of ['rise', 'occlusion', 'partitionshap', 'scorecam', 'ablationcam']) {
      const e = getExplainer(name);
      await expect(e.explain(image, { classIndex: 2, score: 'logit' }, e.settings({ masks: 4, maxEvals: 8 }), 1, { model }), name)
        .rejects.toThrow(/target class 2 is out of range: the model has classes 0..1/);
    }
  });

  it('an unknown method lists the known ones', () => {
    expect(() => getExplainer('rice')).toThrow(/unknown explanation method "rice"; known methods: .*partitionshap, rise, occlusion, scorecam, ablationcam/);
  });

  it('a cancelled run rejects with CANCELLED', async () => {
    for (const name of ['rise', 'occlusion', 'partitionshap', 'scorecam']) {
      const e = getExplainer(name);
      const ac = new AbortController();
      const run = e.explain(image, target, e.settings({ masks: 2000, window: 4, stride: 1, maxEvals: 2000 }), 1, {
        model, signal: ac.signal, onProgress: () => ac.abort(),
      });
      if (name === 'scorecam') ac.abort(); // only 2 channels: abort before the masked inputs are scored
      await expect(run, name).rejects.toMatchObject({ code: 'CANCELLED' });
    }
  });
});
