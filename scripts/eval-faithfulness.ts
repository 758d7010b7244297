// Faithfulness on the real models and sample images under the evaluation protocol (docs/protocol.md):
// deletion and insertion (RISE protocol, 50 steps) always follow the top-1 class's softmax probability, with
// the random-map control (the mean over `--controls` seeded smooth random maps, shared by every method of an
// image). The maps explain, by default, the score each method's authors explain (--explain-score native):
// Grad-CAM the pre-softmax score y^c (Selvaraju et al.), LIME and RISE the probability (their reference code).
// Per model it writes one JSON file (rows in `saliency evaluate`'s per-image shape, and the same summary and
// pairs: src-main/engine/evaluation/summary.ts) and prints the summary with 95% intervals and the pair verdicts.
// Usage: node --import tsx scripts/eval-faithfulness.ts [--images 30] [--models squeezenet,mobilenet,shufflenet]
//          [--methods gradcam,lime,rise] [--steps 50] [--seed 0] [--controls 4] [--explain-score native]
//          [--set rise.masks=2000 ...] [--offset 0] [--threads 0 = one per core] [--out-dir docs/results] [--metrics deletion,insertion]
//          [--maps <dir>]        cache of the explanations (one .npy + .json per image and method): reused if present
//          [--explain-only]      only fill the --maps cache (the costly part), no metrics
//        or --table a.json,b.json,... [--stats-out file.json] to print the README table from the files of several
//           runs (also the earlier format with per-image `results`), and write their summaries. Files of one model
//           are merged: a later file's (image, method, metric) values replace an earlier one's.
//           --earlier-metrics deletion keeps only those metrics from files in the earlier format (e.g. when
//           insertion has changed since and was re-run). --out-dir writes each model's merged file.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { manifestRows, spreadSampleImages } from './bench-util.ts';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Classifier } from '../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../src-main/engine/image/prepare.ts';
import { getExplainer } from '../src-main/engine/explain/registry.ts';
import { getMetric } from '../src-main/engine/metrics/registry.ts';
import { argmax } from '../src-main/engine/util/math.ts';
import { encodeNpy, decodeNpy } from '../src-main/engine/io/npy.ts';
import { parseSettings } from '../src-main/cli/commands/explain.ts';
import type { Map2D } from '../src-main/engine/types.ts';
import { evaluationSummary, formatSummary, type EvaluationSummary, type PerImageRow } from '../src-main/engine/evaluation/summary.ts';
import { rmsFrequency } from '../src-main/engine/stats/map-measures.ts';
import { PROTOCOL_VERSION, referenceScore } from '../src-main/engine/protocol.ts';

const MODEL_FILES: Record<string, string> = {
  squeezenet: 'squeezenet1.1-fp32.onnx', mobilenet: 'mobilenetv2-12-int8.with-features.onnx', shufflenet: 'shufflenet-v2-12-qdq.with-features.onnx',
};
const MODEL_TITLES: Record<string, string> = { squeezenet: 'SqueezeNet 1.1 (fp32)', mobilenet: 'MobileNetV2 (int8)', shufflenet: 'ShuffleNetV2 (QDQ)' };


interface CachedExplanation {
  map: Map2D;
  /** Model evaluations, wall-clock milliseconds (on a shared machine: indicative), native map size. */
  evaluations: number; millis: number; score: string; native: [number, number] | null;
}

export interface FaithfulnessFile {
  settings: Record<string, unknown>;
  model: { key: string; title: string; file: string; sha256: string };
  images: { image: string; top1: number; p: number; correct: boolean }[];
  explanations: { image: string; method: string; score: string; evaluations: number; millis: number; native: [number, number] | null; rmsFrequency: number }[];
  rows: PerImageRow[];
  result: EvaluationSummary;
}

async function cachedExplain(dir: string | undefined, key: string, run: () => Promise<CachedExplanation>): Promise<CachedExplanation> {
  if (dir) {
    try {
      const meta = JSON.parse(await readFile(path.join(dir, `${key}.json`), 'utf8')) as Omit<CachedExplanation, 'map'> & { width: number; height: number };
      const { data } = decodeNpy(await readFile(path.join(dir, `${key}.npy`)));
      return { ...meta, map: { width: meta.width, height: meta.height, data } };
    } catch { /* not cached yet */ }
  }
  const e = await run();
  if (dir) {
    await mkdir(path.dirname(path.join(dir, key)), { recursive: true });
    await writeFile(path.join(dir, `${key}.npy`), encodeNpy(e.map.data, [e.map.height, e.map.width]));
    const { map, ...meta } = e;
    await writeFile(path.join(dir, `${key}.json`), JSON.stringify({ ...meta, width: map.width, height: map.height }));
  }
  return e;
}

async function main(): Promise<void> {
  const data = process.env.SALIENCY_DATA ?? path.resolve(import.meta.dirname, '../../shared/data');
  const { values } = parseArgs({
    options: {
      images: { type: 'string', default: '30' }, models: { type: 'string', default: 'squeezenet,mobilenet,shufflenet' },
      methods: { type: 'string', default: 'gradcam,lime,rise' }, steps: { type: 'string', default: '50' },
      seed: { type: 'string', default: '0' }, set: { type: 'string', multiple: true }, 'out-dir': { type: 'string' },
      table: { type: 'string' }, 'stats-out': { type: 'string' }, 'earlier-metrics': { type: 'string', default: 'deletion,insertion' }, offset: { type: 'string', default: '0' }, threads: { type: 'string', default: '0' }, maps: { type: 'string' }, 'explain-only': { type: 'boolean' },
      controls: { type: 'string', default: '4' }, metrics: { type: 'string', default: 'deletion,insertion' }, 'explain-score': { type: 'string', default: 'native' },
    },
  });
  if (values.table) {
    const names = values.table.split(',');
    const files = mergeByModel(await Promise.all(names.map(async (f) => readResults(JSON.parse(await readFile(f, 'utf8')), Number(values.seed), values['earlier-metrics']!.split(',')))), Number(values.seed));
    console.log(readmeTable(files));
    // --out-dir: the merged file of each model (rows, explanations' cost and resolution, summary, pairs).
    if (values['out-dir']) {
      await mkdir(values['out-dir'], { recursive: true });
      for (const f of files) await writeFile(path.join(values['out-dir'], `faithfulness-${f.model.key}.json`), JSON.stringify(f, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1));
    }
    if (values['stats-out']) {
      await writeFile(values['stats-out'], JSON.stringify({
        sources: names.map((n) => path.basename(n)), seed: Number(values.seed), statistics: files[0]?.result.notes ?? [],
        models: files.map((f) => ({ model: f.model, settings: f.settings, images: f.rows.length ? new Set(f.rows.map((r) => r.image)).size : 0, summary: f.result.summary, pairs: f.result.pairs })),
      }, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1));
    }
    return;
  }
  const count = Number(values.images);
  const seed = Number(values.seed);
  const methods = values.methods!.split(',');
  const custom = parseSettings(values.set ?? []);
  const rows = manifestRows(data);
  const trueClass = new Map(rows.map((r) => [r[0], Number(r[1])]));
  const explainScore = values['explain-score']!;
  if (!['native', 'logit', 'probability'].includes(explainScore)) throw new Error(`--explain-score ${explainScore}: use native, logit or probability`);
  const files = spreadSampleImages(data, count, Number(values.offset));
  const deletion = getMetric('deletion');
  const insertion = getMetric('insertion');
  const controls = { controlSamples: Number(values.controls) };
  const dS = deletion.settings({ steps: Number(values.steps), ...controls });
  const iS = insertion.settings({ steps: Number(values.steps), ...controls });
  const t0 = performance.now();
  for (const name of values.models!.split(',')) {
    const file = path.join(data, 'models', MODEL_FILES[name] ?? name);
    // --threads 1 on a shared machine: ONNX Runtime's spinning intra-op threads slow down ~4x when another process takes a core
    const model = await Classifier.load(file, { batchSize: 8, threads: Number(values.threads) });
    const explainers = methods.map((m) => ({ name: m, explainer: getExplainer(m) }));
    const out: FaithfulnessFile = {
      settings: { ...values, custom, deletion: dS, insertion: iS, metricScore: 'probability', protocol: PROTOCOL_VERSION },
      model: { key: name, title: MODEL_TITLES[name] ?? name, file: path.basename(file), sha256: model.info.sha256 },
      images: [], explanations: [], rows: [], result: { summary: [], pairs: [], notes: [] },
    };
    for (const img of files) {
      const { prepared: image } = await prepareImageFile(path.join(data, 'imagenet-samples', img), model);
      const pred = await model.predict([image.input]);
      const top1 = argmax(pred.logits, 0, pred.numClasses);
      out.images.push({ image: img, top1, p: pred.probabilities[top1], correct: top1 === trueClass.get(img) });
      // Metrics always follow the probability (the protocol), whatever score the map explains.
      const target = { classIndex: top1, score: 'probability' as const };
      for (const { name: method, explainer } of explainers) {
        const score = explainScore === 'native' ? referenceScore(method) : explainScore as 'logit' | 'probability';
        const key = `${name}/${method}/${img.replace(/\.[^.]+$/, '')}`;
        const e = await cachedExplain(values.maps, key, async () => {
          const t = performance.now();
          const x = await explainer.explain(image, { ...target, score }, explainer.settings(custom[method] ?? {}), seed, { model });
          return { map: x.map, evaluations: x.evaluations, millis: performance.now() - t, score, native: x.native ? [x.native.width, x.native.height] : null };
        });
        out.explanations.push({ image: img, method, score: e.score, evaluations: e.evaluations, millis: Math.round(e.millis), native: e.native, rmsFrequency: rmsFrequency(e.map) });
        if (values['explain-only']) continue;
        for (const [metric, settings] of ([[deletion, dS], [insertion, iS]] as const).filter(([m]) => values.metrics!.split(',').includes(m.name))) {
          const r = await metric.compute({ image, target, map: e.map, model }, settings, seed);
          const control = r.control!.value;
          out.rows.push({
            image: img, method, metric: r.metric, value: r.value, higherIsBetter: r.higherIsBetter, control,
            beatsControl: r.higherIsBetter ? r.value > control : r.value < control, millis: Math.round(r.millis),
            controlValues: r.control!.extras?.values as number[] | undefined,
          });
        }
      }
      process.stderr.write(`\r${name}: ${files.indexOf(img) + 1}/${files.length} images, ${((performance.now() - t0) / 1000).toFixed(0)} s   `);
    }
    process.stderr.write('\n');
    await model.dispose();
    if (values['explain-only']) continue;
    out.result = evaluationSummary(out.rows, { seed });
    console.log(`\n${out.model.title}: ${files.length} images, target = top-1 probability, seed ${seed}`);
    console.log(formatSummary(out.result));
    if (values['out-dir']) {
      await mkdir(values['out-dir'], { recursive: true });
      await writeFile(path.join(values['out-dir'], `faithfulness-${name}.json`), JSON.stringify(out, null, 1));
    }
  }
}

/** The earlier per-image format ({settings, results: [{model, method, image, del, ins, delCtrl, insCtrl, ...}]}). */
interface EarlierResult { model: string; method: string; image: string; del: number; ins: number; delCtrl: number; insCtrl: number; delCtrls?: number[]; insCtrls?: number[]; millis: number }

/** A run's file, either format, with its summary computed by the one summary code. */
export function readResults(json: FaithfulnessFile | { settings: Record<string, unknown>; results: EarlierResult[] }, seed: number, earlierMetrics = ['deletion', 'insertion']): FaithfulnessFile {
  if ('rows' in json) return { ...json, result: evaluationSummary(json.rows, { seed }) };
  const key = json.results[0]?.model ?? '?';
  const rows: PerImageRow[] = json.results.flatMap((r) => [
    { image: r.image, method: r.method, metric: 'deletion', value: r.del, higherIsBetter: false, control: r.delCtrl, beatsControl: r.del < r.delCtrl, controlValues: r.delCtrls },
    { image: r.image, method: r.method, metric: 'insertion', value: r.ins, higherIsBetter: true, control: r.insCtrl, beatsControl: r.ins > r.insCtrl, controlValues: r.insCtrls },
  ].filter((r) => earlierMetrics.includes(r.metric)));
  return {
    settings: { ...json.settings, metrics: earlierMetrics.join(',') }, model: { key, title: MODEL_TITLES[key] ?? key, file: MODEL_FILES[key] ?? key, sha256: '' },
    images: [], explanations: [], rows, result: evaluationSummary(rows, { seed }),
  };
}

/** One file per model: rows of later files replace earlier ones with the same image, method and metric. */
function mergeByModel(files: FaithfulnessFile[], seed: number): FaithfulnessFile[] {
  const out = new Map<string, FaithfulnessFile>();
  for (const f of files) {
    const prev = out.get(f.model.key);
    if (!prev) { out.set(f.model.key, f); continue; }
    const key = (r: PerImageRow) => `${r.image}\u0000${r.method}\u0000${r.metric}`;
    const rows = new Map([...prev.rows, ...f.rows].map((r) => [key(r), r]));
    const merged = [...rows.values()];
    out.set(f.model.key, {
      ...prev, settings: { ...prev.settings, merged: [...((prev.settings.merged as unknown[]) ?? [prev.settings]), f.settings] },
      model: prev.model.sha256 ? prev.model : f.model,
      images: prev.images.length ? prev.images : f.images, explanations: [...prev.explanations, ...f.explanations],
      rows: merged, result: evaluationSummary(merged, { seed }),
    });
  }
  return [...out.values()];
}

const f3 = (x: number) => x.toFixed(3);
const ci = (c: [number, number]) => `[${f3(c[0])}, ${f3(c[1])}]`;

/** The README's tables: per model and method, deletion and insertion AUC with intervals, the control, and the
 * paired difference to the control; then per model and metric the pair verdicts. */
export function readmeTable(files: FaithfulnessFile[]): string {
  const lines = ['| model | method | n | deletion AUC ↓ [95% CI] | control | map − control [95% CI] | insertion AUC ↑ [95% CI] | control | map − control [95% CI] |', '|---|---|---|---|---|---|---|---|---|'];
  type Row = FaithfulnessFile['result']['summary'][number];
  const cell = (s: Row | undefined) => (!s ? '– | – | –' : `${f3(s.mean)} ${ci(s.ci95)} | ${s.controlMean === null ? '–' : f3(s.controlMean)} | ${s.vsControl ? `${s.vsControl.diff >= 0 ? '+' : ''}${f3(s.vsControl.diff)} ${ci(s.vsControl.ci95)}` : '–'}`);
  for (const f of files) {
    for (const method of [...new Set(f.result.summary.map((s) => s.method))]) {
      const d = f.result.summary.find((s) => s.method === method && s.metric === 'deletion');
      const i = f.result.summary.find((s) => s.method === method && s.metric === 'insertion');
      lines.push(`| ${f.model.title} | ${method} | ${[...new Set([d?.n, i?.n].filter((x) => x !== undefined))].join(' / ')} | ${cell(d)} | ${cell(i)} |`);
    }
  }
  lines.push('', '| model | metric | pairs (paired over the same images; Holm within the metric) |', '|---|---|---|');
  for (const f of files) {
    for (const metric of [...new Set(f.result.pairs.map((p) => p.metric))]) {
      const pairs = f.result.pairs.filter((p) => p.metric === metric);
      const text = pairs.map((p) => (p.winner ? p.verdict : `${p.a} vs ${p.b}: ${p.verdict}`)).join('; ');
      lines.push(`| ${f.model.title} | ${metric} | ${text} |`);
    }
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
