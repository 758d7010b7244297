// saliency smer: concept explanations from captions (SMER vs LIME, AOPC over words, grounding boxes).
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { MODEL_OPTIONS, MODEL_USAGE, intOption, loadModelFromArgs, parseScore } from '../common.ts';
import type { Classifier } from '../../engine/model/classifier.ts';
import { SaliencyError } from '../../engine/types.ts';
import { prepareImageFile } from '../../engine/image/prepare.ts';
import { getExplainer } from '../../engine/explain/registry.ts';
import { type Box, formatBox, parseBox, validateBox } from '../../engine/concepts/box.ts';
import { captionWithEndpoint } from '../../engine/concepts/captioner.ts';
import { readCaptionFile } from '../../engine/concepts/captions-file.ts';
import { DEFAULT_CAPTION_PROMPT, OpenAiEndpoint } from '../../engine/concepts/endpoint.ts';
import { boxEnergy, boxRemovalCurve, orderBoxesByConcepts } from '../../engine/concepts/grounding.ts';
import { limeText } from '../../engine/concepts/lime-text.ts';
import { AOPC_PROTOCOLS, type AopcProtocol, aopcReport, type CaptionPipeline, fitCaptions, fitCaptionSet } from '../../engine/concepts/pipeline.ts';
import { labelCaptionData } from '../../engine/concepts/dataset.ts';
import { importCaptionFile, libraryCaptions, readGroupsFile, type StoredCaptions } from '../../engine/concepts/store-captions.ts';
import { openStore } from '../../engine/store/store.ts';
import { smerExplain, smerGlobalRanking } from '../../engine/concepts/smer.ts';

const OPTIONS = {
  ...MODEL_OPTIONS,
  captions: { type: 'string' },
  library: { type: 'string' },
  db: { type: 'string' },
  author: { type: 'string' },
  groups: { type: 'string' },
  images: { type: 'string' },
  target: { type: 'string' },
  embedding: { type: 'string' },
  l2: { type: 'string' },
  'test-fraction': { type: 'string' },
  seed: { type: 'string' },
  top: { type: 'string' },
  image: { type: 'string' },
  box: { type: 'string', multiple: true },
  locate: { type: 'string' },
  map: { type: 'string' },
  score: { type: 'string' },
  'max-k': { type: 'string' },
  'lime-samples': { type: 'string' },
  split: { type: 'string' },
  protocol: { type: 'string' },
  files: { type: 'string' },
  prompt: { type: 'string' },
  overwrite: { type: 'boolean' },
  'base-url': { type: 'string' },
  'vision-model': { type: 'string' },
  'embedding-model': { type: 'string' },
  'api-key': { type: 'string' },
  timeout: { type: 'string' },
  retries: { type: 'string' },
} as const;

const USAGE = `Usage:
  saliency smer fit     --captions <json> --model <onnx> [--target model|truth] [--embedding identity|endpoint]
                        [--l2 <number>] [--test-fraction 0.3] [--seed 0] [--top 8]
  saliency smer explain --captions <json> --model <onnx> --image <filename> [--box "<concept>=x0,y0,x1,y1"]...
                        [--locate <n>] [--map gradcam] [--score probability|logit]
  saliency smer aopc    --captions <json> --model <onnx> [--protocol per-class|global-top] [--top 10|20]
                        [--max-k 6] [--lime-samples 1000] [--split test|all]
  saliency smer import-captions <captions.json> --library <id|folder> [--db <file>]
  saliency smer caption --captions <json> --base-url <url> --vision-model <name> [--files a.jpg,b.jpg]
                        [--prompt "${DEFAULT_CAPTION_PROMPT}"] [--overwrite]

Captions come from a captions file (--captions <json>) or from the database (--library <id|folder> [--db]
[--author <name>] [--groups <json>]: each image's latest caption annotation, its labelled boxes as concept
boxes; --groups takes the regression classes from a captions file's "groups", else each class is its own).

Captions are the words of a caption (lower-cased, stop words dropped, lemmatised) averaged as word vectors;
a logistic regression predicts the classifier's top-1 class (mapped to the captions file's groups) or the
ground truth (--target truth), with its L2 strength chosen by 5-fold cross-validation on the training split
(held-out log-loss) unless --l2 is given. SMER rates each word with the same regression applied to the word
alone; the mean of those logits equals the caption's logit, which every command checks on every caption (1e-9).

  fit       accuracy (seeded train/test split), the fidelity check, and the top concepts per class
  explain   one image: per-word SMER scores, LIME weights, and concept boxes (typed with --box, or located
            by the vision endpoint with --locate) scored against a pixel map (--map, default gradcam) and by
            removing them on the CNN (filled with the mean colour), next to removing as many top map pixels
  aopc      AOPC over words, K = 0..max-k, for SMER, LIME and a random control, on the test captions (--split
            all: every caption), with paired bootstrap intervals and sign-flip p-values (the two comparisons
            with the random control Holm-adjusted together). --protocol per-class
            (default): each caption's words ranked by the method's per-class scores; --protocol global-top: the
            original SMER work's protocol, one list of the --top N words with the highest mean |importance|
            across captions, each caption losing the first K of those it contains. Rankings are built from the
            training captions when the test captions are scored (from all captions with --split all).
  caption   captions images with a vision endpoint; the file is rewritten atomically after each caption
  import-captions  stores each caption of the file as a caption annotation (author from the file) of the
            library image with that file name, and its concept boxes as box annotations; re-importing adds
            nothing twice; an unknown file name stops the import before anything is written

Endpoint options (OpenAI-compatible: OpenAI, Ollama, LM Studio, llama.cpp):
  --base-url <url>  e.g. http://127.0.0.1:11434/v1     --vision-model <name>   --embedding-model <name>
  --api-key <key>   (or SALIENCY_API_KEY)              --timeout <seconds, 60>  --retries <0..5, 2>

${MODEL_USAGE}

Exit status: 0 done, 1 fidelity violated or some captions failed, 2 bad usage or fatal error.`;

type Values = ReturnType<typeof parse>['values'];
const parse = (argv: string[]) => parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });

function numberOption(value: string | undefined, name: string, check: (n: number) => boolean, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || !check(n)) throw new SaliencyError(`--${name} must be ${what} (got "${value}")`, 'BAD_SETTING');
  return n;
}

function endpointFrom(values: Values, need: 'vision' | 'embedding'): OpenAiEndpoint {
  const baseUrl = values['base-url'];
  const model = need === 'vision' ? values['vision-model'] : values['embedding-model'] ?? values['vision-model'];
  if (!baseUrl) throw new SaliencyError('--base-url is required for the endpoint (e.g. http://127.0.0.1:11434/v1)', 'BAD_USAGE');
  if (!model) throw new SaliencyError(`--${need === 'vision' ? 'vision' : 'embedding'}-model is required for the endpoint`, 'BAD_USAGE');
  const timeout = numberOption(values.timeout, 'timeout', (n) => n > 0, 'a positive number of seconds');
  return new OpenAiEndpoint({
    baseUrl,
    model,
    embeddingModel: values['embedding-model'],
    apiKey: values['api-key'] ?? process.env.SALIENCY_API_KEY,
    timeoutMs: timeout === undefined ? undefined : timeout * 1000,
    retries: intOption(values.retries, 'retries', 0),
  });
}

/** Captions from the database (--library), read before the model is loaded. */
async function storedCaptions(values: Values): Promise<StoredCaptions | undefined> {
  if (values.captions && values.library) throw new SaliencyError('give --captions <json> or --library <id|folder>, not both', 'BAD_USAGE');
  if (!values.captions && !values.library) throw new SaliencyError('--captions <json> or --library <id|folder> is required', 'BAD_USAGE');
  if (!values.library) return undefined;
  const groups = values.groups ? await readGroupsFile(values.groups) : undefined;
  const store = openStore(values.db, { readonly: true });
  try {
    const stored = libraryCaptions(store, values.library, { author: values.author, groups });
    if (!stored.data.captions.length) throw new SaliencyError(`${stored.source} has no caption${values.author ? ` by ${values.author}` : ''} in the database (add them with: saliency smer import-captions)`, 'NOT_FOUND');
    return stored;
  } finally {
    store.close();
  }
}

async function pipelineFrom(values: Values, model: Classifier, stored?: StoredCaptions): Promise<CaptionPipeline> {
  const target = values.target ?? 'model';
  if (target !== 'model' && target !== 'truth') throw new SaliencyError(`--target must be model or truth (got "${target}")`, 'BAD_SETTING');
  const embedding = values.embedding ?? 'identity';
  if (embedding !== 'identity' && embedding !== 'endpoint') throw new SaliencyError(`--embedding must be identity or endpoint (got "${embedding}")`, 'BAD_SETTING');
  const fitOpts = {
    embedding: embedding === 'identity' ? 'identity' as const : endpointFrom(values, 'embedding'),
    l2: numberOption(values.l2, 'l2', (n) => n >= 0, 'a number >= 0') ?? 'cv' as const,
    testFraction: numberOption(values['test-fraction'], 'test-fraction', (n) => n >= 0 && n < 1, 'in [0, 1)'),
    seed: intOption(values.seed, 'seed', 0),
  };
  if (stored) return fitCaptionSet(await labelCaptionData(stored.source, stored.data, model, { imagesDir: stored.imagesDir, target }), fitOpts);
  if (!values.captions) throw new SaliencyError('--captions <json> is required', 'BAD_USAGE');
  return fitCaptions(values.captions, model, { imagesDir: values.images, target, ...fitOpts });
}

const pct = (v: number) => (Number.isNaN(v) ? 'n/a' : `${(100 * v).toFixed(1)}%`);
const fmt = (v: number) => (v >= 0 ? ' ' : '') + v.toFixed(4);

function l2Text(p: CaptionPipeline): string {
  const sel = p.fit.l2Selection;
  if (!sel) return `l2 ${p.fit.model.logistic.l2} (given)`;
  return `l2 ${sel.chosen} (chosen by ${sel.folds}-fold cross-validation on the ${p.fit.train.length} training captions, held-out log-loss ${sel.logLoss[sel.grid.indexOf(sel.chosen)].toFixed(3)}; grid ${sel.grid.join(', ')})`;
}

function describeFit(p: CaptionPipeline, top: number): string {
  const { set, fit, fidelity } = p;
  const lines = [
    `${set.docs.length} captions (${set.excluded.length} left out), target ${set.target === 'model' ? "the classifier's top-1" : 'ground truth'}, classes: ${set.classes.map((c, i) => `${c} (${set.docs.filter((d) => d.label === i).length})`).join(', ')}`,
    ...set.excluded.map((e) => `  left out ${e.filename}: ${e.reason}`),
    `embedding ${p.embedding.name} (${p.embedding.dim} dimensions); ${fit.model.logistic.kind} logistic regression, ${l2Text(p)}, ${fit.model.logistic.fit.iterations} L-BFGS iterations${fit.model.logistic.fit.converged ? '' : ' (not converged)'}`,
    `accuracy: train ${pct(fit.trainAccuracy)} (${fit.train.length}), test ${pct(fit.testAccuracy)} (${fit.test.length}), majority-class baseline ${pct(fit.majorityTestAccuracy)}`,
    `fidelity (mean of per-word logits = caption logit): worst error ${fidelity.worst.toExponential(2)} over ${fidelity.checked} captions, ${fidelity.violations.length ? `VIOLATED on ${fidelity.violations.join(', ')}` : 'holds on every caption (< 1e-9)'}`,
  ];
  set.classes.forEach((c, k) => {
    lines.push(`top concepts for ${c}: ${smerGlobalRanking(fit.model, k).slice(0, top).map((r) => `${r.word} ${r.score.toFixed(2)}`).join(', ')}`);
  });
  return lines.join('\n');
}

function parseBoxOption(spec: string): { concept: string; box: Box } {
  const at = spec.lastIndexOf('=');
  if (at <= 0) throw new SaliencyError(`--box must be "<concept>=x_min,y_min,x_max,y_max" (got "${spec}")`, 'BAD_USAGE');
  return { concept: spec.slice(0, at).trim(), box: parseBox(spec.slice(at + 1)) };
}

/** Cheap checks before the model is loaded and every caption labelled. */
async function checkExplainArgs(values: Values, stored?: StoredCaptions): Promise<void> {
  const name = values.image;
  if (!name) throw new SaliencyError('--image <filename from the captions file> is required', 'BAD_USAGE');
  if (!values.captions && !stored) throw new SaliencyError('--captions <json> is required', 'BAD_USAGE');
  const data = stored?.data ?? await readCaptionFile(values.captions!);
  if (!data.captions.some((c) => c.filename === name || path.basename(c.filename) === name)) {
    throw new SaliencyError(`${name} has no caption in ${stored?.source ?? values.captions}`, 'NOT_FOUND');
  }
  for (const b of values.box ?? []) parseBoxOption(b);
}

async function runExplain(values: Values, model: Classifier, p: CaptionPipeline): Promise<number> {
  const name = values.image;
  if (!name) throw new SaliencyError('--image <filename from the captions file> is required', 'BAD_USAGE');
  const doc = p.set.docs.find((d) => d.filename === name || path.basename(d.filename) === name);
  if (!doc) throw new SaliencyError(`${name} is not among the ${p.set.docs.length} usable captions of ${p.set.file}`, 'NOT_FOUND');
  const cm = p.fit.model;
  const e = smerExplain(cm, doc.words);
  const c = e.predicted;
  const lime = limeText(cm, doc.words, c, intOption(values.seed, 'seed', 0) ?? 0, { samples: intOption(values['lime-samples'], 'lime-samples', 2) });
  const ranked = [...e.words].sort((a, b) => b.scores[c] - a.scores[c]);
  const out: Record<string, unknown> = {
    filename: doc.filename, caption: doc.caption, words: doc.words, label: p.set.classes[doc.label], classifier: doc.modelLabel,
    predicted: p.set.classes[c], probabilities: Object.fromEntries(cm.classes.map((k, i) => [k, e.probabilities[i]])),
    fidelityError: e.fidelityError,
    smer: ranked.map((r) => ({ word: r.word, count: r.count, scores: Object.fromEntries(cm.classes.map((k, i) => [k, r.scores[i]])) })),
    lime: lime.words.map((w, j) => ({ word: w, weight: lime.weights[j] })), limeR2: lime.score,
  };
  const lines = [
    `${doc.filename}: "${doc.caption}" -> [${doc.words.join(', ')}]`,
    `classifier says ${doc.modelLabel} (${p.set.classes[doc.label]}); caption regression says ${p.set.classes[c]} (p=${e.probabilities[c].toFixed(3)}); fidelity error ${e.fidelityError.toExponential(2)}`,
    `  word            SMER score for ${p.set.classes[c]}   LIME weight`,
    ...ranked.map((r) => `  ${r.word.padEnd(16)}${fmt(r.scores[c]).padStart(10)}${r.count > 1 ? ` x${r.count}` : '   '}            ${fmt(lime.weights[lime.words.indexOf(r.word)])}`),
  ];

  const boxes = [
    ...doc.boxes.map((b) => ({ concept: b.concept, box: b.box, source: b.author })),
    ...(values.box ?? []).map(parseBoxOption).map((b) => ({ ...b, source: 'annotator (--box)' })),
  ];
  const locate = intOption(values.locate, 'locate', 1);
  if (boxes.length || locate) {
    const loaded = await prepareImageFile(path.join(p.set.imagesDir, doc.filename), model);
    const { original, prepared } = loaded;
    for (const b of boxes) validateBox(b.box, original.width, original.height, `box for "${b.concept}"`);
    if (locate) {
      const endpoint = endpointFrom(values, 'vision');
      const locateErrors: { concept: string; error: string; code: string }[] = [];
      for (const r of ranked.slice(0, locate)) {
        try {
          boxes.push({ concept: r.word, box: await endpoint.locate(original, r.word), source: `model:${values['vision-model']}` });
        } catch (err) {
          if (!(err instanceof SaliencyError)) throw err;
          locateErrors.push({ concept: r.word, error: err.message, code: err.code });
          lines.push(`  box for "${r.word}" from the endpoint: ${err.message}`);
        }
      }
      out.locateErrors = locateErrors;
    }
    if (boxes.length) {
      // Boxes of the best concepts first (SMER's order), so the removal curve is AOPC-like.
      const ordered = orderBoxesByConcepts(boxes, ranked.map((r) => r.word));
      boxes.splice(0, boxes.length, ...ordered);
      const target = { classIndex: doc.modelClass, score: parseScore(values.score, 'probability') };
      const explainer = getExplainer(values.map ?? 'gradcam');
      const map = (await explainer.explain(prepared, target, explainer.settings({}), 0, { model })).map;
      lines.push(`grounding against ${explainer.name} for ${doc.modelLabel} (${target.score}):`);
      const grounding = boxes.map((b) => ({ ...b, ...boxEnergy(map, b.box, prepared.transform) }));
      for (const g of grounding) lines.push(`  ${g.concept.padEnd(14)} ${formatBox(g.box)} (${g.source}): ${pct(g.energy)} of the map's energy in ${pct(g.area)} of the image (lift ${g.lift.toFixed(2)})`);
      const removal = await boxRemovalCurve(model, prepared.input, prepared.transform, boxes.map((b) => b.box), target, map);
      lines.push(`  removing the boxes one after another: score ${removal.boxes.scores.map((s) => s.toFixed(3)).join(' -> ')}, AOPC ${removal.boxes.aopc.toFixed(4)}`);
      lines.push(`  removing as many top ${explainer.name} pixels:    score ${removal.map!.scores.map((s) => s.toFixed(3)).join(' -> ')}, AOPC ${removal.map!.aopc.toFixed(4)}`);
      Object.assign(out, { grounding, removal });
    }
  }
  console.log(values.json ? JSON.stringify(out, null, 2) : lines.join('\n'));
  return e.fidelityError <= 1e-9 ? 0 : 1;
}

function runAopc(values: Values, p: CaptionPipeline): number {
  const split = values.split ?? 'test';
  if (split !== 'all' && split !== 'test') throw new SaliencyError(`--split must be test or all (got "${split}")`, 'BAD_SETTING');
  const protocol = (values.protocol ?? 'per-class') as AopcProtocol;
  if (!AOPC_PROTOCOLS.includes(protocol)) throw new SaliencyError(`--protocol must be ${AOPC_PROTOCOLS.join(' or ')} (got "${values.protocol}")`, 'BAD_SETTING');
  const top = intOption(values.top, 'top', 1) ?? 10;
  const idx = split === 'all' ? p.set.docs.map((_, i) => i) : p.fit.test;
  if (idx.length < 2) throw new SaliencyError(`--split ${split} leaves ${idx.length} caption(s) to score; use --split all or a larger --test-fraction`, 'BAD_SETTING');
  const words = (ids: number[]) => ids.map((i) => p.set.docs[i].words);
  const r = aopcReport(p.fit.model, words(idx), {
    seed: intOption(values.seed, 'seed', 0), maxK: intOption(values['max-k'], 'max-k', 0), lime: { samples: intOption(values['lime-samples'], 'lime-samples', 2) },
    protocol, top, rankingDocs: split === 'test' ? words(p.fit.train) : undefined,
  });
  const l2 = { value: p.fit.model.logistic.l2, selection: p.fit.l2Selection ?? 'given' };
  if (values.json) {
    console.log(JSON.stringify({ split, documents: idx.length, l2, testAccuracy: p.fit.testAccuracy, fidelity: p.fidelity, ...r }, null, 2));
  } else {
    const where = split === 'test' ? `the ${idx.length} test captions (rankings from the ${r.rankingDocuments} training captions)` : `all ${idx.length} captions (rankings from the same captions)`;
    console.log(`caption regression: ${l2Text(p)}; test accuracy ${pct(p.fit.testAccuracy)}`);
    console.log(protocol === 'global-top'
      ? `AOPC over words, global-top protocol (the original SMER work's): one list of the ${r.top} words with the highest mean |importance| per method; each caption loses the first K list words it contains. Scored on ${where}.`
      : `AOPC over words, per-class protocol (this project's; the original work ranks one global list: --protocol global-top): each caption's own words in the order of the method's per-class scores. Scored on ${where}.`);
    if (r.lists) console.log(`  SMER's list: ${r.lists.smer.join(', ')}\n  LIME's list: ${r.lists.lime.join(', ')}`);
    console.log('  drop in the predicted class probability after removing the top K concepts:');
    console.log(`  K        ${Array.from({ length: r.maxK + 1 }, (_, k) => String(k).padStart(7)).join('')}    AOPC`);
    for (const cv of [r.smer, r.limeCurve, r.limeLocal, r.random]) console.log(`  ${cv.method.padEnd(8)} ${cv.drops.map((d) => d.toFixed(4).padStart(7)).join('')}  ${cv.aopc.toFixed(4)}`);
    console.log('  (LIME-own: each caption ranked by its own LIME weights, for reference; random: the chance control)');
    for (const c of [r.smerVsLime, r.smerVsRandom, r.limeVsRandom]) {
      console.log(`${c.a} - ${c.b}: mean ${c.meanDifference.toFixed(4)}, 95% paired bootstrap interval [${c.interval[0].toFixed(4)}, ${c.interval[1].toFixed(4)}], n = ${c.n}, Holm p = ${c.pHolm.toFixed(3)}; ${c.a} higher on ${c.wins}, equal on ${c.ties}, lower on ${c.losses}: ${c.text}`);
    }
  }
  return p.fidelity.violations.length ? 1 : 0;
}

async function runImport(values: Values, file: string | undefined): Promise<number> {
  if (!file) throw new SaliencyError('import-captions needs the captions file: saliency smer import-captions <captions.json> --library <id|folder>', 'BAD_USAGE');
  if (!values.library) throw new SaliencyError('--library <id|folder> is required: the library whose images the captions are of', 'BAD_USAGE');
  const store = openStore(values.db);
  try {
    const r = await importCaptionFile(store, file, store.libraries.find(values.library).id);
    if (values.json) console.log(JSON.stringify(r, null, 2));
    else console.log(`library ${r.library.id} (${r.library.root}): ${r.captions} captions: ${r.added} added, ${r.updated} replaced, ${r.unchanged} already stored; boxes: ${r.boxesAdded} added, ${r.boxesUnchanged} already stored`);
    return 0;
  } finally {
    store.close();
  }
}

async function runCaption(values: Values): Promise<number> {
  if (!values.captions) throw new SaliencyError('--captions <json> is required', 'BAD_USAGE');
  const endpoint = endpointFrom(values, 'vision');
  const r = await captionWithEndpoint(values.captions, endpoint, values['vision-model']!, {
    imagesDir: values.images, filenames: values.files?.split(',').map((f) => f.trim()).filter(Boolean), overwrite: values.overwrite, prompt: values.prompt,
  });
  if (values.json) console.log(JSON.stringify(r, null, 2));
  else {
    console.log(`captioned ${r.added.length}, kept ${r.skipped.length} existing, failed ${r.failed.length}`);
    for (const f of r.failed) console.error(`  ${f.filename}: ${f.error}`);
    if (r.stoppedEarly) console.error(`stopped: ${r.stoppedEarly}; the captions already stored are kept`);
  }
  return r.failed.length ? 1 : 0;
}

export const smer: Command = {
  name: 'smer',
  summary: 'concept explanations from captions: SMER vs LIME, AOPC over words, grounding boxes',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parse(argv);
    const sub = positionals[0];
    if (!['fit', 'explain', 'aopc', 'caption', 'import-captions'].includes(sub)) throw new SaliencyError(`smer needs a subcommand: fit, explain, aopc or caption, or import-captions (got ${sub ? `"${sub}"` : 'none'})`, 'BAD_USAGE');
    if (sub === 'caption') return runCaption(values);
    if (sub === 'import-captions') return runImport(values, positionals[1]);
    const stored = await storedCaptions(values);
    if (sub === 'explain') await checkExplainArgs(values, stored);
    const model = await loadModelFromArgs(values);
    try {
      const p = await pipelineFrom(values, model, stored);
      if (sub === 'explain') return await runExplain(values, model, p);
      if (sub === 'aopc') return runAopc(values, p);
      if (values.json) {
        const { fit, set, fidelity } = p;
        console.log(JSON.stringify({
          classes: set.classes, documents: set.docs.length, excluded: set.excluded, embedding: { name: p.embedding.name, dim: p.embedding.dim },
          trainAccuracy: fit.trainAccuracy, testAccuracy: fit.testAccuracy, majorityTestAccuracy: fit.majorityTestAccuracy, fit: fit.model.logistic.fit, fidelity,
          l2: { value: fit.model.logistic.l2, selection: fit.l2Selection ?? 'given' },
          topConcepts: Object.fromEntries(set.classes.map((c, k) => [c, smerGlobalRanking(fit.model, k).slice(0, intOption(values.top, 'top') ?? 8)])),
        }, null, 2));
      } else console.log(describeFit(p, intOption(values.top, 'top') ?? 8));
      return p.fidelity.violations.length ? 1 : 0;
    } finally {
      await model.dispose();
    }
  },
};
