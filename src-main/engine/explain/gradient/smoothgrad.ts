// SmoothGrad (Smilkov et al. 2017) as Captum's NoiseTunnel over Saliency (absolute gradients): the mean over
// `samples` noisy copies x + N(0, sigma^2) of |d score / d input| ('smoothgrad'), of its square ('smoothgrad_sq'),
// or its variance ('vargrad', Adebayo et al. 2018). sigma = noise * 255 in pixel units, i.e. noise as a fraction of
// the input range, as the paper recommends (10-20%; default 0.15); Captum's stdevs is in the units of the
// normalised tensor instead (default 1.0). Default 50 samples as the paper (Captum's nt_samples default is 5).
// The noisy inputs are not clipped (as Captum). Progressive: a partial map after each batch, with its
// convergence (issue 18): the running standard error of the attribution estimate per input element (the mean of
// |g|, or of g^2 for smoothgrad_sq, over the samples so far), summarised as the relative SE = RMS SE / SD of the
// estimate (convergence.ts, as RISE), and Spearman / top-10% IoU of the map against the previous partial map.
// samples=auto stops at the first batch (from SMOOTHGRAD_AUTO_MINIMUM samples) where relative SE <= precision;
// the hard cap is `samples`. VarGrad reports rank stability only (its SE is not estimated) and refuses auto.
import type { Explainer, Explanation, ExplainContext, PreparedImage } from '../types.ts';
import type { Map2D, Target } from '../../types.ts';
import { SaliencyError } from '../../types.ts';
import { checkTarget } from '../cam/base-cam.ts';
import { intSetting, numberSetting } from '../check-settings.ts';
import { Random } from '../../util/random.ts';
import { inputGradients, reduceChannels, reduceSetting, type ChannelReduce } from './input-gradients.ts';
import { ANYTIME_SWITCHES, readAnytime, relativeSE, stability, stopRuleText, type AnytimeSettings, type AutoOutcome, type ConvergenceCheck } from '../perturb/convergence.ts';

export const SMOOTHGRAD_TYPES = ['smoothgrad', 'smoothgrad_sq', 'vargrad'] as const;
export type SmoothGradType = typeof SMOOTHGRAD_TYPES[number];
export type SmoothGradSettings = { samples: number; noise: number; type: SmoothGradType; channels: ChannelReduce } & AnytimeSettings & Record<string, unknown>;

/** Default precision of samples=auto (relative SE of the estimate), chosen on tuning images (README). */
export const SMOOTHGRAD_AUTO_PRECISION = 0.5;
/** samples=auto never stops before this many samples. */
export const SMOOTHGRAD_AUTO_MINIMUM = 10;

export class SmoothGrad implements Explainer<SmoothGradSettings> {
  readonly name = 'smoothgrad';
  readonly switches = ANYTIME_SWITCHES;
  readonly description = 'SmoothGrad (absolute gradients averaged over noisy copies; also squared and VarGrad)';

  settings(partial: Partial<SmoothGradSettings>): SmoothGradSettings {
    const type = partial.type ?? 'smoothgrad';
    if (!SMOOTHGRAD_TYPES.includes(type as SmoothGradType)) throw new SaliencyError(`smoothgrad: type must be one of ${SMOOTHGRAD_TYPES.join(', ')} (got ${JSON.stringify(type)})`, 'BAD_SETTING');
    const { budget, anytime } = readAnytime(this.name, 'samples', partial, SMOOTHGRAD_AUTO_PRECISION);
    if (anytime.auto && type === 'vargrad') throw new SaliencyError('smoothgrad: samples=auto needs type smoothgrad or smoothgrad_sq (VarGrad\'s standard error is not estimated)', 'BAD_SETTING');
    return {
      ...anytime,
      samples: intSetting(this.name, 'samples', budget, 50, 1, 10000),
      noise: numberSetting(this.name, 'noise', partial.noise, 0.15, 0, 10),
      type: type as SmoothGradType,
      channels: reduceSetting(this.name, partial.channels, 'max-abs'),
    };
  }

  async explain(image: PreparedImage, target: Target, settings: SmoothGradSettings, seed: number, ctx: ExplainContext): Promise<Explanation> {
    const t0 = performance.now();
    checkTarget(ctx.model, target);
    const rng = new Random(seed);
    const sigma = settings.noise * 255;
    const x = image.input;
    const N = settings.samples;
    // drawn chunk by chunk in order: the same noise as drawing all first, without holding N images
    const take = (start: number, end: number) => Array.from({ length: end - start }, () => ({ ...x, data: Float32Array.from(x.data, (v) => v + sigma * rng.normal()) }));
    let sum: Float64Array | undefined;
    let sumSq: Float64Array | undefined;
    let sum4: Float64Array | undefined; // of a^4, for the standard error of smoothgrad_sq's mean of a^2
    let n = 0;
    const value = (i: number) => {
      const mean = sum![i] / n;
      if (settings.type === 'smoothgrad') return mean;
      const meanSq = sumSq![i] / n;
      return settings.type === 'smoothgrad_sq' ? meanSq : meanSq - mean * mean;
    };
    /** Relative SE of the per-element estimate (null for VarGrad, or before 2 samples). */
    const relSE = (est: Float64Array): number | null => {
      if (settings.type === 'vargrad' || n < 2) return null;
      const [s1, s2] = settings.type === 'smoothgrad' ? [sum!, sumSq!] : [sumSq!, sum4!];
      const se = Float64Array.from(est, (m, i) => Math.sqrt(Math.max(0, s2[i] / n - (s1[i] / n) ** 2) / (n - 1)));
      return relativeSE(se, est);
    };
    const auto = settings.auto === true;
    const convergence: (ConvergenceCheck & { samples: number })[] = [];
    let previous: Map2D | null = null; // the last check's map (the final map: nothing is scored after the last check)
    let every = 0; // samples per check: the gradient batch
    const check = (est: Float64Array) => {
      const map = reduceChannels(ctx.model, est, settings.channels);
      const rel = relSE(est);
      convergence.push({ samples: n, relativeSE: rel, ...stability(previous?.data ?? null, map.data) });
      previous = map;
      return { map, rel };
    };
    const done = await inputGradients(ctx.model, { total: N, take }, target, ctx, (_, results) => {
      every ||= results.length;
      for (const r of results) {
        const g = r.grads.input;
        sum ??= new Float64Array(g.length);
        sumSq ??= new Float64Array(g.length);
        if (settings.type === 'smoothgrad_sq') sum4 ??= new Float64Array(g.length);
        for (let i = 0; i < g.length; i++) { const a = Math.abs(g[i]); const a2 = a * a; sum[i] += a; sumSq[i] += a2; if (sum4) sum4[i] += a2 * a2; }
        n++;
      }
      const { map, rel } = check(Float64Array.from(sum!, (_, i) => value(i)));
      const c = convergence.at(-1)!;
      const note = `relative SE ${rel === null ? '–' : rel.toFixed(3)}${c.spearman === null ? '' : `, Spearman ${c.spearman.toFixed(3)}, top-10% IoU ${c.topKIoU!.toFixed(2)} vs the previous map`}`;
      return { partial: map, note, stop: auto && n >= SMOOTHGRAD_AUTO_MINIMUM && n < N && rel !== null && rel <= settings.precision! };
    }, 'noisy samples');
    // Every batch ends in a check and nothing is scored after the last one, so its map is the final map.
    const last = previous as Map2D | null;
    const map = last && convergence.at(-1)!.samples === n ? last : reduceChannels(ctx.model, Float64Array.from(sum!, (_, i) => value(i)), settings.channels);
    const finalRelativeSE = convergence.at(-1)?.relativeSE ?? null;
    const outcome: AutoOutcome | null = auto
      ? { rule: stopRuleText('attribution', settings.precision!, N, every, SMOOTHGRAD_AUTO_MINIMUM), precision: settings.precision!, cap: N, evaluations: done, finalRelativeSE, stoppedEarly: done < N }
      : null;
    return {
      method: this.name, target, map, evaluations: done, settings, seed,
      extras: { sigma, backward: true, convergence, finalRelativeSE, ...(outcome ? { auto: outcome } : {}) },
      millis: performance.now() - t0,
    };
  }
}
