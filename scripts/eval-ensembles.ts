// Which way of combining explanations works best? Prints the tables issue 7 asks for:
//  1. known-evidence benchmark: how often each single method and each ensemble puts its maximum on the
//     evidence (pointing game), plus the learned combiner fitted on half of the images' masks (held out);
//  2. real ImageNet models on sample images: deletion AUC (lower better), insertion AUC (higher better) and
//     insertion - deletion for every single method and every ensemble, with the winner stated plainly.
// Weighted ensembles on real images use weights from measured faithfulness (deletion + insertion) of the
// images evaluated before (uniform for the first), so no image's own score leaks into its weights.
//
// Usage: node --import tsx scripts/eval-ensembles.ts [--part known,real|render] [--images 10] [--steps 30]
//          [--models squeezenet,mobilenet,shufflenet] [--known-images 40] [--out out/eval-ensembles]
//          [--threads 2] [--lime 300 (LIME and KernelSHAP samples)] [--rise 1000 (masks)]
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Classifier } from '../src-main/engine/model/classifier.ts';
import { getExplainer } from '../src-main/engine/explain/registry.ts';
import type { Explanation, PreparedImage } from '../src-main/engine/explain/types.ts';
import { prepareImageFile } from '../src-main/engine/image/prepare.ts';
import { deletion } from '../src-main/engine/metrics/deletion.ts';
import { insertion } from '../src-main/engine/metrics/insertion.ts';
import { buildEnsemble } from '../src-main/engine/ensemble/build.ts';
import { weightsFromMetrics, type MetricRow } from '../src-main/engine/ensemble/weights/from-metrics.ts';
import { manualWeights } from '../src-main/engine/ensemble/weights/manual.ts';
import type { EnsembleSpec } from '../src-main/engine/ensemble/types.ts';
import type { Map2D, Target } from '../src-main/engine/types.ts';
import { argmax } from '../src-main/engine/util/math.ts';
import { DATA, HAS_DATA, MODELS, manifest, model as modelPath, sample } from '../test/helpers/data.ts';
import { knownEvidenceBenchmark } from './known-evidence-bench.ts';

const { values: args } = parseArgs({
  options: {
    part: { type: 'string', default: 'known,real' }, images: { type: 'string', default: '10' }, steps: { type: 'string', default: '30' },
    models: { type: 'string', default: 'squeezenet,mobilenet,shufflenet' }, 'known-images': { type: 'string', default: '40' },
    out: { type: 'string', default: 'out/eval-ensembles' }, threads: { type: 'string', default: '2' },
    lime: { type: 'string', default: '300' }, rise: { type: 'string', default: '1000' },
  },
});
const SEED = 7;

/** The single methods with budgets small enough for minutes, not hours, on 2 shared cores. */
const SINGLES: [string, Record<string, unknown>][] = [
  ['gradcam', {}],
  ['lime', { samples: Number(args.lime), segments: 50 }],
  ['kernelshap', { samples: Number(args.lime), segments: 50 }],
  ['rise', { masks: Number(args.rise) }],
];

/** Every ensemble evaluated; `weights: 'metrics'` = leave-one-image-out weights from deletion + insertion. */
interface EnsembleCase { label: string; spec: EnsembleSpec; weights?: 'metrics' }
const ENSEMBLES: EnsembleCase[] = [
  { label: 'mean', spec: { combiner: 'mean' } },
  { label: 'weighted (metric weights)', spec: { combiner: 'weighted' }, weights: 'metrics' },
  { label: 'variance-aware', spec: { combiner: 'variance' } },
  { label: 'median', spec: { combiner: 'median' } },
  { label: 'trimmed', spec: { combiner: 'trimmed' } },
  { label: 'geometric', spec: { combiner: 'geometric' } },
  { label: 'borda (16px cells)', spec: { combiner: 'borda' } },
  { label: 'rrf (16px cells)', spec: { combiner: 'rrf' } },
  { label: 'region-detail (gradcam gates)', spec: { combiner: 'region-detail', options: { coarse: 'gradcam' } } },
  { label: 'region-detail weighted', spec: { combiner: 'region-detail', options: { coarse: 'gradcam' } }, weights: 'metrics' },
  { label: 'mean / percentile', spec: { combiner: 'mean', normaliser: 'percentile' } },
  { label: 'mean / zscore', spec: { combiner: 'mean', normaliser: 'zscore' } },
  { label: 'mean / robust', spec: { combiner: 'mean', normaliser: 'robust' } },
  { label: 'mean / rank', spec: { combiner: 'mean', normaliser: 'rank' } },
  { label: 'mean / second-moment', spec: { combiner: 'mean', normaliser: 'second-moment' } },
  { label: 'mean / positive only', spec: { combiner: 'mean', sign: 'positive' } },
];

interface Scores { deletion: number; insertion: number }
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : '-');

async function faithfulness(model: Classifier, image: PreparedImage, target: Target, map: Map2D, steps: number, control = false) {
  const input = { image, target, map, model };
  const [d, i] = await Promise.all([
    deletion.compute(input, deletion.settings({ steps, control }), SEED),
    insertion.compute(input, insertion.settings({ steps, control }), SEED),
  ]);
  return { scores: { deletion: d.value, insertion: i.value }, control: control ? { deletion: d.control!.value, insertion: i.control!.value } : undefined };
}

function table(title: string, rows: { name: string; s: Scores[]; note?: string }[]): string {
  const lines = [`\n${title}`, '| method | deletion (lower better) | insertion (higher better) | insertion - deletion |', '|---|---:|---:|---:|'];
  for (const r of rows) {
    const d = mean(r.s.map((x) => x.deletion));
    const ins = mean(r.s.map((x) => x.insertion));
    lines.push(`| ${r.name}${r.note ? ` ${r.note}` : ''} | ${fmt(d)} | ${fmt(ins)} | ${fmt(ins - d)} |`);
  }
  return lines.join('\n');
}

type ImageResult = { file: string; target: Target; scores: Record<string, Scores>; random: Scores; weights: Record<string, number> };

/** Per image: the single methods, their faithfulness, then every ensemble. Metric weights for image k come from
 * the single methods' deletion + insertion on images 0..k-1 (uniform for the first image), so results can be
 * written after every image and no image's own scores leak into its weights. */
async function realModel(key: keyof typeof MODELS, files: { filename: string }[], steps: number, onImage: (done: ImageResult[], seconds: number) => Promise<void>) {
  const model = await Classifier.load(modelPath(MODELS[key]), { batchSize: 16, threads: Number(args.threads) });
  const done: ImageResult[] = [];
  const history: MetricRow[] = [];
  const t0 = performance.now();
  for (const { filename } of files) {
    const { prepared } = await prepareImageFile(sample(filename), model);
    const out = await model.predict([prepared.input]);
    const target: Target = { classIndex: argmax(out.probabilities, 0, out.numClasses), score: 'probability' };
    const singles: Explanation[] = [];
    for (const [name, settings] of SINGLES) {
      const ex = getExplainer(name);
      singles.push(await ex.explain(prepared, target, ex.settings(settings), SEED, { model }));
    }
    const scores: Record<string, Scores> = {};
    let random: Scores | undefined;
    await Promise.all(singles.map(async (e) => {
      const r = await faithfulness(model, prepared, target, e.map, steps, e.method === 'gradcam');
      scores[e.method] = r.scores;
      if (r.control) random = r.control;
    }));
    const w = history.length
      ? weightsFromMetrics(history, { name: `previous-${done.length}-images` })
      : manualWeights(Object.fromEntries(SINGLES.map(([n]) => [n, 1])), { name: 'uniform', note: 'first image: no earlier measurements' });
    await Promise.all(ENSEMBLES.map(async (c) => {
      const e = buildEnsemble(singles, { ...c.spec, ...(c.weights ? { weights: w } : {}) });
      scores[c.label] = (await faithfulness(model, prepared, target, e.map, steps)).scores;
    }));
    for (const e of singles) {
      history.push({ method: e.method, metric: 'deletion', value: scores[e.method].deletion, higherIsBetter: false, image: filename });
      history.push({ method: e.method, metric: 'insertion', value: scores[e.method].insertion, higherIsBetter: true, image: filename });
    }
    done.push({ file: filename, target, scores, random: random!, weights: w.weights });
    const seconds = (performance.now() - t0) / 1000;
    process.stderr.write(`  ${key}: ${done.length}/${files.length} images (${seconds.toFixed(0)} s)\n`);
    await onImage(done, seconds);
  }
  await model.dispose();
}

function verdict(key: string, perImage: { scores: Record<string, Scores> }[]): string {
  const gain = (name: string) => perImage.map((p) => p.scores[name].insertion - p.scores[name].deletion);
  const best = (names: string[]) => names.map((n) => ({ n, g: mean(gain(n)) })).sort((a, b) => b.g - a.g)[0];
  const s = best(SINGLES.map(([n]) => n));
  const compare = (name: string) => {
    const g = mean(gain(name));
    const better = gain(name).filter((v, i) => v > gain(s.n)[i]).length;
    return `${name} (${fmt(g)}): ${g - s.g >= 0 ? '+' : ''}${fmt(g - s.g)} vs the best single method `
      + `(${(((g - s.g) / Math.abs(s.g)) * 100).toFixed(1)}%), better on ${better}/${perImage.length} images`;
  };
  const e = best(ENSEMBLES.map((c) => c.label));
  const who = e.g > s.g ? `an ensemble wins ("${e.n}")` : e.g === s.g ? 'tie' : `the single method "${s.n}" wins`;
  return `${key}: ${who}. Best single method: ${s.n} (insertion - deletion ${fmt(s.g)}).\n`
    + `  best ensemble ${compare(e.n)}.\n`
    + `  plain mean (no selection among ensembles) ${compare('mean')}.`;
}

/** The table and verdict of one model from its per-image results. */
function realTable(key: keyof typeof MODELS, done: ImageResult[], steps: number, seconds: number): string {
  const rows = [
    ...SINGLES.map(([name]) => ({ name, s: done.map((p) => p.scores[name]) })),
    ...ENSEMBLES.map((c) => ({ name: `ensemble: ${c.label}`, s: done.map((p) => p.scores[c.label]) })),
    { name: 'random map (chance)', s: done.map((p) => p.random) },
  ];
  return table(`${key} (${MODELS[key]}): ${done.length} images, ${steps} steps, target = top-1 probability${seconds ? `, ${seconds.toFixed(0)} s` : ''}`, rows)
    + `\n\n${verdict(key, done)}\n`;
}

async function main() {
  const parts = args.part!.split(',');
  await mkdir(args.out!, { recursive: true });
  const report: string[] = [];
  if (parts.includes('known')) {
    const known = await knownEvidenceBenchmark({ images: Number(args['known-images']), seed: SEED, threads: Number(args.threads) });
    report.push(known.text);
    await writeFile(path.join(args.out!, 'known-evidence.json'), JSON.stringify(known.json, null, 2));
    console.log(known.text);
  }
  if (parts.includes('render')) {
    // Re-print the tables from <out>/<model>/<model>.json files written by earlier runs (e.g. one process per model).
    for (const key of args.models!.split(',') as (keyof typeof MODELS)[]) {
      const saved = JSON.parse(await readFile(path.join(args.out!, key, `${key}.json`), 'utf8')) as { steps: number; seconds?: number; images: ImageResult[] };
      const text = realTable(key, saved.images, saved.steps, saved.seconds ?? 0);
      report.push(text);
      console.log(text);
    }
  }
  if (parts.includes('real')) {
    if (!HAS_DATA) {
      console.log(`[skip] real-model tables: ${DATA} not found`);
    } else {
      const n = Number(args.images);
      const all = await manifest();
      // Spread over the class range, the same images for every model.
      const files = Array.from({ length: n }, (_, k) => all[Math.floor(((k + 0.5) * all.length) / n)]);
      const steps = Number(args.steps);
      for (const key of args.models!.split(',') as (keyof typeof MODELS)[]) {
        let text = '';
        await realModel(key, files, steps, async (done, seconds) => {
          text = realTable(key, done, steps, seconds);
          await writeFile(path.join(args.out!, `${key}.md`), text);
          await writeFile(path.join(args.out!, `${key}.json`), JSON.stringify({ model: MODELS[key], steps, seconds, singles: SINGLES, ensembles: ENSEMBLES, images: done }, null, 2));
        });
        report.push(text);
        console.log(text);
      }
    }
  }
  await writeFile(path.join(args.out!, 'report.md'), report.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
