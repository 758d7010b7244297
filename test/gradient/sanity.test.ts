// The model-randomisation sanity check (Adebayo et al. 2018) runs for the gradient methods too: each randomised copy
// of the model (loaded from memory) gets its own backward graph. Printed: the Spearman correlation with the
// original map after each cascading step; a method passes when its map decorrelates (mean correlation < 0.5).
import { describe, expect, it } from 'vitest';
import { NO_CLOCK, useDemoImage } from '../helpers/demo-image.ts';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { builtinSamplesDir, resolveModelSpec } from '../../src-main/engine/model/builtin.ts';
import { prepareImageFile } from '../../src-main/engine/image/prepare.ts';
import { getExplainer } from '../../src-main/engine/explain/registry.ts';
import { getMetric } from '../../src-main/engine/metrics/registry.ts';
import type { PreparedImage } from '../../src-main/engine/explain/types.ts';
import type { Target } from '../../src-main/engine/types.ts';
import { argmax } from '../../src-main/engine/util/math.ts';
import { releaseGradientGraphs } from '../../src-main/engine/model/autodiff/gradient-scheduler.ts';


const METHODS: [string, Record<string, unknown>][] = [
  ['saliency', {}], ['inputxgradient', {}], ['integratedgradients', { steps: 16 }], ['smoothgrad', { samples: 8 }],
  ['gradcam', { layer: 'relu2' }], ['gradcampp', {}], ['layercam', {}], ['xgradcam', {}],
];

describe('model-randomisation sanity check for gradient methods (builtin:demo)', () => {
  const demo = useDemoImage(1);

  for (const [name, partial] of METHODS) {
    it(name, async () => {
      const { model, image, target } = demo;
      const explainer = getExplainer(name);
      const settings = explainer.settings(partial);
      const e = await explainer.explain(image, target, settings, 1, { model });
      const metric = getMetric('model-randomisation');
      const r = await metric.compute({ image, target, map: e.map, model, explainer: { explainer, settings, seed: 1 } }, metric.settings({}), 7);
      const ys = r.curve!.y;
      console.log(`${name}: Spearman with the original after each randomisation step ${ys.map((v) => v.toFixed(2)).join(' ')}; mean ${r.value.toFixed(3)} -> ${r.value < 0.5 ? 'passes' : 'does not pass'}`);
      expect(ys.length).toBeGreaterThan(1);
      expect(ys.every((v) => v >= -1 && v <= 1)).toBe(true);
      // The randomised models' own backward graphs were used (a stale cached graph would give correlation 1).
      expect(Math.min(...ys)).toBeLessThan(0.9);
    }, NO_CLOCK);
  }
});
