// saliency ensemble-compare: does each ensemble beat the plain mean and the best single member? Weightings are
// fitted and the best member chosen on training images (--train, or k folds over the images), and scored on
// the others (engine/ensemble/compare.ts).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { MODEL_OPTIONS, MODEL_USAGE, collectImages, describeModel, intOption, listOption, loadModelFromArgs } from '../common.ts';
import { parseSettings } from './explain.ts';
import { toCsv } from './evaluate.ts';
import { writeFileAtomic } from '../output/atomic.ts';
import { checkRunnable } from '../../engine/explain/runnable.ts';
import { getExplainer } from '../../engine/explain/registry.ts';
import type { Explanation, PreparedImage } from '../../engine/explain/types.ts';
import { prepareImageFile } from '../../engine/image/prepare.ts';
import { getMetric } from '../../engine/metrics/registry.ts';
import { decodeNpy, encodeNpy } from '../../engine/io/npy.ts';
import { argmax } from '../../engine/util/math.ts';
import { METRIC_SCORE, PROTOCOL_VERSION, metricTarget, referenceScore } from '../../engine/protocol.ts';
import { SaliencyError } from '../../engine/types.ts';
import { WEIGHTINGS, WEIGHTING_NAMES, compareEnsembles, formatCompareTable, kFolds, type Faithfulness, type ImageMembers, type Split } from '../../engine/ensemble/compare.ts';

export const ensembleCompare: Command = {
  name: 'ensemble-compare',
  summary: 'every ensemble against the plain mean and the best single member, fitted on other images (paired intervals, Holm)',
  usage: `Usage: saliency ensemble-compare <image|folder...> --model <file> --method a,b,... --out <dir>
                                 (--train <image|folder> ... | --folds <k>) [options]

  --method <list>      the members (at least two)
  --train <path>       training images (repeatable): weightings are fitted and the best member is chosen on
                       these; the positional images are only scored. Must not overlap them.
  --folds <k>          instead of --train: k-fold cross-validation over the positional images
  --weightings <list>  default all: ${WEIGHTING_NAMES.join(', ')}
  --set x.key=value    a method or metric setting (e.g. --set rise.masks=500 --set deletion.steps=20)
  --seed <n>           seed of every random choice (default 0)
  --maps <dir>         cache of the members' maps (<dir>/<method>/<image>.npy + .json): reused if present.
                       One directory per model and settings: the cache does not check them.

${MODEL_USAGE}

Objective: insertion - deletion AUC on the target's probability (docs/protocol.md), target = the top-1
class, each member on its reference score; the random-map control is scored once per image. Weightings:
${WEIGHTINGS.map((w) => `  ${w.name}: ${w.description}`).join('\n')}
Writes <out>/ensemble-compare.json (per image, fits with provenance, summary, comparisons; kept current as
test images finish), <out>/comparisons.csv and <out>/table.md.`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv, allowPositionals: true,
      options: {
        ...MODEL_OPTIONS, out: { type: 'string', short: 'o' }, method: { type: 'string' }, train: { type: 'string', multiple: true },
        folds: { type: 'string' }, weightings: { type: 'string' }, set: { type: 'string', multiple: true }, seed: { type: 'string' }, maps: { type: 'string' },
      },
    });
    if (!values.out) throw new SaliencyError('--out <dir> is required', 'BAD_USAGE');
    const methods = listOption(values.method, 'method', '');
    if (methods.length < 2) throw new SaliencyError('--method: give at least two members', 'BAD_USAGE');
    const explainers = methods.map((m) => getExplainer(m));
    if (!!values.train === !!values.folds) throw new SaliencyError('give either --train <images> or --folds <k>', 'BAD_USAGE');
    const weightings = values.weightings ? listOption(values.weightings, 'weightings', '') : undefined;
    const custom = parseSettings(values.set ?? []);
    for (const k of Object.keys(custom)) {
      if (!methods.includes(k) && k !== 'deletion' && k !== 'insertion') throw new SaliencyError(`--set names "${k}", which is none of --method, deletion or insertion`, 'BAD_SETTING');
    }
    const seed = intOption(values.seed, 'seed', 0) ?? 0;
    const { items: testItems, errors } = await collectImages(positionals);
    const trainItems = values.train ? (await collectImages(values.train)).items : [];
    if (errors.length) throw new SaliencyError(`${errors[0].file}: ${errors[0].error}`, 'BAD_INPUT');
    const test = testItems.map((i) => i.file);
    const splits: Split[] = values.folds ? kFolds(test, intOption(values.folds, 'folds', 2)!) : [{ train: trainItems.map((i) => i.file), test }];

    const model = await loadModelFromArgs(values);
    checkRunnable(model.info, methods);
    if (!values.json) console.error(describeModel(model));
    const metrics = (['deletion', 'insertion'] as const).map((n) => { const m = getMetric(n); return { m, settings: m.settings({ ...(custom[n] ?? {}), control: false }), withControl: m.settings({ ...(custom[n] ?? {}), control: true }) }; });
    const settings = explainers.map((e, i) => e.settings(custom[methods[i]] ?? {}));
    const prepared = new Map<string, { image: PreparedImage; classIndex: number; map?: Explanation['map'] }>();

    const load = async (file: string): Promise<ImageMembers> => {
      const { prepared: image } = await prepareImageFile(file, model);
      const out = await model.predict([image.input]);
      const classIndex = argmax(out.logits, 0, out.numClasses);
      prepared.set(file, { image, classIndex });
      const stem = path.basename(file).replace(/\.[^.]+$/, '');
      const members: Explanation[] = [];
      for (let i = 0; i < methods.length; i++) {
        const target = { classIndex, score: referenceScore(methods[i]) };
        members.push(await cachedExplain(values.maps, methods[i], stem, target, () => explainers[i].explain(image, target, settings[i], seed, { model })));
      }
      prepared.get(file)!.map = members[0].map; // the random-map control needs a map of the right size
      return { image: file, members, confidence: out.probabilities[classIndex] };
    };
    const scoreWith = async (file: string, map: Explanation['map'], control: boolean): Promise<Faithfulness> => {
      const p = prepared.get(file)!;
      const target = { classIndex: p.classIndex, score: METRIC_SCORE };
      const v: number[] = [];
      for (const { m, settings: s, withControl } of metrics) {
        const r = await m.compute({ image: p.image, target: metricTarget(m, target), map, model }, control ? withControl : s, seed);
        v.push(control ? r.control!.value : r.value);
      }
      return { deletion: v[0], insertion: v[1] };
    };
    const meta = {
      model: { name: model.info.name, sha256: model.info.sha256 }, methods, methodSettings: settings, metricSettings: Object.fromEntries(metrics.map((x) => [x.m.name, x.settings])),
      protocol: PROTOCOL_VERSION, seed, splits: values.folds ? `${values.folds} folds` : 'train/test',
    };
    await mkdir(values.out, { recursive: true });
    const write = async (r: Awaited<ReturnType<typeof compareEnsembles>>) => {
      await writeFileAtomic(path.join(values.out!, 'ensemble-compare.json'), JSON.stringify({ ...meta, ...r }, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1));
      await writeFileAtomic(path.join(values.out!, 'comparisons.csv'), toCsv(['weighting', 'against', 'n', 'diff', 'ci95_lo', 'ci95_hi', 'p', 'p_holm', 'better', 'worse', 'winner', 'verdict'],
        r.comparisons.map((c) => [c.weighting, c.against, c.n, c.diff, c.ci95[0], c.ci95[1], c.p, c.pHolm, c.better, c.worse, c.winner, c.verdict])));
      await writeFileAtomic(path.join(values.out!, 'table.md'), `${formatCompareTable(r)}\n\nn = ${r.perImage.length} test images; ${r.notes.join(' ')}\n`);
      if (!values.json) process.stderr.write(`\r${r.perImage.length}/${test.length} test images scored`);
    };
    const result = await compareEnsembles(splits, load, (f, map) => scoreWith(f, map, false), (f) => scoreWith(f, prepared.get(f)!.map!, true), { weightings, seed, onImage: write });
    await write(result);
    if (!values.json) process.stderr.write('\n');
    if (values.json) console.log(JSON.stringify({ summary: result.summary, comparisons: result.comparisons }, null, 2));
    else console.log(`${formatCompareTable(result)}\n\n${result.comparisons.map((c) => `${c.weighting} vs ${c.against}: ${c.verdict}`).join('\n')}`);
    await model.dispose();
    return 0;
  },
};

/** A member's map from the cache directory (the format of scripts/eval-faithfulness.ts --maps), or explained and stored. */
async function cachedExplain(dir: string | undefined, method: string, stem: string, target: Explanation['target'], run: () => Promise<Explanation>): Promise<Explanation> {
  const file = dir && path.join(dir, method, stem);
  if (file) {
    try {
      const meta = JSON.parse(await readFile(`${file}.json`, 'utf8')) as { width: number; height: number; evaluations: number; millis: number; score: string; settings?: Record<string, unknown>; seed?: number };
      const { data } = decodeNpy(await readFile(`${file}.npy`));
      return { method, target, map: { width: meta.width, height: meta.height, data: data as Float32Array }, evaluations: meta.evaluations, settings: meta.settings ?? {}, seed: meta.seed ?? 0, extras: { cached: true }, millis: meta.millis };
    } catch { /* not cached yet */ }
  }
  const e = await run();
  if (file) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(`${file}.npy`, encodeNpy(e.map.data, [e.map.height, e.map.width]));
    await writeFile(`${file}.json`, JSON.stringify({ evaluations: e.evaluations, millis: e.millis, score: e.target.score, native: e.native ? [e.native.width, e.native.height] : null, width: e.map.width, height: e.map.height, settings: e.settings, seed: e.seed }));
  }
  return e;
}
