// saliency evaluate: metrics (faithfulness, localisation, robustness, complexity, sanity, agreement) of the maps
// of one or more methods, per image and summarised, as CSV and JSON.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { MODEL_OPTIONS, MODEL_USAGE, collectImages, describeModel, intOption, listOption, loadModelFromArgs, parseScore, parseTarget } from '../common.ts';
import { resolveSettings } from '../../engine/explain/check-settings.ts';
import { checkRunnable } from '../../engine/explain/runnable.ts';
import { forEachImage, type ItemError } from '../image-loop.ts';
import { RunOutput } from '../output/run-output.ts';
import { ensureOutDir, writeFileAtomic } from '../output/atomic.ts';
import { parseSettings } from './explain.ts';
import { predictTopK } from '../../engine/predict.ts';
import { EXPLAINER_NAMES, getExplainer } from '../../engine/explain/registry.ts';
import type { Explanation, PreparedImage } from '../../engine/explain/types.ts';
import { METRIC_NAMES, getMetric } from '../../engine/metrics/registry.ts';
import type { Annotation, MetricResult } from '../../engine/metrics/types.ts';
import { SaliencyError } from '../../engine/types.ts';
import { METRIC_SCORE, PROTOCOL_VERSION, metricTarget, referenceScore } from '../../engine/protocol.ts';
import { buildEnsemble } from '../../engine/ensemble/build.ts';
import { ensembleSpecs, loadWeights } from '../../engine/ensemble/weights/load.ts';
import { encodeNpy } from '../../engine/io/npy.ts';
import { evaluationSummary, formatSummary, pairsCsvRow, PAIRS_CSV_HEADER, SUMMARY_CSV_HEADER, summaryCsvRow } from '../../engine/evaluation/summary.ts';

export interface EvaluationRow {
  image: string;
  method: string;
  metric: string;
  value: number;
  higherIsBetter: boolean;
  control: number | null;
  /** Whether the map scored better than the random-map control (faithfulness metrics). */
  beatsControl: boolean | null;
  millis: number;
  curve?: MetricResult['curve'];
  controlCurve?: MetricResult['curve'];
  extras?: Record<string, unknown>;
}

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
export const toCsv = (header: string[], rows: unknown[][]) => [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';

/** Boxes file: {"<image file name>": [[x0, y0, x1, y1], ...]} in original-image pixels. */
async function readBoxes(file: string): Promise<Map<string, [number, number, number, number][]>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new SaliencyError(`--boxes ${file}: ${(e as Error).message}`, 'BAD_ANNOTATION');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new SaliencyError(`--boxes ${file}: expected {"image.jpg": [[x0,y0,x1,y1], ...]}`, 'BAD_ANNOTATION');
  const out = new Map<string, [number, number, number, number][]>();
  for (const [name, boxes] of Object.entries(parsed)) {
    if (!Array.isArray(boxes) || !boxes.every((b) => Array.isArray(b) && b.length === 4 && b.every((v) => typeof v === 'number'))) {
      throw new SaliencyError(`--boxes ${file}: "${name}" must be a list of [x0, y0, x1, y1]`, 'BAD_ANNOTATION');
    }
    out.set(path.basename(name), boxes as [number, number, number, number][]);
  }
  return out;
}

/** Boxes in original pixels -> the model-input grid (through the crop). */
function boxesToInput(boxes: [number, number, number, number][], image: PreparedImage): Annotation {
  const t = image.transform;
  const sx = t.inputWidth / t.crop.width;
  const sy = t.inputHeight / t.crop.height;
  return { boxes: boxes.map(([x0, y0, x1, y1]) => [(x0 - t.crop.x) * sx, (y0 - t.crop.y) * sy, (x1 - t.crop.x) * sx, (y1 - t.crop.y) * sy]) };
}

function row(image: string, method: string, r: MetricResult, withCurves: boolean): EvaluationRow {
  const control = r.control ? r.control.value : null;
  return {
    image, method, metric: r.metric, value: r.value, higherIsBetter: r.higherIsBetter, control,
    beatsControl: control === null ? null : r.higherIsBetter ? r.value > control : r.value < control,
    millis: Math.round(r.millis),
    ...(withCurves ? { curve: r.curve, controlCurve: r.control?.curve, extras: r.extras } : {}),
  };
}

/** The four tables from the rows done so far; each file is replaced atomically (complete or absent). */
async function writeEvaluationTables(
  out: string, meta: Record<string, unknown>, rows: EvaluationRow[], skipped: unknown[], images: number, errors: ItemError[],
): Promise<void> {
  const { summary, pairs, notes } = evaluationSummary(rows, { seed: Number(meta.seed ?? 0) });
  await writeFileAtomic(path.join(out, 'per-image.csv'), toCsv(
    ['image', 'method', 'metric', 'value', 'control', 'beats_control', 'higher_is_better', 'millis'],
    rows.map((r) => [r.image, r.method, r.metric, r.value, r.control, r.beatsControl, r.higherIsBetter, r.millis])));
  await writeFileAtomic(path.join(out, 'summary.csv'), toCsv(SUMMARY_CSV_HEADER, summary.map(summaryCsvRow)));
  await writeFileAtomic(path.join(out, 'pairs.csv'), toCsv(PAIRS_CSV_HEADER, pairs.map(pairsCsvRow)));
  await writeFileAtomic(path.join(out, 'per-image.json'), JSON.stringify({ ...meta, rows, skipped, errors }, null, 1));
  await writeFileAtomic(path.join(out, 'summary.json'), JSON.stringify({ ...meta, summary, pairs, statistics: notes, images, errors }, null, 2));
}

export const evaluate: Command = {
  name: 'evaluate',
  summary: 'evaluation metrics of saliency maps (deletion, insertion, AOPC, ROAD, pointing game, ...) as CSV/JSON tables',
  usage: `Usage: saliency evaluate <image|folder...> --model <file> --out <dir> [options]

  --method <list>      comma-separated, default gradcam; known: ${EXPLAINER_NAMES.join(', ')}
  --metric <list>      comma-separated, default deletion,insertion; known: ${METRIC_NAMES.join(', ')}
                       (spearman and topk-iou compare every pair of methods)
  --target <t>         top1 (default), a class index, or a label
  --score <s>          logit or probability: the score every method explains (default: each method's
                       reference score, docs/protocol.md); metrics always follow the target's probability
  --seed <n>           seed of every random choice (default 0): the same seed gives the same numbers
  --set x.key=value    a method or metric setting, repeatable (e.g. --set rise.masks=2000 --set deletion.steps=100)
  --ensemble <list>    also the methods' maps combined per image (e.g. mean,variance,weighted), scored as
                       method ensemble:<name> under the same protocol, seed and random-map controls
  --weights <file>     weight set for weighted ensembles (saliency ensemble-weights' JSON, or {"gradcam": 2, ...})
  --save-maps <dir>    every map (methods and ensembles) as <dir>/<image>/<method>.npy
  --boxes <file.json>  ground truth for pointing games: {"image.jpg": [[x0,y0,x1,y1], ...]} in original pixels
  --no-curves          leave the curves out of per-image.json
  --resume             skip images already done in --out with the same model and settings (file unchanged)

${MODEL_USAGE}

Faithfulness metrics are also computed on seeded smooth random maps: the control is their mean over
controlSamples maps (default 4) of controlGrain x controlGrain cells (default 7; 0 = per pixel), e.g.
--set deletion.controlSamples=8. Writes <out>/per-image.csv and per-image.json (with the curves), and
<out>/summary.csv and summary.json (per method and metric: n, mean with its 95% bootstrap interval ci95,
std, median, control mean, vsControl = the paired difference map - control with its interval, share of images
beating the control) and pairs.csv / summary.json's pairs (per metric, each pair of methods: the paired
difference over images with its interval, Holm-adjusted p and the verdict; a method is "better" only when the
interval excludes 0), kept current as images finish (each file replaced atomically), and each image's rows in
<out>/per-image/<name>.json as soon as it is done. Exit status: 0 all done, 1 some failed, 2 bad usage,
130 interrupted (Ctrl-C; finished images are kept: --resume goes on).`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv, allowPositionals: true,
      options: {
        ...MODEL_OPTIONS, out: { type: 'string', short: 'o' }, method: { type: 'string' }, metric: { type: 'string' },
        target: { type: 'string' }, score: { type: 'string' }, seed: { type: 'string' }, set: { type: 'string', multiple: true },
        boxes: { type: 'string' }, 'no-curves': { type: 'boolean' }, resume: { type: 'boolean' },
        ensemble: { type: 'string' }, weights: { type: 'string' }, 'save-maps': { type: 'string' },
      },
    });
    if (!values.out) throw new SaliencyError('--out <dir> is required', 'BAD_USAGE');
    const methods = listOption(values.method, 'method', 'gradcam');
    const explainers = methods.map((m) => getExplainer(m));
    const metricNames = listOption(values.metric, 'metric', 'deletion,insertion');
    const metrics = metricNames.map((m) => getMetric(m));
    const custom = parseSettings(values.set ?? []);
    // Ensembles (issue 20): built per image from the methods' maps exactly as a job builds them (jobs/commit.ts).
    const ensembleNames = values.ensemble ? listOption(values.ensemble, 'ensemble', '') : [];
    if (ensembleNames.length && methods.length < 2) throw new SaliencyError('--ensemble combines methods: give at least two with --method', 'BAD_USAGE');
    if (values.weights && !ensembleNames.length) throw new SaliencyError('--weights is for --ensemble (e.g. --ensemble weighted)', 'BAD_USAGE');
    const weightSet = values.weights ? await loadWeights(values.weights) : undefined;
    for (const k of Object.keys(custom)) {
      if (!methods.includes(k) && !metricNames.includes(k) && !ensembleNames.includes(k)) throw new SaliencyError(`--set names "${k}", which is none of --method, --metric or --ensemble`, 'BAD_SETTING');
    }
    const ensembles = ensembleSpecs(ensembleNames, weightSet, custom);
    const methodSettings = explainers.map((e, i) => resolveSettings(e, custom[methods[i]] ?? {}));
    const metricSettings = metrics.map((m, i) => m.settings(custom[metricNames[i]] ?? {}));
    const pairwise = metrics.some((m) => m.tags.needs.referenceMap);
    if (pairwise && methods.length < 2) throw new SaliencyError(`agreement metrics compare methods: give at least two with --method`, 'BAD_USAGE');
    const seed = intOption(values.seed, 'seed', 0) ?? 0;
    // The evaluation protocol (docs/protocol.md): each method explains its reference score unless --score says
    // otherwise; faithfulness metrics follow the probability (metricTarget), whatever the map explains.
    const scores = methods.map((m) => parseScore(values.score, referenceScore(m)));
    const boxes = values.boxes ? await readBoxes(values.boxes) : undefined;
    if (!boxes && metrics.some((m) => m.tags.needs.annotations)) throw new SaliencyError(`${metrics.filter((m) => m.tags.needs.annotations).map((m) => m.name).join(', ')} need --boxes`, 'BAD_USAGE');
    const withCurves = !values['no-curves'];

    await ensureOutDir(values.out); // before the model is loaded: a bad --out is found at once
    const model = await loadModelFromArgs(values);
    checkRunnable(model.info, methods);
    const targetArg = parseTarget(values.target, model);
    const { items, errors: inputErrors } = await collectImages(positionals);
    if (!values.json) console.error(describeModel(model));

    const info = model.info;
    const meta = {
      model: { name: info.name, sha256: info.sha256, preset: info.preset.name, resize: info.resize },
      methods, methodSettings, ...(ensembles.length ? { ensembles } : {}), metrics: metricNames, metricSettings, scores, protocol: PROTOCOL_VERSION, seed,
      tags: Object.fromEntries(metrics.map((m) => [m.name, { ...m.tags, description: m.description }])),
    };
    type ImageRows = { rows: EvaluationRow[]; skipped: { file: string; metric: string; reason: string }[] };
    let loopErrors: ItemError[] = [];
    const allErrors = () => [...inputErrors, ...loopErrors];
    const out = await RunOutput.open<ImageRows>(values.out, items, {
      recordPath: (name) => path.join('per-image', `${name}.json`),
      config: { meta, target: targetArg, boxes: boxes ? [...boxes] : null, withCurves }, resume: !!values.resume,
      writeSummary: (done) => writeEvaluationTables(values.out!, meta, done.flatMap((d) => d.rows), done.flatMap((d) => d.skipped), items.length, allErrors()),
    });

    const loop = await forEachImage(items, model, async (item, img) => {
      const { file } = item;
      const rows: EvaluationRow[] = [];
      const skipped: ImageRows['skipped'] = [];
      const image = img.prepared;
      const [predictions] = await predictTopK(model, [image.input], 1);
      const classIndex = targetArg === 'top1' ? predictions[0].classIndex : targetArg;
      const targets = scores.map((score) => ({ classIndex, score }));
      const target = { classIndex, score: METRIC_SCORE };
      const name = path.basename(file);
      const boxList = boxes?.get(name);
      const annotation = boxList ? boxesToInput(boxList, image) : undefined;
      const maps: Explanation[] = [];
      for (let i = 0; i < explainers.length; i++) maps.push(await explainers[i].explain(image, targets[i], methodSettings[i], seed, { model }));
      const combined = ensembles.map((spec) => buildEnsemble(maps, spec));
      if (values['save-maps']) {
        const dir = path.join(values['save-maps'], name.replace(/\.[^.]+$/, ''));
        await mkdir(dir, { recursive: true });
        for (const m of [...maps, ...combined]) await writeFile(path.join(dir, `${m.method.replace(':', '-')}.npy`), encodeNpy(m.map.data, [m.map.height, m.map.width]));
      }
      for (let j = 0; j < metrics.length; j++) {
        const metric = metrics[j];
        if (metric.tags.needs.annotations && !annotation) {
          skipped.push({ file, metric: metric.name, reason: 'no boxes for this image' });
          continue;
        }
        if (metric.tags.needs.referenceMap) {
          for (let a = 0; a < maps.length; a++) for (let b = a + 1; b < maps.length; b++) {
            const r = await metric.compute({ image, target, map: maps[a].map, reference: maps[b].map }, metricSettings[j], seed);
            rows.push(row(file, `${methods[a]}|${methods[b]}`, r, withCurves));
          }
          continue;
        }
        for (let i = 0; i < maps.length; i++) {
          const r = await metric.compute({
            image, target: metricTarget(metric, targets[i]), map: maps[i].map, model, annotation,
            explainer: { explainer: explainers[i], settings: methodSettings[i], seed },
          }, metricSettings[j], seed);
          rows.push(row(file, methods[i], r, withCurves));
        }
        for (const e of combined) {
          // an ensemble has no explainer to re-run (as in a job: pipeline/evaluate-stored.ts)
          if (metric.tags.needs.explainerReruns) { skipped.push({ file, metric: `${metric.name} (${e.method})`, reason: 'an ensemble has no explainer to re-run' }); continue; }
          const r = await metric.compute({ image, target: metricTarget(metric, e.target), map: e.map, model, annotation }, metricSettings[j], seed);
          rows.push(row(file, e.method, r, withCurves));
        }
      }
      await out.imageDone(item, { rows, skipped });
      if (!values.json) {
        const mine = rows;
        console.log(`${file}: ${predictions[0].label} — ${mine.map((r) => `${r.method} ${r.metric} ${r.value.toFixed(4)}${r.control !== null ? ` (control ${r.control.toFixed(4)})` : ''}`).join('; ')}`);
      }
    }, { skip: (item) => out.doneBefore(item) });
    loopErrors = loop.errors;
    const unsaved = await out.finish();
    if (unsaved) process.stderr.write(`error: ${unsaved}\n`);
    const result = evaluationSummary(out.done().flatMap((d) => d.rows), { seed });
    const errors = allErrors();
    if (out.resumed && !values.json) console.error(`--resume: ${out.resumed} images were done before and kept`);
    if (values.json) console.log(JSON.stringify({ summary: result.summary, pairs: result.pairs, errors }, null, 2));
    else console.log(formatSummary(result));
    await model.dispose();
    if (loop.interrupted) return 130;
    return errors.length || unsaved ? 1 : 0;
  },
};
