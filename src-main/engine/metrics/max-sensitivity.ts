// Max-sensitivity (Yeh et al. 2019, as in Quantus): re-run the explainer on inputs perturbed by uniform noise
// within radius r (in 0..255 pixel units, per value), and report the largest relative change of the map,
//   max_i || e(x + d_i) - e(x) ||_2 / || e(x) ||_2,   d_i ~ U[-r, r]^n,
// over `samples` draws. The explainer re-runs with its own seed, so the noise is the only change. Lower is better.
import { SaliencyError } from '../types.ts';
import type { PlanarImage } from '../types.ts';
import { defineMetric, intSetting, numSetting } from './define.ts';
import { Random } from '../util/random.ts';

export type MaxSensitivitySettings = { radius: number; samples: number };

export const maxSensitivity = defineMetric<MaxSensitivitySettings>({
  name: 'max-sensitivity',
  description: 'Max-sensitivity (Yeh et al.): largest relative L2 change of the map when the explainer re-runs on inputs with uniform noise of radius r (default 8 of 255). Lower is better.',
  tags: { higherIsBetter: false, category: 'robustness', needs: { model: true, annotations: false, explainerReruns: true, referenceMap: false } },
  settings: (p) => ({ radius: numSetting(p.radius, 8, 'radius', 0, 255), samples: intSetting(p.samples, 10, 'samples', 1, 1000) }),
  async run(input, map, s, seed) {
    const { explainer, settings, seed: explainerSeed } = input.explainer!;
    let norm = 0;
    for (const v of map.data) norm += v * v;
    norm = Math.sqrt(norm);
    if (!(norm > 0)) throw new SaliencyError('max-sensitivity: the map is all zeros, so relative change is undefined', 'BAD_INPUT');
    const changes: number[] = [];
    for (let i = 0; i < s.samples; i++) {
      if (input.signal?.aborted) throw new SaliencyError('cancelled', 'CANCELLED');
      const random = Random.derive(seed, `max-sensitivity-${i}`);
      const src = input.image.input;
      const data = new Float32Array(src.data.length);
      for (let j = 0; j < data.length; j++) data[j] = Math.min(255, Math.max(0, src.data[j] + (2 * random.next() - 1) * s.radius));
      const perturbed: PlanarImage = { width: src.width, height: src.height, data };
      const e = await explainer.explain({ ...input.image, id: `${input.image.id}~max-sensitivity-${seed}-${i}`, input: perturbed },
        input.target, settings, explainerSeed, { model: input.model!, signal: input.signal });
      if (e.map.width !== map.width || e.map.height !== map.height) throw new SaliencyError('max-sensitivity: the re-run map has a different size', 'BAD_INPUT');
      let d = 0;
      for (let j = 0; j < map.data.length; j++) d += (e.map.data[j] - map.data[j]) ** 2;
      changes.push(Math.sqrt(d) / norm);
      input.onProgress?.((i + 1) / s.samples);
    }
    return {
      value: Math.max(...changes),
      curve: { x: changes.map((_, i) => i), y: changes, xLabel: 'perturbation sample', yLabel: 'relative L2 change of the map' },
      extras: { mean: changes.reduce((a, b) => a + b, 0) / changes.length },
    };
  },
});
