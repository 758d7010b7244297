// Does an ensemble beat the plain mean, and the best single member? (issue 20). For each split of the images
// (one train/test split, or k folds over images), every weighting is FITTED ON THE TRAINING IMAGES ONLY
// (weights recorded with their provenance), the best member is the member with the best mean objective on the
// training images, and everything is scored on the test images, which never took part in a choice. The
// objective is insertion - deletion AUC (both on the target's probability, docs/protocol.md). Per image the
// random-map control is scored once (its insertion - deletion), so every figure has its chance level.
// Comparisons are paired over test images (engine/stats): bootstrap 95% interval of the mean difference,
// sign-flip p-value, Holm adjustment over all comparisons of the run, the verdict, and the images better.
import type { Explanation } from '../explain/types.ts';
import { SaliencyError } from '../types.ts';
import { bootstrapMeanCI, holm, pairedDifferences, signFlipPValue, verdictText, winnerOf } from '../stats/index.ts';
import { buildEnsemble, prepareStack } from './build.ts';
import type { EnsembleSpec, WeightSet } from './types.ts';
import { weightsFromMetrics, type MetricRow } from './weights/from-metrics.ts';
import { weightsFromPairwise } from './weights/bradley-terry.ts';
import { weightsFromLikert } from './weights/likert.ts';
import { memberSignals, signalWeights, type SignalCoefficients } from './weights/signals.ts';
import { simulateRatings } from './weights/simulated-raters.ts';
import { fitStacking } from './weights/stacking.ts';

/** One image's member explanations (same class) and the model's confidence in that class. */
export interface ImageMembers { image: string; members: Explanation[]; confidence: number }

export interface Faithfulness { deletion: number; insertion: number }
/** Scores a map of an image (deletion and insertion AUC on the target's probability, no control). */
export type ScoreMap = (image: string, map: Explanation['map']) => Promise<Faithfulness>;
/** The random-map control of an image (the same random maps for every map of the image). */
export type ScoreControl = (image: string) => Promise<Faithfulness>;

export const gain = (f: Faithfulness) => f.insertion - f.deletion;

export interface Split { train: string[]; test: string[] }

/** A weighting, fitted on training images: gives each image's ensemble spec. */
export interface Fitted { spec: (img: ImageMembers) => EnsembleSpec; provenance: Record<string, unknown> }
export interface FitContext {
  train: ImageMembers[];
  /** Members' faithfulness per training image (method -> scores). */
  memberScores: Map<string, Record<string, Faithfulness>>;
  /** Mean objective over the training images of the ensembles a spec gives (scores new maps). */
  trainObjective: (spec: (img: ImageMembers) => EnsembleSpec) => Promise<number>;
  seed: number;
}
export interface Weighting { name: string; description: string; fit: (ctx: FitContext) => Promise<Fitted> }

const fixed = (spec: EnsembleSpec, note: string): Weighting['fit'] => async () => ({ spec: () => spec, provenance: { fitted: false, note } });

const metricRowsOf = (ctx: FitContext): MetricRow[] => [...ctx.memberScores].flatMap(([image, byMethod]) => Object.entries(byMethod).flatMap(([method, f]) => [
  { method, metric: 'deletion', value: f.deletion, higherIsBetter: false, image },
  { method, metric: 'insertion', value: f.insertion, higherIsBetter: true, image },
]));

const withWeights = (set: WeightSet): Fitted => ({ spec: () => ({ combiner: 'weighted', weights: set }), provenance: { weightSet: set } });

/** Per-image signal weights with the coefficients that did best on the training images (from a small grid). */
async function fitSignals(ctx: FitContext, grid: SignalCoefficients[], name: string): Promise<Fitted> {
  const specOf = (k: SignalCoefficients) => (img: ImageMembers): EnsembleSpec => {
    const stack = prepareStack(img.members, {});
    const w = signalWeights(memberSignals(stack), k);
    return { combiner: 'weighted', weights: { name: `${name}-${img.image}`, source: 'metrics', weights: Object.fromEntries(stack.methods.map((m, i) => [m, w[i]])), provenance: { signals: k } } };
  };
  const tried: { k: SignalCoefficients; objective: number }[] = [];
  for (const k of grid) tried.push({ k, objective: await ctx.trainObjective(specOf(k)) });
  const best = tried.reduce((a, b) => (b.objective > a.objective ? b : a));
  return { spec: specOf(best.k), provenance: { fittedOn: ctx.train.map((t) => t.image), coefficients: best.k, tried } };
}

export const WEIGHTINGS: Weighting[] = [
  { name: 'mean', description: 'plain mean of the min-max normalised maps (the baseline)', fit: fixed({ combiner: 'mean' }, 'no weights') },
  {
    name: 'metric-softmax', description: 'global weights: softmax of the members\' standardised deletion and insertion on the training images (the current weighting)',
    fit: async (ctx) => withWeights(weightsFromMetrics(metricRowsOf(ctx), { name: 'metric-softmax', transform: 'softmax' })),
  },
  {
    name: 'metric-rank', description: 'global weights proportional to the members\' rank on the training images',
    fit: async (ctx) => withWeights(weightsFromMetrics(metricRowsOf(ctx), { name: 'metric-rank', transform: 'rank' })),
  },
  {
    name: 'stacking', description: 'global weights that maximise insertion - deletion of the weighted ensemble on the training images (coordinate search on the simplex)',
    fit: async (ctx) => {
      const methods = ctx.train[0].members.map((m) => m.method);
      const fit = await fitStacking(methods, (w) => ctx.trainObjective(() => ({ combiner: 'weighted', weights: w })));
      return withWeights({ name: 'stacking', source: 'metrics', weights: fit.weights, provenance: { maximised: 'insertion - deletion', fittedOn: ctx.train.map((t) => t.image), ...fit } });
    },
  },
  {
    name: 'signals', description: 'per-image weights from agreement with the other members and map entropy (coefficients fitted on the training images)',
    fit: (ctx) => fitSignals(ctx, [{ agreement: 0, entropy: 0 }, { agreement: 1, entropy: 0 }, { agreement: 3, entropy: 0 }, { agreement: 0, entropy: 1 }, { agreement: 1, entropy: 1 }], 'signals'),
  },
  {
    name: 'confidence', description: 'per-image blend: confidence x metric-softmax weights + (1 - confidence) x uniform (confidence = the model\'s probability of the class)',
    fit: async (ctx) => {
      const set = weightsFromMetrics(metricRowsOf(ctx), { name: 'metric-softmax', transform: 'softmax' });
      return {
        spec: (img) => ({ combiner: 'weighted', weights: { name: `confidence-${img.image}`, source: 'metrics', provenance: { confidence: img.confidence, base: set.name },
          weights: Object.fromEntries(Object.entries(set.weights).map(([m, w]) => [m, img.confidence * w + (1 - img.confidence) / img.members.length])) } }),
        provenance: { base: set },
      };
    },
  },
  {
    name: 'ratings-bt', description: 'Bradley-Terry weights from SIMULATED pairwise ratings (5 raters, known noisy preference) of the training images\' maps',
    fit: async (ctx) => {
      const { pairwise } = simulateRatings([...ctx.memberScores.values()].map((s) => Object.fromEntries(Object.entries(s).map(([m, f]) => [m, gain(f)]))), { raters: 5, noise: 1, seed: ctx.seed });
      const set = weightsFromPairwise(pairwise, { name: 'ratings-bt-simulated' });
      return withWeights({ ...set, provenance: { ...set.provenance, simulated: { raters: 5, noise: 1, preference: 'z(insertion - deletion) + N(0, 1)' } } });
    },
  },
  {
    name: 'ratings-likert', description: 'Likert weights from SIMULATED 1-5 ratings (5 raters, known noisy preference) of the training images\' maps',
    fit: async (ctx) => {
      const { likert } = simulateRatings([...ctx.memberScores.values()].map((s) => Object.fromEntries(Object.entries(s).map(([m, f]) => [m, gain(f)]))), { raters: 5, noise: 1, seed: ctx.seed });
      const set = weightsFromLikert(likert, { name: 'ratings-likert-simulated' });
      return withWeights({ ...set, provenance: { ...set.provenance, simulated: { raters: 5, noise: 1, preference: 'round(3 + 1.5 (z(insertion - deletion) + N(0, 1)))' } } });
    },
  },
  { name: 'variance', description: 'variance-aware mean / (std + eps)', fit: fixed({ combiner: 'variance' }, 'no weights') },
  { name: 'median', description: 'per-pixel median of the normalised maps', fit: fixed({ combiner: 'median' }, 'no weights') },
  { name: 'trimmed', description: 'per-pixel trimmed mean', fit: fixed({ combiner: 'trimmed' }, 'no weights') },
  { name: 'borda', description: 'Borda count of cell ranks', fit: fixed({ combiner: 'borda' }, 'no weights') },
  { name: 'rank-mean', description: 'mean of rank-normalised maps', fit: fixed({ combiner: 'mean', normaliser: 'rank' }, 'no weights') },
];

export const WEIGHTING_NAMES = WEIGHTINGS.map((w) => w.name);

/** k folds over images (image i in fold i mod k): each image is tested exactly once. */
export function kFolds(images: string[], k: number): Split[] {
  if (!(Number.isInteger(k) && k >= 2 && k <= images.length)) throw new SaliencyError(`--folds must be an integer from 2 to the number of images (${images.length}), got ${k}`, 'BAD_USAGE');
  return Array.from({ length: k }, (_, f) => ({ test: images.filter((_, i) => i % k === f), train: images.filter((_, i) => i % k !== f) }));
}

export function checkSplit(s: Split): void {
  const overlap = s.test.filter((t) => s.train.includes(t));
  if (overlap.length) throw new SaliencyError(`the training and test images overlap (${overlap.slice(0, 3).join(', ')}${overlap.length > 3 ? ', ...' : ''}): weights and the best member must be chosen on other images`, 'BAD_USAGE');
  if (s.train.length < 2 || s.test.length < 1) throw new SaliencyError(`a split needs at least 2 training images and 1 test image (have ${s.train.length} and ${s.test.length})`, 'BAD_USAGE');
}

export interface CompareRow {
  weighting: string; against: 'mean' | 'best member'; n: number; diff: number; ci95: [number, number]; p: number; pHolm: number;
  better: number; worse: number; winner: string | null; verdict: string;
}
export interface CompareResult {
  splits: { train: string[]; test: string[]; bestMember: string; trainMemberGain: Record<string, number>; fits: Record<string, Record<string, unknown>> }[];
  /** Per test image: objective of each weighting, each member, the fold's best member and the random control. */
  perImage: { image: string; split: number; gains: Record<string, number>; bestMember: number; control: number }[];
  summary: { name: string; n: number; mean: number; ci95: [number, number]; vsControl: { diff: number; ci95: [number, number] } }[];
  comparisons: CompareRow[];
  notes: string[];
}

export interface CompareOptions {
  weightings?: string[];
  seed?: number;
  resamples?: number;
  /** Called after each test image (partial results can be written). */
  onImage?: (result: CompareResult) => Promise<void> | void;
}

export async function compareEnsembles(
  splits: Split[], load: (image: string) => Promise<ImageMembers>, score: ScoreMap, control: ScoreControl, opts: CompareOptions = {},
): Promise<CompareResult> {
  const seed = opts.seed ?? 0;
  const chosen = (opts.weightings ?? WEIGHTING_NAMES).map((n) => {
    const w = WEIGHTINGS.find((x) => x.name === n);
    if (!w) throw new SaliencyError(`unknown weighting "${n}"; known: ${WEIGHTING_NAMES.join(', ')}`, 'BAD_USAGE');
    return w;
  });
  if (!chosen.some((w) => w.name === 'mean')) chosen.unshift(WEIGHTINGS[0]);
  splits.forEach(checkSplit);
  const memo = new Map<string, Promise<ImageMembers>>();
  const get = (image: string) => memo.get(image) ?? (memo.set(image, load(image)), memo.get(image)!);
  const memberMemo = new Map<string, Promise<Record<string, Faithfulness>>>();
  const membersOf = (img: ImageMembers) => memberMemo.get(img.image) ?? (memberMemo.set(img.image, (async () => {
    const out: Record<string, Faithfulness> = {};
    for (const m of img.members) out[m.method] = await score(img.image, m.map);
    return out;
  })()), memberMemo.get(img.image)!);

  const result: CompareResult = { splits: [], perImage: [], summary: [], comparisons: [], notes: [] };
  for (let s = 0; s < splits.length; s++) {
    const train: ImageMembers[] = [];
    for (const image of splits[s].train) train.push(await get(image));
    const memberScores = new Map<string, Record<string, Faithfulness>>();
    for (const img of train) memberScores.set(img.image, await membersOf(img));
    const methods = train[0].members.map((m) => m.method);
    const trainMemberGain = Object.fromEntries(methods.map((m) => [m, mean([...memberScores.values()].map((x) => gain(x[m])))]));
    const bestMember = methods.reduce((a, b) => (trainMemberGain[b] > trainMemberGain[a] ? b : a));
    const ctx: FitContext = {
      train, memberScores, seed,
      trainObjective: async (spec) => {
        const g: number[] = [];
        for (const img of train) g.push(gain(await score(img.image, buildEnsemble(img.members, spec(img)).map)));
        return mean(g);
      },
    };
    const fitted: [string, Fitted][] = [];
    for (const w of chosen) fitted.push([w.name, await w.fit(ctx)]);
    result.splits.push({ ...splits[s], bestMember, trainMemberGain, fits: Object.fromEntries(fitted.map(([n, f]) => [n, f.provenance])) });
    for (const image of splits[s].test) {
      const img = await get(image);
      const members = await membersOf(img);
      const gains: Record<string, number> = Object.fromEntries(Object.entries(members).map(([m, f]) => [`member:${m}`, gain(f)]));
      for (const [name, f] of fitted) gains[name] = gain(await score(image, buildEnsemble(img.members, f.spec(img)).map));
      result.perImage.push({ image, split: s, gains, bestMember: gains[`member:${bestMember}`], control: gain(await control(image)) });
      memo.delete(image); // test images are not needed again
      summarise(result, fitted.map(([n]) => n), seed, opts.resamples);
      await opts.onImage?.(result);
    }
  }
  return result;
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/** Fills result.summary and result.comparisons from result.perImage. */
export function summarise(result: CompareResult, names: string[], seed = 0, resamples = 2000): void {
  const rows = result.perImage;
  const col = (name: string) => rows.map((r) => (name === 'best member' ? r.bestMember : r.gains[name]));
  const control = rows.map((r) => r.control);
  const members = Object.keys(rows[0]?.gains ?? {}).filter((k) => k.startsWith('member:'));
  result.summary = [...names, 'best member', ...members].map((name) => {
    const v = col(name);
    const ci = bootstrapMeanCI(v, { seed, resamples });
    const d = bootstrapMeanCI(pairedDifferences(v, control), { seed, resamples });
    return { name, n: ci.n, mean: ci.mean, ci95: [ci.lo, ci.hi] as [number, number], vsControl: { diff: d.mean, ci95: [d.lo, d.hi] as [number, number] } };
  });
  const todo: { weighting: string; against: 'mean' | 'best member' }[] = [];
  for (const name of names) {
    if (name !== 'mean') todo.push({ weighting: name, against: 'mean' });
    todo.push({ weighting: name, against: 'best member' });
  }
  const done = todo.map((t) => {
    const d = pairedDifferences(col(t.weighting), col(t.against));
    const ci = bootstrapMeanCI(d, { seed, resamples });
    return { ...t, n: d.length, diff: ci.mean, ci95: [ci.lo, ci.hi] as [number, number], p: d.length ? signFlipPValue(d, { seed }) : 1, better: d.filter((x) => x > 0).length, worse: d.filter((x) => x < 0).length };
  });
  const adjusted = holm(done.map((d) => d.p));
  result.comparisons = done.map((d, i) => {
    const c = { a: d.weighting, b: d.against, diff: d.diff, ci95: d.ci95, n: d.n, pHolm: adjusted[i], higherIsBetter: true };
    return { ...d, pHolm: adjusted[i], winner: winnerOf(c), verdict: verdictText(c) };
  });
  result.notes = [
    'objective: insertion - deletion AUC of the map on the target\'s softmax probability (higher is better); control: the same for the seeded random maps.',
    'best member: the member with the best mean objective on the split\'s TRAINING images; every weighting is fitted on the training images only; all figures are on test images.',
    `ci95: percentile bootstrap of the mean paired difference over test images (${resamples} resamples, seed ${seed}); p: two-sided sign-flip test; pHolm: Holm over all ${done.length} comparisons; a weighting "wins" only when the interval excludes 0 and pHolm < 0.05.`,
  ];
}

const f3 = (x: number) => (Number.isFinite(x) ? (x >= 0 ? '+' : '') + x.toFixed(3) : '–');
const iv = (c: [number, number]) => `[${f3(c[0])}, ${f3(c[1])}]`;

/** Markdown table: each weighting's objective, and its paired difference to the mean and to the best member. */
export function formatCompareTable(r: CompareResult): string {
  const lines = ['| ensemble | insertion - deletion [95% CI] | vs mean: diff [95% CI], better/n, Holm p | vs best member: diff [95% CI], better/n, Holm p |', '|---|---|---|---|'];
  const cmp = (name: string, against: string) => {
    const c = r.comparisons.find((x) => x.weighting === name && x.against === against);
    return c ? `${f3(c.diff)} ${iv(c.ci95)}, ${c.better}/${c.n}, ${c.pHolm < 0.001 ? '< 0.001' : c.pHolm.toFixed(3)}${c.winner ? (c.winner === name ? ' **better**' : ' **worse**') : ''}` : '–';
  };
  for (const s of r.summary) {
    const isW = !s.name.startsWith('member:') && s.name !== 'best member';
    lines.push(`| ${s.name} | ${f3(s.mean)} ${iv(s.ci95)} | ${isW && s.name !== 'mean' ? cmp(s.name, 'mean') : ''} | ${isW ? cmp(s.name, 'best member') : ''} |`);
  }
  const ctl = bootstrapMeanCI(r.perImage.map((p) => p.control), { seed: 0 });
  lines.push(`| random-map control | ${f3(ctl.mean)} [${f3(ctl.lo)}, ${f3(ctl.hi)}] | | |`);
  return lines.join('\n');
}
