// The known-evidence part of scripts/eval-ensembles.ts: on the hand-built model whose evidence is known by
// construction (src-main/engine/model/known-evidence.ts), how often does each single method and each ensemble
// put its maximum on the evidence? Images are split in two halves: the first half (train) is used only to fit
// the learned combiner on the masks and to measure per-method faithfulness for metric weights; every row of
// the table is measured on the second half (held out).
import type { Explanation, PreparedImage } from '../src-main/engine/explain/types.ts';
import { getExplainer } from '../src-main/engine/explain/registry.ts';
import { prepareDecoded } from '../src-main/engine/image/prepare.ts';
import { Classifier } from '../src-main/engine/model/classifier.ts';
import { resolveModelSpec } from '../src-main/engine/model/builtin.ts';
import { buildKnownEvidenceModel, generateKnownEvidence, KE_SIZE, type KnownEvidenceImage } from '../src-main/engine/model/known-evidence.ts';
import { pointingGame } from '../src-main/engine/metrics/pointing-game.ts';
import { energyPointingGame } from '../src-main/engine/metrics/energy-pointing-game.ts';
import { buildEnsemble } from '../src-main/engine/ensemble/build.ts';
import { fitLearnedWeights, maskAuc } from '../src-main/engine/ensemble/learned.ts';
import { weightsFromMetrics, type MetricRow } from '../src-main/engine/ensemble/weights/from-metrics.ts';
import type { EnsembleSpec, WeightSet } from '../src-main/engine/ensemble/types.ts';
import type { Map2D, Target } from '../src-main/engine/types.ts';

const SINGLES: [string, Record<string, unknown>][] = [
  ['gradcam', {}],
  ['lime', { samples: 300, segments: 60 }],
  ['kernelshap', { samples: 300, segments: 60 }],
  ['rise', { masks: 1000, cells: 8 }],
  ['occlusion', { window: 12, stride: 4 }],
];

interface Case { label: string; spec: EnsembleSpec; weights?: 'metrics' | 'learned' }
const ENSEMBLES: Case[] = [
  { label: 'mean', spec: { combiner: 'mean' } },
  { label: 'weighted (metric weights)', spec: { combiner: 'weighted' }, weights: 'metrics' },
  { label: 'learned (NNLS on masks)', spec: { combiner: 'learned' }, weights: 'learned' },
  { label: 'variance-aware', spec: { combiner: 'variance' } },
  { label: 'median', spec: { combiner: 'median' } },
  { label: 'trimmed', spec: { combiner: 'trimmed' } },
  { label: 'geometric', spec: { combiner: 'geometric' } },
  { label: 'borda (6px cells)', spec: { combiner: 'borda', options: { cell: 6 } } },
  { label: 'rrf (6px cells)', spec: { combiner: 'rrf', options: { cell: 6 } } },
  { label: 'region-detail (gradcam gates)', spec: { combiner: 'region-detail', options: { coarse: 'gradcam' } } },
  { label: 'mean / rank', spec: { combiner: 'mean', normaliser: 'rank' } },
  { label: 'mean / robust', spec: { combiner: 'mean', normaliser: 'robust' } },
  { label: 'mean / second-moment', spec: { combiner: 'mean', normaliser: 'second-moment' } },
  { label: 'mean / positive only', spec: { combiner: 'mean', sign: 'positive' } },
];

interface Localisation { hit: number; energy: number; auc: number }

async function localisation(image: PreparedImage, target: Target, map: Map2D, truth: KnownEvidenceImage): Promise<Localisation> {
  const annotation = { mask: truth.mask };
  const input = { image, target, map, annotation };
  const [hit, energy] = await Promise.all([
    pointingGame.compute(input, pointingGame.settings({ tolerance: 0 }), 0),
    energyPointingGame.compute(input, energyPointingGame.settings({}), 0),
  ]);
  return { hit: hit.value, energy: energy.value, auc: maskAuc(map, truth.mask) };
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

export async function knownEvidenceBenchmark(opts: { images: number; seed: number; threads?: number }) {
  const t0 = performance.now();
  // The bundled builtin:known-evidence file; the generator's own bytes (identical by construction) if it is absent.
  const source = await Promise.resolve().then(() => resolveModelSpec('builtin:known-evidence')).catch(() => ({ bytes: buildKnownEvidenceModel(), name: 'known-evidence' }));
  const model = await Classifier.load(source, { batchSize: 32, threads: opts.threads });
  const truth = generateKnownEvidence(opts.images, opts.seed);
  const items: { truth: KnownEvidenceImage; image: PreparedImage; target: Target; singles: Explanation[] }[] = [];
  for (const [i, t] of truth.entries()) {
    const { prepared } = prepareDecoded(t.image, `known-evidence-${opts.seed}-${i}`, model);
    const target: Target = { classIndex: t.classIndex, score: 'logit' };
    const singles: Explanation[] = [];
    for (const [name, settings] of SINGLES) {
      const ex = getExplainer(name);
      singles.push(await ex.explain(prepared, target, ex.settings(settings), opts.seed + i, { model }));
    }
    items.push({ truth: t, image: prepared, target, singles });
  }
  const half = Math.floor(items.length / 2);
  const train = items.slice(0, half);
  const test = items.slice(half);

  // Weights from the train half only: energy pointing game per method (a localisation metric), and NNLS on masks.
  const rows: MetricRow[] = [];
  for (const it of train) {
    for (const e of it.singles) {
      const l = await localisation(it.image, it.target, e.map, it.truth);
      rows.push({ method: e.method, metric: 'energy-pointing-game', value: l.energy, higherIsBetter: true, image: it.image.id });
    }
  }
  const metricWeights: WeightSet = weightsFromMetrics(rows, { name: 'known-evidence-train-energy' });
  const learnedWeights: WeightSet = fitLearnedWeights(train.map((it) => ({ explanations: it.singles, mask: it.truth.mask, id: it.image.id })), {}, 'known-evidence-train-masks');

  const results = new Map<string, Localisation[]>();
  const add = (k: string, l: Localisation) => results.set(k, [...(results.get(k) ?? []), l]);
  for (const it of test) {
    for (const e of it.singles) add(e.method, await localisation(it.image, it.target, e.map, it.truth));
    for (const c of ENSEMBLES) {
      const weights = c.weights === 'metrics' ? metricWeights : c.weights === 'learned' ? learnedWeights : undefined;
      const e = buildEnsemble(it.singles, { ...c.spec, ...(weights ? { weights } : {}) });
      add(`ensemble: ${c.label}`, await localisation(it.image, it.target, e.map, it.truth));
    }
  }
  await model.dispose();

  const n = test.length;
  const lines = [
    `\nknown-evidence benchmark (${KE_SIZE}x${KE_SIZE}, 4 classes, one 12x12 evidence pattern among near-miss distractors): `
      + `${items.length} images, weights fitted on ${train.length}, every row measured on the other ${n} (held out); ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    '| method | pointing game hits (max on the evidence) | energy in the evidence box | mask ROC AUC |',
    '|---|---:|---:|---:|',
  ];
  const summary: Record<string, { hits: number; energy: number; auc: number }> = {};
  for (const [k, ls] of results) {
    const hits = ls.reduce((s, l) => s + l.hit, 0);
    summary[k] = { hits, energy: mean(ls.map((l) => l.energy)), auc: mean(ls.map((l) => l.auc)) };
    lines.push(`| ${k} | ${hits}/${n} (${((100 * hits) / n).toFixed(0)}%) | ${summary[k].energy.toFixed(3)} | ${summary[k].auc.toFixed(3)} |`);
  }
  const singles = SINGLES.map(([s]) => s);
  const bestSingle = singles.sort((a, b) => summary[b].hits - summary[a].hits || summary[b].energy - summary[a].energy)[0];
  const ens = [...results.keys()].filter((k) => k.startsWith('ensemble: '));
  const bestEns = ens.sort((a, b) => summary[b].hits - summary[a].hits || summary[b].energy - summary[a].energy)[0];
  const atLeast = ens.filter((k) => summary[k].hits >= summary[bestSingle].hits);
  lines.push('',
    `Best single method: ${bestSingle} with ${summary[bestSingle].hits}/${n} hits. Best ensemble: ${bestEns.slice(10)} with ${summary[bestEns].hits}/${n} hits `
    + `(${summary[bestEns].hits - summary[bestSingle].hits >= 0 ? '+' : ''}${summary[bestEns].hits - summary[bestSingle].hits}). `
    + `${atLeast.length} ensemble(s) hit the evidence at least as often as the best single method: ${atLeast.map((k) => k.slice(10)).join(', ') || 'none'}.`,
    `Metric weights (train half, energy pointing game): ${fmtWeights(metricWeights.weights)}`,
    `Learned weights (train half, NNLS on masks): ${fmtWeights(learnedWeights.weights)}`);
  return {
    text: lines.join('\n'),
    json: { images: items.length, train: train.length, test: n, summary, metricWeights, learnedWeights, perImage: Object.fromEntries(results) },
  };
}

const fmtWeights = (w: Record<string, number>) => Object.entries(w).map(([m, v]) => `${m} ${v.toFixed(3)}`).join(', ');
