// One builtin:demo model and one of its sample digits with its top-1 logit target, loaded before a suite's tests
// and released after (the gradient tests share this setup).
import { afterAll, beforeAll } from 'vitest';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { builtinSamplesDir, resolveModelSpec } from '../../src-main/engine/model/builtin.ts';
import { prepareImageFile } from '../../src-main/engine/image/prepare.ts';
import type { PreparedImage } from '../../src-main/engine/explain/types.ts';
import type { Target } from '../../src-main/engine/types.ts';
import { argmax } from '../../src-main/engine/util/math.ts';
import { releaseGradientGraphs } from '../../src-main/engine/model/autodiff/gradient-scheduler.ts';

/** Real models on a shared, loaded machine: no clock limit (the largest timer setTimeout accepts). */
export const NO_CLOCK = 2_147_483_647;

export interface DemoImage { model: Classifier; image: PreparedImage; target: Target }

/** Registers beforeAll/afterAll hooks; the returned object is filled in before the first test runs. */
export function useDemoImage(sampleIndex: number): DemoImage {
  const ctx = {} as DemoImage;
  beforeAll(async () => {
    ctx.model = await Classifier.load(resolveModelSpec('builtin:demo'));
    const dir = builtinSamplesDir('demo');
    ctx.image = (await prepareImageFile(path.join(dir, readdirSync(dir).sort()[sampleIndex]), ctx.model)).prepared;
    ctx.target = { classIndex: argmax((await ctx.model.predict([ctx.image.input])).logits), score: 'logit' };
  }, NO_CLOCK);
  afterAll(async () => { await releaseGradientGraphs(); await ctx.model.dispose(); });
  return ctx;
}
