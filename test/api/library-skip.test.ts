// A library job skips the maps that already exist — but only maps of the same settings, seed and app version: a map
// made with other settings (typed in the settings panel) or by other code is another map, computed, never passed
// off as the requested one.
import { describe, expect, it } from 'vitest';
import { HAS_DATA } from '../helpers/data.ts';
import { NO_CLOCK } from '../helpers/demo-image.ts';
import { withRealLibrary } from './real-library.ts';

const FILES = ['n01440764_tench.JPEG', 'n01443537_goldfish.JPEG'];

describe.skipIf(!HAS_DATA)('library job: existing maps are skipped only for the same settings and seed (real SqueezeNet)', () => {
  it('re-runs with new settings or seed, skips with the same', async () => {
    await withRealLibrary(FILES, async (api, libraryId) => {
      const occlusionMaps = async () => {
        const { items } = await api.call('images.list', { libraryId, filter: {} });
        const all = await Promise.all(items.map(async (it) => (await api.call('image.get', { imageId: it.id })).explanations.filter((e) => e.method === 'occlusion')));
        return all.map((es) => es.map((e) => `${e.settings.window}/${e.settings.stride}`).sort());
      };
      const start = async (window: number, seed = 0) => {
        const job = await api.call('jobs.start', { libraryId, methods: ['occlusion'], seed, settings: { occlusion: { window, stride: window } } });
        await api.jobs.idle();
        return job.label;
      };
      expect(await start(112)).not.toMatch(/nothing new/);
      expect(await occlusionMaps()).toEqual([['112/112'], ['112/112']]);
      expect(await start(112)).toMatch(/nothing new to do/);
      // other settings: computed for every image, the earlier maps kept beside them
      expect(await start(224)).not.toMatch(/nothing new/);
      expect(await occlusionMaps()).toEqual([['112/112', '224/224'], ['112/112', '224/224']]);
      expect(await start(224)).toMatch(/nothing new to do/);
      // another seed is another run
      expect(await start(224, 5)).not.toMatch(/nothing new/);
      // maps stored by another app version (code that may make another map under the same settings) are not reused
      api.store.db.prepare('UPDATE runs SET app_version = ? WHERE seed = 5').run('0.0.1-older');
      expect(await start(224, 5)).not.toMatch(/nothing new/);
      expect(await start(224, 5)).toMatch(/nothing new to do/);
    });
  }, NO_CLOCK);
});
