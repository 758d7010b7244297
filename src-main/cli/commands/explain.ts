// saliency explain: maps from one or more methods (and ensembles of them) for images or folders.
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import {
  MODEL_OPTIONS, MODEL_USAGE, collectImages, describeModel, intOption, listOption, loadModelFromArgs, parseScore, parseTarget, readJsonOption,
} from '../common.ts';
import { forEachImage, type ItemError } from '../image-loop.ts';
import { RunOutput } from '../output/run-output.ts';
import { ensureOutDir, writeFileAtomic } from '../output/atomic.ts';
import { withPrefix } from '../errors.ts';
import { resolveSettings } from '../../engine/explain/check-settings.ts';
import { checkRunnable } from '../../engine/explain/runnable.ts';
import { predictTopK } from '../../engine/predict.ts';
import { EXPLAINER_NAMES, getExplainer } from '../../engine/explain/registry.ts';
import type { Explanation } from '../../engine/explain/types.ts';
import { ENSEMBLE_NAMES, buildEnsemble, checkWeightSet } from '../../engine/ensemble/index.ts';
import { encodeNpy } from '../../engine/io/npy.ts';
import { overlayPng } from '../../engine/image/overlay.ts';
import { mapToOriginal } from '../../engine/image/upsample.ts';
import { COLORMAPS, type ColormapName } from '../../engine/image/colormap.ts';
import { SaliencyError } from '../../engine/types.ts';
import { referenceScore } from '../../engine/protocol.ts';

/** Parses repeated `--set method.key=value` into per-method settings. */
export function parseSettings(items: string[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const item of items.flatMap((s) => s.split(','))) {
    const m = /^([\w-]+)\.([\w-]+)=(.*)$/.exec(item.trim());
    if (!m) throw new SaliencyError(`--set "${item}" must look like method.setting=value (e.g. lime.samples=500)`, 'BAD_SETTING');
    const [, method, key, raw] = m;
    const value = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
    (out[method] ??= {})[key] = value;
  }
  return out;
}

/** Extras made JSON-friendly (typed arrays to arrays). */
function plain(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>);
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

export const explain: Command = {
  name: 'explain',
  summary: 'saliency maps (Grad-CAM, LIME, SHAP, RISE, ...) and ensembles for images or folders',
  usage: `Usage: saliency explain <image|folder...> --model <file> --out <dir> [options]

  --method <list>      comma-separated, default gradcam; known: ${EXPLAINER_NAMES.join(', ')}
  --ensemble <list>    combine the methods' maps: ${ENSEMBLE_NAMES.join(', ')}
  --weights <file>     a weight set (JSON from saliency ensemble-weights) for weighted ensembles
                       (ensemble options: --set ensemble.<option>=value, e.g. ensemble.coarse=gradcam)
  --target <t>         top1 (default), a class index, or a label
  --score <s>          logit or probability (default: each method's reference score, docs/protocol.md:
                       logit for CAM and gradient methods, probability for LIME, SHAP, RISE, occlusion)
  --seed <n>           random seed (default 0): the same seed gives identical maps
  --set m.key=value    a method setting, repeatable (e.g. --set lime.samples=500 --set rise.masks=2000)
  --colormap <name>    ${COLORMAPS.join(', ')} (default turbo)
  --opacity <0..1>     overlay opacity (default 0.5)
  --top-k <n>          predictions kept per image (default 5)
  --original           also write <method>.original.npy: the map at the original image's resolution
                       (NaN where the centre crop left the model nothing to see)

${MODEL_USAGE}

  --resume             skip images already done in --out with the same model and settings (file unchanged)

Writes, per image, <out>/<name>/<method>.npy (the map on the model-input grid, float32, numpy.load reads it),
<method>.png (the map over the original image) and result.json, where <name> is the image's path relative to
the inputs' common folder (e.g. a/x.jpg); and <out>/results.json (predictions, targets, settings, seeds,
evaluations, times, the model's preset and head), kept current as images finish. Every file is written
atomically (complete or absent). Exit status: 0 all done, 1 some images failed, 2 bad usage, settings or model,
130 interrupted (Ctrl-C; finished images are kept: --resume goes on).`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv, allowPositionals: true,
      options: {
        ...MODEL_OPTIONS, out: { type: 'string', short: 'o' }, method: { type: 'string' }, ensemble: { type: 'string' },
        target: { type: 'string' }, score: { type: 'string' }, seed: { type: 'string' }, set: { type: 'string', multiple: true },
        colormap: { type: 'string' }, opacity: { type: 'string' }, 'top-k': { type: 'string' },
        original: { type: 'boolean' }, weights: { type: 'string' }, resume: { type: 'boolean' },
      },
    });
    if (!values.out) throw new SaliencyError('--out <dir> is required', 'BAD_USAGE');
    const methods = listOption(values.method, 'method', 'gradcam');
    const explainers = methods.map((m) => getExplainer(m));
    const ensembles = values.ensemble === undefined ? [] : listOption(values.ensemble, 'ensemble', 'mean');
    for (const e of ensembles) if (!ENSEMBLE_NAMES.includes(e)) throw new SaliencyError(`unknown ensemble "${e}"; known: ${ENSEMBLE_NAMES.join(', ')}`, 'UNKNOWN_METHOD');
    const perMethod = parseSettings(values.set ?? []);
    const ensembleOptions = perMethod.ensemble ?? {};
    delete perMethod.ensemble;
    for (const m of Object.keys(perMethod)) if (!methods.includes(m)) throw new SaliencyError(`--set names "${m}", which is not among --method ${methods.join(',')}`, 'BAD_SETTING');
    const weights = values.weights ? checkWeightSet(await readJsonOption(values.weights, 'weights'), values.weights) : undefined;
    const needsWeights = ensembles.filter((e) => e === 'weighted' || e === 'learned');
    if (needsWeights.length && !weights) throw new SaliencyError(`--ensemble ${needsWeights.join(',')} needs --weights <file> (made by saliency ensemble-weights)`, 'BAD_WEIGHTS');
    const settings = explainers.map((e, i) => resolveSettings(e, perMethod[methods[i]] ?? {}));
    const seed = intOption(values.seed, 'seed', 0) ?? 0;
    const scoreOf = (method: string) => parseScore(values.score, referenceScore(method));
    const scores = methods.map(scoreOf);
    const colormap = (values.colormap ?? 'turbo') as ColormapName;
    if (!COLORMAPS.includes(colormap)) throw new SaliencyError(`--colormap must be one of ${COLORMAPS.join(', ')}`, 'BAD_SETTING');
    const opacity = values.opacity === undefined ? 0.5 : Number(values.opacity);
    if (!(opacity >= 0 && opacity <= 1)) throw new SaliencyError('--opacity must be between 0 and 1', 'BAD_SETTING');
    const topK = intOption(values['top-k'], 'top-k') ?? 5;

    await ensureOutDir(values.out); // before the model is loaded: a bad --out is found at once
    const model = await loadModelFromArgs(values);
    checkRunnable(model.info, methods);
    const targetArg = parseTarget(values.target, model);
    const { items, errors: inputErrors } = await collectImages(positionals);
    if (!values.json) console.error(describeModel(model));
    const info = model.info;
    const modelSummary = { name: info.name, sha256: info.sha256, preset: info.preset.name, presetReason: info.presetReason, resize: info.resize, head: info.head, batch: info.batch, provider: info.providerNote };
    const config = { model: info.sha256, preset: info.preset.name, resize: info.resize, methods, settings: plain(settings), ensembles, ensembleOptions, weights, seed, target: targetArg, scores, colormap, opacity, topK, original: !!values.original };
    let loopErrors: ItemError[] = [];
    const summary = (images: unknown[]) => ({ model: modelSummary, methods, ensembles, seed, images, errors: [...inputErrors, ...loopErrors] });
    const out = await RunOutput.open<unknown>(values.out, items, {
      recordPath: (name) => path.join(name, 'result.json'), config, resume: !!values.resume,
      writeSummary: (images) => writeFileAtomic(path.join(values.out!, 'results.json'), JSON.stringify(summary(images), null, 2)),
    });

    const loop = await forEachImage(items, model, async (item, img) => {
      const { file, name } = item;
      const [predictions] = await predictTopK(model, [img.prepared.input], topK);
      const classIndex = targetArg === 'top1' ? predictions[0].classIndex : targetArg;
      const results: Explanation[] = [];
      const failures: { method: string; error: string }[] = [];
      for (let i = 0; i < explainers.length; i++) {
        try {
          results.push(await explainers[i].explain(img.prepared, { classIndex, score: scores[i] }, settings[i], seed, { model }));
        } catch (e) {
          if (!(e instanceof SaliencyError)) throw e;
          failures.push({ method: methods[i], error: withPrefix(methods[i], e.message) });
        }
      }
      for (const ens of ensembles) {
        if (results.length === 0) break;
        results.push(buildEnsemble(results.filter((r) => !r.method.startsWith('ensemble')), { combiner: ens, weights, options: ensembleOptions }));
      }
      const entries = [];
      for (const r of results) {
        const base = r.method.replace(/[^\w.-]+/g, '-');
        await writeFileAtomic(await out.imageFile(name, `${base}.npy`), encodeNpy(r.map.data, [r.map.height, r.map.width]));
        await writeFileAtomic(await out.imageFile(name, `${base}.png`), await overlayPng(img.original, r.map, img.prepared.transform, { colormap, opacity }));
        if (values.original) {
          const o = mapToOriginal(r.map, img.prepared.transform);
          await writeFileAtomic(await out.imageFile(name, `${base}.original.npy`), encodeNpy(o.data, [o.height, o.width]));
        }
        entries.push({
          method: r.method, npy: `${name}/${base}.npy`, png: `${name}/${base}.png`, target: r.target,
          evaluations: r.evaluations, millis: Math.round(r.millis), seed: r.seed, settings: plain(r.settings), extras: plain(r.extras),
        });
      }
      const entry = { file, name, id: img.prepared.id, transform: img.prepared.transform, predictions, target: classIndex, explanations: entries, failures };
      // An image with a failed method is recorded (its other maps are kept) but not marked done for --resume.
      await out.imageDone(item, entry, failures.length === 0);
      if (failures.length) throw new SaliencyError(failures.map((f) => f.error).join('; '));
      if (!values.json) console.log(`${file}: ${predictions[0].label} (${predictions[0].probability.toFixed(3)}) -> ${path.join(values.out!, name)}`);
    }, { skip: (item) => out.doneBefore(item) });
    loopErrors = loop.errors;
    const unsaved = await out.finish();
    if (unsaved) process.stderr.write(`error: ${unsaved}\n`);
    if (out.resumed && !values.json) console.error(`--resume: ${out.resumed} images were done before and kept`);
    if (values.json) console.log(JSON.stringify(summary(out.done()), null, 2));
    await model.dispose();
    if (loop.interrupted) return 130;
    return loop.errors.length || inputErrors.length || unsaved ? 1 : 0;
  },
};
