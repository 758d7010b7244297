// Auto budgets (samples=auto / masks=auto) vs the default budgets for LIME, KernelSHAP, RISE and SmoothGrad on real models
// and sample images: evaluations used, insertion - deletion (probability protocol, random-map control) per
// image, and seed-to-seed Spearman (seeds 0 and 1) of each configuration.
//   --tune: on the tuning images (--offset, disjoint from the evaluation images) only the default runs of
//   both seeds, recording each checkpoint's relative SE and the Spearman between the two seeds' partial maps
//   at that checkpoint: the default precision is the largest one whose stopping point keeps seed-to-seed
//   agreement >= 0.95 of the full budget's (printed), with the agreement a fixed budget of the same mean evaluations
//   gets on the same runs (does stopping per image pay?); with sharedPool, LIME's and KernelSHAP's precisions as a pair.
// Writes one JSON line per image and method to --out (appending), and prints the table from that file
// (--table FILE) with paired 95% bootstrap intervals (engine/stats).
// Usage: node --import tsx scripts/eval-anytime.ts --images 6 [--offset 0] [--models squeezenet,mobilenet]
//          [--methods lime,kernelshap,rise,smoothgrad (float models only)] [--steps 20] [--controls 1] [--out file.jsonl] [--tune]
//          [--from i --to j: only images i..j-1 of that list, to split one run over processes] [--threads T (ORT; 0 = one per core)]
//          [--variant controlVariate|leverage|cellRegression|sharedPool: that opt-in switch on in the auto runs (with --tune: in
//           both seeds' runs); sharedPool also records the model evaluations each auto run caused (run lime before
//           kernelshap and one precision per process, so that KernelSHAP's count is what LIME's rows did not cover)]
//          [--fixed N: compare a fixed budget of N with the variant on (e.g. sharedPool at 1200 rows) instead of auto runs]
//          [--reuse-default FILE: the default-budget figures from an earlier evaluation's lines instead of re-running them]
//          [--precisions 0.4,0.6,...: auto runs at each (default: the method's default precision); they reuse the
//           default runs' evaluations through the scheduler's cache (a seed's auto run samples a prefix of its
//           fixed-budget run), so extra precisions cost little more than their metrics]
//        node --import tsx scripts/eval-anytime.ts --table file.jsonl [--against other.jsonl: also, paired over the
//          images both files have, each compared configuration's seed Spearman and insertion - deletion minus the other
//          file's (e.g. a new sampler design against the old one at the same fixed budget)]
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Classifier } from '../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../src-main/engine/image/prepare.ts';
import { getExplainer } from '../src-main/engine/explain/registry.ts';
import { getMetric } from '../src-main/engine/metrics/registry.ts';
import { argmax } from '../src-main/engine/util/math.ts';
import { pearson, spearman } from '../src-main/engine/metrics/rank.ts';
import { bootstrapMeanCI, pairedBootstrapCI } from '../src-main/engine/stats/index.ts';
import type { Map2D } from '../src-main/engine/types.ts';
import { SMOOTHGRAD_AUTO_MINIMUM } from '../src-main/engine/explain/gradient/smoothgrad.ts';
import { autoMinimum } from '../src-main/engine/explain/perturb/anytime-segments.ts';
import { remainingAgreementShare as poolCriterion } from '../src-main/engine/explain/perturb/convergence.ts';
import { riseAutoMinimum, type RiseSettings } from '../src-main/engine/explain/perturb/rise.ts';
import type { SegmentSamplingSettings } from '../src-main/engine/explain/perturb/segment-sampling.ts';
import { PARTITION_SHAP_AUTO_MINIMUM } from '../src-main/engine/explain/perturb/partition-shap.ts';
import { spreadSampleImages } from './bench-util.ts';

const MODEL_FILES: Record<string, string> = { squeezenet: 'squeezenet1.1-fp32.onnx', mobilenet: 'mobilenetv2-12-int8.onnx' };
const BUDGET: Record<string, string> = { lime: 'samples', kernelshap: 'samples', rise: 'masks', smoothgrad: 'samples', partitionshap: 'maxEvals' };
/** Where a method's auto rule (at its default settings) may stop: from `minimum` evaluations, at multiples of
 *  `every`; and how many trace checkpoints in flight are scored anyway: LIME and KernelSHAP score the chunk in
 *  flight, which is progressEvery rows, i.e. the next checkpoint; RISE's chunks are 4 model batches (32 masks),
 *  so it stops within 2 chunks of the check, not at the next checkpoint 500 masks on (counting it, as this
 *  script did until the RISE control variate's tuning, overstated where RISE stops and its agreement there). */
function stopRule(method: string, variant?: string): { minimum: number; every: number; inFlight: number } {
  if (method === 'smoothgrad') return { minimum: SMOOTHGRAD_AUTO_MINIMUM, every: 1, inFlight: 0 };
  if (method === 'partitionshap') return { minimum: PARTITION_SHAP_AUTO_MINIMUM, every: 1, inFlight: 0 }; // checks after rounds, not at round numbers
  if (method === 'rise') {
    const s = getExplainer('rise').settings({}) as RiseSettings;
    return { minimum: riseAutoMinimum(s.masks, s.progressEvery), every: s.progressEvery, inFlight: 0 };
  }
  const s = getExplainer(method).settings({}) as SegmentSamplingSettings;
  return { minimum: autoMinimum(s.segments, variant === 'sharedPool'), every: s.progressEvery, inFlight: 1 };
}

interface Line {
  /** The auto run's precision (absent: the method's default precision). */
  model: string; image: string; method: string; tune?: boolean; precision?: number;
  /** --fixed N: the compared runs use a fixed budget of N (with the variant's switch), not an auto one. */
  fixed?: number;
  /** An opt-in switch of the method (e.g. controlVariate) on in the auto runs (tune: in both seeds' runs). */
  variant?: string;
  default?: { evaluations: number; seedSpearman: number; insMinusDel: number; insMinusDelControl: number };
  /** agreementWithDefault: Spearman between the auto and the default map of seed 0; finalCriterion: the auto
   *  run's stopping criterion at its end (relative SE; Partition SHAP's unexplained mass). */
  auto?: { evaluations: number; seedSpearman: number; insMinusDel: number; insMinusDelControl: number; finalRelativeSE?: number | null; finalCriterion?: number | null; agreementWithDefault?: number;
    /** Model evaluations the auto runs caused (mean of the seeds; the rest came from the scheduler's cache): with
     *  sharedPool, LIME's line pays for its rows and KernelSHAP's only for rows past LIME's (methods run in order). */
    fresh?: number };
  /** relativeSE: the auto rule's criterion at that check (Partition SHAP: unexplained mass; sharedPool: the remaining
   *  agreement share computed from `splitHalf`, the split-half predicted seed-to-seed Spearman; files written before
   *  the thirteenth session hold 1 - splitHalf there, so stopIndex recomputes it); fullSpearman: seed 0's partial
   *  map vs its full-budget map. */
  trace?: { evaluations: number; relativeSE: number | null; seedSpearman: number; fullSpearman?: number; splitHalf?: number | null }[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      images: { type: 'string', default: '6' }, offset: { type: 'string', default: '0' }, models: { type: 'string', default: 'squeezenet' },
      methods: { type: 'string', default: 'lime,kernelshap,rise' }, steps: { type: 'string', default: '20' }, controls: { type: 'string', default: '1' },
      out: { type: 'string', default: 'anytime.jsonl' }, tune: { type: 'boolean' }, table: { type: 'string' },
      from: { type: 'string', default: '0' }, to: { type: 'string' }, threads: { type: 'string', default: '0' },
      precisions: { type: 'string' }, variant: { type: 'string' }, 'reuse-default': { type: 'string' }, fixed: { type: 'string' },
      against: { type: 'string' },
    },
  });
  if (values.table) {
    printTable(values.table);
    if (values.against) printAgainst(values.table, values.against);
    return;
  }
  const data = process.env.SALIENCY_DATA ?? path.resolve(import.meta.dirname, '../../shared/data');
  const count = Number(values.images);
  // --from/--to take a slice of the same image list, so one evaluation can be split over processes.
  const files = spreadSampleImages(data, count, Number(values.offset)).slice(Number(values.from), values.to === undefined ? count : Number(values.to));
  const deletion = getMetric('deletion');
  const insertion = getMetric('insertion');
  const mS = { steps: Number(values.steps), controlSamples: Number(values.controls) };
  const dS = deletion.settings(mS);
  const iS = insertion.settings(mS);
  // Lines already in --out (a resumed run): an image and method whose every auto precision is there is skipped.
  // --reuse-default FILE: the default-budget figures of each image and method from an earlier evaluation (the same
  // seeds and code path, so the same maps) instead of re-running them; the auto vs default map Spearman is then absent.
  const reused = new Map<string, Line['default']>();
  if (values['reuse-default']) {
    // every line's default is the method without the variant (run({})), so any line with one will do
    for (const l of readLines(values['reuse-default'])) {
      const k = runKey(l);
      if (l.default && !reused.has(k)) reused.set(k, l.default);
    }
  }
  const have = new Set(existsSync(values.out!) ? readFileSync(values.out!, 'utf8').trim().split('\n').filter(Boolean).map((l) => {
    const x = JSON.parse(l) as Line;
    return `${x.model}|${x.image}|${x.method}|${x.variant ?? ''}|${x.tune ? 'tune' : configOf(x)}`;
  }) : []);
  for (const name of values.models!.split(',')) {
    const model = await Classifier.load(path.join(data, 'models', MODEL_FILES[name] ?? name), { batchSize: 8, threads: Number(values.threads) });
    for (const img of files) {
      const { prepared: image } = await prepareImageFile(path.join(data, 'imagenet-samples', img), model);
      const pred = await model.predict([image.input]);
      const target = { classIndex: argmax(pred.logits, 0, pred.numClasses), score: 'probability' as const };
      const faith = async (map: Map2D) => {
        const d = await deletion.compute({ image, target, map, model }, dS, 0);
        const i = await insertion.compute({ image, target, map, model }, iS, 0);
        return { value: i.value - d.value, control: i.control!.value - d.control!.value };
      };
      for (const method of values.methods!.split(',')) {
        const ex = getExplainer(method);
        const run = async (settings: Record<string, unknown>, seed: number, partials?: Map2D[]) =>
          ex.explain(image, target, ex.settings(settings), seed, { model, onProgress: (p) => { if (p.partial && partials) partials.push(p.partial); } });
        const variant = values.variant;
        const on: Record<string, unknown> = variant ? { [variant]: true } : {};
        const line: Line = { model: name, image: img, method, ...(variant ? { variant } : {}) };
        const key = (p: number | string) => `${name}|${img}|${method}|${variant ?? ''}|${p}`;
        // 'default' = the method's current default precision; every line records the precision it ran at.
        const fixed = values.fixed === undefined ? undefined : Number(values.fixed);
        const precisions = (values.precisions ?? 'default').split(',').map((p) => (p === 'default' ? defaultPrecision(method, variant) : Number(p))).sort((a, b) => a - b);
        const configs: (number | string)[] = fixed === undefined ? precisions : [configOf({ fixed }) as string];
        if (values.tune ? have.has(key('tune')) : configs.every((p) => have.has(key(p)))) continue;
        if (values.tune) {
          const p0: Map2D[] = [];
          const p1: Map2D[] = [];
          // the runs go to the auto rule's cap (the default budget, except with sharedPool: both methods' together)
          const cap = (ex.settings({ [BUDGET[method]]: 'auto', ...on }) as Record<string, unknown>)[BUDGET[method]];
          const a = await run({ ...on, [BUDGET[method]]: cap }, 0, p0);
          const b = await run({ ...on, [BUDGET[method]]: cap }, 1, p1);
          const conv = a.extras.convergence as { samples?: number; masks?: number; evaluations?: number; relativeSE?: number | null; unexplainedMass?: number; splitHalf?: number | null }[];
          if (p0.length < conv.length) { p0.push(a.map); p1.push(b.map); } // RISE and Partition SHAP report no partial for their final map
          line.tune = true;
          const pooled = variant === 'sharedPool';
          line.trace = conv.map((c, k) => ({
            evaluations: (c.samples ?? c.masks ?? c.evaluations)!,
            relativeSE: pooled ? poolCriterion(c.splitHalf ?? null, (c.samples ?? 0), Number(cap)) : c.relativeSE ?? c.unexplainedMass ?? null,
            seedSpearman: spearman(p0[k], p1[k]), fullSpearman: spearman(p0[k], a.map), ...(c.splitHalf !== undefined ? { splitHalf: c.splitHalf } : {}),
          }));
        } else {
          const earlier = reused.get(`${name}|${img}|${method}`);
          if (values['reuse-default'] && !earlier) throw new Error(`${values['reuse-default']} has no default line for ${name} ${img} ${method}`);
          const d0 = earlier ? null : await run({}, 0);
          const d1 = earlier ? null : await run({}, 1);
          const fd = d0 ? await faith(d0.map) : null;
          const dflt = earlier ?? { evaluations: d0!.evaluations, seedSpearman: spearman(d0!.map, d1!.map), insMinusDel: fd!.value, insMinusDelControl: fd!.control };
          // ascending: a tighter precision's auto run touches the longest prefix first, so the cache still holds the rest
          for (const config of configs) {
            if (have.has(key(config))) continue;
            const precision = typeof config === 'number' ? config : undefined;
            const auto = precision === undefined ? { [BUDGET[method]]: fixed, ...on } : { [BUDGET[method]]: 'auto', precision, ...on };
            const a0 = await run(auto, 0);
            const a1 = await run(auto, 1);
            const fa = await faith(a0.map);
            const out: Line = { ...line, ...(precision === undefined ? { fixed } : { precision }), default: dflt };
            out.auto = {
              evaluations: (a0.evaluations + a1.evaluations) / 2, seedSpearman: spearman(a0.map, a1.map), insMinusDel: fa.value, insMinusDelControl: fa.control,
              finalCriterion: finalCriterion(a0.extras.auto), ...(d0 ? { agreementWithDefault: spearman(a0.map, d0.map) } : {}),
              ...(variant === 'sharedPool' ? { fresh: ((a0.extras.freshEvaluations as number) + (a1.extras.freshEvaluations as number)) / 2 } : {}),
            };
            appendFileSync(values.out!, `${JSON.stringify(out)}\n`);
          }
        }
        if (line.tune) appendFileSync(values.out!, `${JSON.stringify(line)}\n`);
        process.stderr.write(`${name} ${img} ${method} done\n`);
      }
    }
    await model.dispose();
  }
  printTable(values.out!);
}

function mean(xs: number[]): number {
  return xs.reduce((a, x) => a + x, 0) / xs.length;
}

/** Mean seed-to-seed Spearman of the tuning runs at a fixed budget of n evaluations, interpolated linearly between
 *  the traces' checkpoints (null when the traces do not share them, or n is outside them). */
function fixedBudgetSpearman(rows: Line[], n: number): number | null {
  const at = rows[0].trace!.map((c) => c.evaluations);
  if (!rows.every((l) => l.trace!.length === at.length && l.trace!.every((c, k) => c.evaluations === at[k]))) return null;
  const k = at.findIndex((e) => e >= n);
  if (k < 0) return null;
  const meanAt = (j: number) => mean(rows.map((l) => l.trace![j].seedSpearman));
  if (k === 0 || at[k] === n) return meanAt(k);
  const t = (n - at[k - 1]) / (at[k] - at[k - 1]);
  return (1 - t) * meanAt(k - 1) + t * meanAt(k);
}

/**
 * How much any per-image stopping rule could gain over a fixed budget: each image's seed-to-seed Spearman curve is
 * fitted by rho(n) = s n / (1 + s n) (signal plus noise whose variance falls as 1/n; least squares over a grid of s,
 * checkpoints from 200), and the allocation that maximises the mean rho at a given mean budget (the Lagrangian
 * optimum, each image between 100 and the cap) is compared with spending that mean on every image. An oracle: it
 * knows each image's curve, which no rule does.
 */
function printAllocationBound(id: string, rows: Line[]): void {
  const cap = rows[0].trace!.at(-1)!.evaluations;
  const curve = (s: number, n: number) => (s * n) / (1 + s * n);
  const slopes = rows.map((l) => {
    const pts = l.trace!.filter((c) => c.evaluations >= 200);
    let best = { err: Infinity, s: 0 };
    for (let k = -800; k < 200; k++) {
      const s = 10 ** (k / 100);
      const err = pts.reduce((a, c) => a + (c.seedSpearman - curve(s, c.evaluations)) ** 2, 0);
      if (err < best.err) best = { err, s };
    }
    return best.s;
  });
  // rows per image at multiplier lam: argmax rho(n) - lam n = (sqrt(s / lam) - 1) / s, clamped
  const at = (lam: number) => slopes.map((s) => Math.min(cap, Math.max(100, s > lam ? (Math.sqrt(s / lam) - 1) / s : 0)));
  const optimal = (budget: number) => {
    let [lo, hi] = [1e-12, 1];
    for (let i = 0; i < 200; i++) { const m = Math.sqrt(lo * hi); if (mean(at(m)) > budget) lo = m; else hi = m; }
    return mean(at(hi).map((n, i) => curve(slopes[i], n)));
  };
  const parts = [0.3, 0.5, 0.7].map((f) => {
    const budget = f * cap;
    const fixed = mean(slopes.map((s) => curve(s, budget)));
    // the mean budget the oracle needs for the fixed budget's mean agreement
    let [lo, hi] = [100, budget];
    for (let i = 0; i < 50; i++) { const m = (lo + hi) / 2; if (optimal(m) >= fixed) hi = m; else lo = m; }
    return `${budget.toFixed(0)}: fixed ${fixed.toFixed(3)}, best allocation ${optimal(budget).toFixed(3)} (the fixed budget's agreement with ${(hi / budget).toFixed(2)} of its rows)`;
  });
  console.log(`  ${id} per-image allocation bound (fitted curves, ${rows.length} images), mean seed-to-seed Spearman at a mean budget of ${parts.join('; ')}`);
}

/** The trace index where a tuning line's run would stop at precision p (LIME and KernelSHAP also score the chunk in flight). */
function stopIndex(l: Line, p: number): number {
  const tr = l.trace!;
  const { minimum, every, inFlight } = stopRule(l.method, l.variant);
  const cap = tr.at(-1)!.evaluations;
  const criterion = (c: NonNullable<Line['trace']>[number]) => (l.variant === 'sharedPool' && c.splitHalf !== undefined ? poolCriterion(c.splitHalf, c.evaluations, cap) : c.relativeSE);
  const k = tr.findIndex((c) => { const v = criterion(c); return c.evaluations >= minimum && c.evaluations % every === 0 && v !== null && v <= p; });
  return k < 0 ? tr.length - 1 : Math.min(k + inFlight, tr.length - 1);
}

/** On the shared pool the pair costs the longer of the two prefixes, so LIME's and KernelSHAP's precisions are
 *  chosen together: for each pair of precisions whose stops keep both methods' mean seed-to-seed Spearman >= `floor`
 *  of their reference's at its default budget (same images), the mean of max(LIME's stop, KernelSHAP's stop) in rows;
 *  the cheapest few are printed. */
function printPoolPairs(tune: Line[], floor = 0.95): void {
  const pool = (m: string) => tune.filter((l) => l.variant === 'sharedPool' && l.method === m);
  const [lime, shap] = [pool('lime'), pool('kernelshap')];
  const images = lime.map((l) => l.image).filter((i) => shap.some((l) => l.image === i));
  const ref = (m: string) => tune.filter((l) => !l.variant && l.method === m && images.includes(l.image));
  if (!images.length || ref('lime').length !== images.length || ref('kernelshap').length !== images.length) return;
  const refFull = (m: string) => mean(ref(m).map((l) => l.trace!.at(-1)!.seedSpearman));
  const grid = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6];
  // each image's check where a method stops at precision p (images in the same order for both methods)
  const stops = (ls: Line[], p: number) => images.map((i) => { const l = ls.find((x) => x.image === i)!; return l.trace![stopIndex(l, p)]; });
  const ratio = (cs: { seedSpearman: number }[], m: string) => mean(cs.map((c) => c.seedSpearman)) / refFull(m);
  const rows: { pl: number; pk: number; cost: number; rl: number; rk: number }[] = [];
  for (const pl of grid) {
    const sl = stops(lime, pl);
    for (const pk of grid) {
      const sk = stops(shap, pk);
      rows.push({ pl, pk, cost: mean(sl.map((c, j) => Math.max(c.evaluations, sk[j].evaluations))), rl: ratio(sl, 'lime'), rk: ratio(sk, 'kernelshap') });
    }
  }
  const ok = rows.filter((r) => r.rl >= floor && r.rk >= floor).sort((a, b) => a.cost - b.cost);
  console.log(`  pool pairs (${images.length} images; ratios vs the references' default budgets >= ${floor}), cheapest first: LIME precision, KernelSHAP precision -> mean rows of the longer prefix, ratios`);
  for (const r of ok.slice(0, 8)) console.log(`    ${r.pl} + ${r.pk}: ${r.cost.toFixed(0)} rows, LIME ${r.rl.toFixed(3)}, KernelSHAP ${r.rk.toFixed(3)}`);
}

/** How well the split-half prediction matches the two seeds' measured Spearman at the same rows: means over the
 *  images and the correlation across them, at a few checkpoints. */
function printSplitHalfCalibration(id: string, rows: Line[]): void {
  if (!rows.every((l) => l.trace!.some((c) => c.splitHalf != null))) return;
  const parts: string[] = [];
  for (const at of [400, 800, 1200, 1600, 2000]) {
    const pairs = rows.map((l) => l.trace!.find((c) => c.evaluations === at)).filter((c) => c?.splitHalf != null).map((c) => [c!.splitHalf!, c!.seedSpearman]);
    if (pairs.length < 3) continue;
    parts.push(`${at}: predicted ${mean(pairs.map((p) => p[0])).toFixed(3)}, measured ${mean(pairs.map((p) => p[1])).toFixed(3)} (r across images ${pearson(pairs.map((p) => p[0]), pairs.map((p) => p[1])).toFixed(2)})`);
  }
  console.log(`  ${id} split-half predicted vs measured seed-to-seed Spearman, ${rows.length} images: ${parts.join('; ')}`);
}

/** A method and its variant, as the tables name them (e.g. rise+controlVariate). */
function idOf(l: Line): string {
  return l.variant ? `${l.method}+${l.variant}` : l.method;
}

/** What a line compared with the default: an auto precision, or `fixed N` (--fixed). */
function configOf(l: Pick<Line, 'fixed' | 'precision'>): number | string | undefined {
  return l.fixed !== undefined ? `fixed ${l.fixed}` : l.precision;
}

/** Mean Spearman of the auto map to the default map (seed 0) with its interval; lines written before it was recorded lack it. */
function agreement(xs: (number | undefined)[]): string {
  if (xs.some((x) => x === undefined)) return '-';
  const ci = bootstrapMeanCI(xs as number[], { seed: 0 });
  return `${ci.mean.toFixed(3)} [${ci.lo.toFixed(2)}, ${ci.hi.toFixed(2)}]`;
}

function finalCriterion(auto: unknown): number | null {
  if (!auto) return null; // a fixed budget (--fixed)
  const a = auto as { finalRelativeSE?: number | null; finalUnexplainedMass?: number; finalRemainingShare?: number | null; finalPredictedDisagreement?: number | null };
  return a.finalRelativeSE ?? a.finalUnexplainedMass ?? a.finalRemainingShare ?? a.finalPredictedDisagreement ?? null;
}

/** The method's default precision for its auto budget (with the variant's switch on). */
function defaultPrecision(method: string, variant?: string): number {
  return (getExplainer(method).settings({ [BUDGET[method]]: 'auto', ...(variant ? { [variant]: true } : {}) }) as { precision: number }).precision;
}

/** One image's run of one method on one model: what --reuse-default and --against match lines by. */
function runKey(l: Line): string {
  return `${l.model}|${l.image}|${l.method}`;
}

function readLines(file: string): Line[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
}

/** Paired over images: each evaluated configuration of `file` minus the same method's configuration in `other`. */
function printAgainst(file: string, other: string): void {
  const theirs = new Map(readLines(other).filter((l) => !l.tune && l.auto).map((l) => [runKey(l), l]));
  const ours = readLines(file).filter((l) => !l.tune && l.auto && theirs.has(runKey(l)));
  console.log(`\npaired against ${path.basename(other)} (this file's runs minus that file's, same images and method; 95% paired bootstrap):`);
  for (const group of [...new Set(ours.map((l) => `${l.model}|${idOf(l)}|${configOf(l)}`))]) {
    const r = ours.filter((l) => `${l.model}|${idOf(l)}|${configOf(l)}` === group);
    const o = r.map((l) => theirs.get(runKey(l))!);
    const s = pairedBootstrapCI(r.map((l) => l.auto!.seedSpearman), o.map((l) => l.auto!.seedSpearman), { seed: 0 });
    const f = pairedBootstrapCI(r.map((l) => l.auto!.insMinusDel), o.map((l) => l.auto!.insMinusDel), { seed: 0 });
    const ev = (ls: Line[]) => mean(ls.map((l) => l.auto!.fresh ?? l.auto!.evaluations)).toFixed(0);
    console.log(`  ${r[0].model} ${idOf(r[0])} (${configOf(r[0])}) vs ${idOf(o[0])} (${configOf(o[0])}), n = ${r.length}: seed Spearman ${s.mean >= 0 ? '+' : ''}${s.mean.toFixed(3)} [${s.lo.toFixed(3)}, ${s.hi.toFixed(3)}], insertion - deletion ${f.mean >= 0 ? '+' : ''}${f.mean.toFixed(3)} [${f.lo.toFixed(3)}, ${f.hi.toFixed(3)}], evaluations ${ev(r)} vs ${ev(o)}`);
  }
}

function printTable(file: string): void {
  const lines = readLines(file);
  const tune = lines.filter((l) => l.tune);
  if (tune.length) {
    // For each precision: where each tuning run would stop, and the seed-to-seed Spearman there vs at the full budget.
    console.log(`tuning (${new Set(tune.map((l) => l.image)).size} images): precision -> mean stop / full budget, mean seed-to-seed Spearman at the stop / at full budget, mean Spearman of the stopped map (seed 0) to its full budget's map`);
    for (const id of [...new Set(tune.map(idOf))]) {
      const rows = tune.filter((l) => idOf(l) === id);
      const method = rows[0].method;
      const grid = method === 'partitionshap' ? [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2] : [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6];
      // A variant is chosen against the reference method's default budget when the file has its tuning runs too
      // (the same images): its full-budget seed-to-seed Spearman is what the issue's comparison measures against.
      const reference = rows[0].variant ? tune.filter((l) => !l.variant && l.method === method && rows.some((r) => r.image === l.image)) : [];
      const refFull = reference.length === rows.length ? reference.reduce((a, l) => a + l.trace!.at(-1)!.seedSpearman, 0) / rows.length : null;
      for (const p of grid) {
        let stop = 0, full = 0, rs = 0, rf = 0, toFull = 0;
        for (const l of rows) {
          const tr = l.trace!;
          const at = stopIndex(l, p);
          stop += tr[at].evaluations; full += tr.at(-1)!.evaluations; rs += tr[at].seedSpearman; rf += tr.at(-1)!.seedSpearman; toFull += tr[at].fullSpearman ?? NaN;
        }
        const vsReference = refFull === null ? '' : `; vs the reference's full budget ${refFull.toFixed(3)}: ratio ${(rs / rows.length / refFull).toFixed(3)}`;
        // does stopping per image beat spending the same mean rows on every image?
        const sameFixed = fixedBudgetSpearman(rows, stop / rows.length);
        console.log(`  ${id.padEnd(10)} precision ${String(p).padEnd(5)}: ${(stop / full).toFixed(2)} of the budget, seed-to-seed Spearman ${(rs / rows.length).toFixed(3)} vs ${(rf / rows.length).toFixed(3)} (ratio ${(rs / rf).toFixed(3)})${Number.isNaN(toFull) ? '' : `, Spearman to the full budget's map ${(toFull / rows.length).toFixed(3)}`}${vsReference}${sameFixed === null ? '' : `; a fixed budget of the same mean rows: ${sameFixed.toFixed(3)}`}`);
      }
      printSplitHalfCalibration(id, rows);
      printAllocationBound(id, rows);
    }
    printPoolPairs(tune);
  }
  const ev = lines.filter((l) => !l.tune);
  for (const model of [...new Set(ev.map((l) => l.model))]) {
    const rows = ev.filter((l) => l.model === model);
    const n = new Set(rows.map((l) => l.image)).size;
    console.log(`\n${model}: ${n} images`);
    console.log('| method | n | evals default | evals auto | ins-del default (ctrl) | ins-del auto (ctrl) | auto - default [95% CI] | seed Spearman default | auto | ratio | auto - default [95% CI] | auto vs default map |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
    // One table row per method and auto precision; the together lines: at each method's default precision, and at
    // each precision applied to all methods.
    // key -> method -> its configurations (the method alone, or with a variant switched on)
    const together = new Map<string, Map<string, { id: string; ed: number; ea: number }[]>>();
    for (const id of [...new Set(rows.map(idOf))]) {
      const { method, variant } = rows.find((l) => idOf(l) === id)!;
      for (const config of [...new Set(rows.filter((l) => idOf(l) === id).map(configOf))]) {
        const r = rows.filter((l) => idOf(l) === id && configOf(l) === config);
        const precision = typeof config === 'number' ? config : undefined;
        const fixedLabel = typeof config === 'string' ? config : undefined;
        const d = r.map((l) => l.default!);
        const a = r.map((l) => l.auto!);
        const diff = pairedBootstrapCI(a.map((x) => x.insMinusDel), d.map((x) => x.insMinusDel), { seed: 0 });
        const sd = bootstrapMeanCI(d.map((x) => x.seedSpearman), { seed: 0 });
        const sa = bootstrapMeanCI(a.map((x) => x.seedSpearman), { seed: 0 });
        const sdiff = pairedBootstrapCI(a.map((x) => x.seedSpearman), d.map((x) => x.seedSpearman), { seed: 0 });
        const isDefault = fixedLabel === undefined && (precision === undefined || precision === defaultPrecision(method, variant));
        for (const key of fixedLabel !== undefined ? [fixedLabel] : [...(isDefault ? ['default'] : []), ...(precision === undefined ? [] : [String(precision)])]) {
          const t = together.get(key) ?? new Map();
          // what the configuration costs: its model evaluations when recorded (sharedPool), else the rows it used
          t.set(method, [...(t.get(method) ?? []), { id, ed: mean(d.map((x) => x.evaluations)), ea: mean(a.map((x) => x.fresh ?? x.evaluations)) }]);
          together.set(key, t);
        }
        console.log(`| ${id}${fixedLabel !== undefined ? ` (${fixedLabel})` : precision === undefined ? '' : ` (precision ${precision}${isDefault ? ', default' : ''})`} | ${r.length} | ${mean(d.map((x) => x.evaluations)).toFixed(0)} | ${mean(a.map((x) => x.evaluations)).toFixed(0)}${a.every((x) => x.fresh !== undefined) ? ` (new ${mean(a.map((x) => x.fresh!)).toFixed(0)})` : ''} | ${mean(d.map((x) => x.insMinusDel)).toFixed(3)} (${mean(d.map((x) => x.insMinusDelControl)).toFixed(3)}) | ${mean(a.map((x) => x.insMinusDel)).toFixed(3)} (${mean(a.map((x) => x.insMinusDelControl)).toFixed(3)}) | ${diff.mean.toFixed(3)} [${diff.lo.toFixed(3)}, ${diff.hi.toFixed(3)}] | ${sd.mean.toFixed(3)} [${sd.lo.toFixed(2)}, ${sd.hi.toFixed(2)}] | ${sa.mean.toFixed(3)} [${sa.lo.toFixed(2)}, ${sa.hi.toFixed(2)}] | ${(sa.mean / sd.mean).toFixed(3)} | ${sdiff.mean.toFixed(3)} [${sdiff.lo.toFixed(3)}, ${sdiff.hi.toFixed(3)}] | ${agreement(a.map((x) => x.agreementWithDefault))} |`);
      }
    }
    const methods = new Set(rows.map((l) => l.method)).size;
    for (const [key, t] of together) {
      if (t.size < methods) continue; // a precision not run for every method
      // one line per choice of configuration for each method
      let combos: { id: string; ed: number; ea: number }[][] = [[]];
      for (const configs of t.values()) combos = combos.flatMap((c) => configs.map((x) => [...c, x]));
      for (const c of combos) {
        const ed = c.reduce((a, x) => a + x.ed, 0);
        const ea = c.reduce((a, x) => a + x.ea, 0);
        console.log(`auto / default evaluations, ${c.map((x) => x.id).join(' + ')} together${key === 'default' ? ' at their default precisions' : key.startsWith('fixed') ? ` at a ${key} budget` : ` at precision ${key}`}: ${(ea / ed).toFixed(3)} (${ea.toFixed(0)} / ${ed.toFixed(0)} per image)`);
      }
    }
  }
}

await main();
