// The app's study flow: a measured cost estimate, one resumable job of methods + ensembles (or a saved
// ensemble) + metrics with random-map controls over a library or its current filter, and the per-series
// summary Compare shows (n, mean, 95% interval, control, per-image gap and disagreement). Also the model's
// labels (target by name) and undoing a rating.
import type { ParsedReq, Res } from '../contract.ts';
import { SaliencyError } from '../../engine/types.ts';
import { getExplainer } from '../../engine/explain/registry.ts';
import { createExplainJob } from '../../engine/jobs/create-job.ts';
import { estimateCost } from '../../engine/jobs/cost.ts';
import { planMetrics } from '../../engine/pipeline/evaluate-stored.ts';
import { getMetric } from '../../engine/metrics/registry.ts';
import { spearman } from '../../engine/metrics/rank.ts';
import type { EnsembleSpec } from '../../engine/ensemble/types.ts';
import { bootstrapMeanCI, pairedBootstrapCI } from '../../engine/stats/bootstrap.ts';
import { canonicalJson } from '../../engine/store/json.ts';
import type { ImageRecord } from '../../engine/store/images-repo.ts';
import type { ApiService } from '../service.ts';
import type { JobUnits } from '../job-queue.ts';
import { asId, type Handlers, type StoredExplanationSummary } from '../context.ts';
import { filteredImages } from './images.ts';
import { PRE_PROTOCOL } from '../../engine/protocol.ts';
import { applyProtocol } from '../../engine/report/comparable.ts';
import { checkMethodSettings } from './method-settings.ts';
import { followUpJob, isFollowUp } from './study-followup.ts';
import { randomisationBlocks } from './randomisation-blocks.ts';

type Spec = ParsedReq<'study.start'>;
type Estimate = Omit<Res<'study.estimate'>, 'probe'>;

/** The latest estimate of each study spec (per service), so the started job weighs its ETA by measured cost. */
const estimates = new WeakMap<ApiService, Map<string, Estimate>>();
const specKey = (spec: Spec) => JSON.stringify(spec);

/** The study's images (the filter's readable ones), methods and ensemble specs, checked before any work. */
export function plan(s: ApiService, spec: Spec) {
  const m = s.requireModel();
  const images = filteredImages(s, spec.libraryId, { ...spec.filter, status: 'ok' }) as ImageRecord[];
  if (!images.length) throw new SaliencyError('the study has no readable images: the filter matches none', 'BAD_REQUEST');
  const methods = [...spec.methods];
  const ensembles: (string | EnsembleSpec)[] = [...spec.ensembles];
  if (spec.savedEnsembleId) {
    const ws = s.store.weightSets.list().find((w) => String(w.id) === spec.savedEnsembleId);
    if (!ws) throw new SaliencyError(`no saved ensemble with id "${spec.savedEnsembleId}"`, 'NOT_FOUND');
    const members = Object.entries(ws.weights).filter(([k, w]) => w > 0 && !k.startsWith('ensemble')).map(([k]) => k);
    if (members.length < 2) throw new SaliencyError(`saved ensemble "${ws.name}" has fewer than two single methods with a weight above 0`, 'BAD_REQUEST');
    for (const k of members) if (!methods.includes(k)) methods.push(k);
    ensembles.push({ combiner: 'weighted', weights: Object.fromEntries(members.map((k) => [k, ws.weights[k]])) });
  }
  if (!methods.length) throw new SaliencyError('a study needs at least one method (or a saved ensemble)', 'BAD_REQUEST');
  const allowed = s.modelSummary(m).methods;
  for (const name of methods) {
    getExplainer(name);
    if (!allowed.includes(name)) throw new SaliencyError(`method "${name}" cannot run on ${m.classifier.info.name}: it needs a linear head the model does not have`, 'BAD_REQUEST');
  }
  checkMethodSettings(methods, spec.methodSettings);
  return { m, images, methods, ensembles };
}

/** Median evaluations and time of stored maps made with exactly these settings and this model: the measured cost
 *  of a method the app already ran, so the estimate re-runs only methods it has not seen. */
function measuredCosts(s: ApiService, methods: string[], spec: Spec): Record<string, { name: string; evaluations: number; millis: number }> {
  const out: Record<string, { name: string; evaluations: number; millis: number }> = {};
  const modelId = s.requireModel().dbId;
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const name of methods) {
    const want = canonicalJson(getExplainer(name).settings(spec.methodSettings[name] ?? {}));
    const runs = s.store.runs.list({ modelId, method: name }).filter((r) => canonicalJson(r.settings) === want);
    const rows = runs.flatMap((r) => s.store.explanations.list({ runId: r.id, limit: 50 }));
    if (rows.length) out[name] = { name, evaluations: median(rows.map((e) => e.evaluations)), millis: median(rows.map((e) => e.millis)) };
  }
  return out;
}

/** Cost units of a study job's items from its estimate: a method item costs the method's evaluations plus the
 *  metrics on its map, an ensemble item the metrics on its map. Without an estimate, items count equally. */
function jobUnits(s: ApiService, jobId: number, est: Estimate | undefined): JobUnits | undefined {
  if (!est) return undefined;
  const metrics = est.metrics.reduce((a, m) => a + m.evaluations, 0);
  const perMethod = new Map(est.methods.map((m) => [m.name, m.evaluations + metrics]));
  const cost = new Map(s.store.jobs.pendingItems(jobId).map((it) => [it.id, Math.max(1, it.method.startsWith('ensemble:') ? metrics : perMethod.get(it.method.split(':')[0]) ?? metrics)]));
  const total = [...cost.values()].reduce((a, b) => a + b, 0);
  return { total, of: (itemId) => cost.get(itemId) ?? 1 };
}

/** Series of an explanation (DESIGN.md): method | top1 or class:k | score kind. */
function seriesOf(s: ApiService, e: StoredExplanationSummary): { key: string; label: string; top1: boolean } {
  const { series, seriesLabel } = s.identity(e); // engine/report/series.ts, as reports name them
  return { key: series, label: seriesLabel, top1: series.split('|')[1] === 'top1' };
}

export function studyHandlers(s: ApiService): Handlers<'model.labels' | 'study.estimate' | 'study.start' | 'study.summary' | 'ratings.undo'> {
  return {
    'model.labels': async () => s.requireModel().classifier.labels.map((l, i) => ({ classIndex: i, label: l.label })),

    'study.estimate': async (spec) => {
      const { m, images, methods, ensembles } = plan(s, spec);
      const probe = images[0];
      const loaded = await s.load(probe);
      await s.predict([probe]);
      const target = { classIndex: s.prediction(probe.id)![0].classIndex, score: 'logit' as const };
      const est = await estimateCost(m.classifier, loaded.prepared, target, {
        methods: methods.map((name) => ({ name, settings: spec.methodSettings[name] ?? {} })), known: measuredCosts(s, methods, spec),
        metrics: planMetrics(spec.metrics.filter((x) => !isFollowUp(x)), spec.metricSettings), ensembles: ensembles.length, images: images.length, seed: spec.seed,
      });
      // Follow-up metrics (study-followup.ts): the pointing game costs no model evaluation; a re-run metric re-runs
      // each single method once per step (model-randomisation: steps blocks; 0 = every block, counted on the model).
      for (const p of planMetrics(spec.metrics.filter(isFollowUp), spec.metricSettings)) {
        let runs = 0;
        if (p.metric.tags.needs.explainerReruns) runs = p.metric.name === 'model-randomisation' ? Number(p.settings.steps) || randomisationBlocks(m.classifier) : 1;
        const perImage = runs * est.methods.reduce((a, x) => a + x.evaluations, 0);
        est.metrics.push({ name: p.metric.name, evaluations: Math.round(perImage / Math.max(1, methods.length)), millis: 0 });
        est.evaluations += perImage * images.length;
        est.seconds += (perImage * images.length * est.msPerEvaluation) / 1000;
      }
      if (!estimates.has(s)) estimates.set(s, new Map());
      estimates.get(s)!.set(specKey(spec), est);
      return { ...est, probe: probe.relPath };
    },

    'study.start': async (spec) => {
      const { m, images, methods, ensembles } = plan(s, spec);
      await s.predict(images).catch(() => undefined); // the runner explains each image's top-1 class
      const rec = await createExplainJob(s.store, {
        libraryId: asId('library', spec.libraryId), modelPath: m.classifier.info.path!, methods, seed: spec.seed, settings: spec.methodSettings,
        imageIds: images.map((r) => r.id), ensembles, metrics: spec.metrics.filter((x) => !isFollowUp(x)),
        metricSettings: Object.fromEntries(Object.entries(spec.metricSettings).filter(([k]) => !isFollowUp(k))),
      });
      const what = `${images.length} image${images.length > 1 ? 's' : ''} of ${s.libraryInfo(asId('library', spec.libraryId)).name}`;
      const names = [...methods, ...ensembles.map((e) => `ensemble:${typeof e === 'string' ? e : e.combiner}`)];
      const label = `study: ${names.join(', ')}${spec.metrics.length ? ` + ${spec.metrics.join(', ')}` : ''} on ${what}`;
      const job = s.jobs.addRunner(label, rec.counts.total, s.batchRunner(rec.id), { id: `batch-${rec.id}`, units: jobUnits(s, rec.id, estimates.get(s)?.get(specKey(spec))) });
      // Queued behind the batch (jobs run in order): annotation and re-run metrics on the maps it made.
      followUpJob(s, images, names, spec.metrics.filter(isFollowUp), spec.metricSettings, spec.seed);
      return job;
    },

    'study.summary': async ({ libraryId, filter }) => {
      const images = filteredImages(s, libraryId, { ...filter, status: 'ok' });
      const groups = new Map<string, { label: string; method: string; metric: string; values: number[]; pairs: [number, number][] }>();
      const perImage: Res<'study.summary'>['images'] = [];
      // Every stored value of the images' maps, then the protocol's rule of what may be compared (one protocol,
      // one setting per metric: report/comparable.ts), as reports apply it.
      const candidates = [];
      const disagreement = new Map<number, number | null>();
      for (const img of images) {
        const expl = s.explanationsOf(img.id);
        for (const e of expl) {
          const ser = seriesOf(s, e);
          for (const r of s.store.metrics.list({ explanationId: e.id })) {
            if (r.value === null || !Number.isFinite(r.value)) continue;
            const category = (() => { try { return getMetric(r.name).tags.category; } catch { return 'other'; } })();
            candidates.push({
              imageId: img.id, ser, method: e.method, metric: r.name, category, scoreKind: e.scoreKind, seriesLabel: ser.label,
              protocol: r.protocol ?? PRE_PROTOCOL, settings: r.settings, value: r.value, randomValue: r.randomValue,
            });
          }
        }
        // Disagreement: 1 - mean pairwise Spearman between the single methods' top-1 maps.
        const maps = expl.filter((e) => !e.method.startsWith('ensemble') && seriesOf(s, e).top1).map((e) => s.store.explanations.get(e.id)!.map);
        let rho = 0, pairs = 0;
        for (let i = 0; i < maps.length; i++) for (let j = i + 1; j < maps.length; j++) {
          if (maps[i].width === maps[j].width && maps[i].height === maps[j].height) { rho += spearman(maps[i], maps[j]); pairs++; }
        }
        disagreement.set(img.id, pairs ? 1 - rho / pairs : null);
      }
      const { metrics: comparable, refusals } = applyProtocol(candidates);
      for (const img of images) {
        const byMetric = new Map<string, number[]>();
        for (const r of comparable.filter((x) => x.imageId === img.id)) {
          const key = `${r.ser.key}\t${r.metric}`;
          const g = groups.get(key) ?? { label: r.ser.label, method: r.method, metric: r.metric, values: [], pairs: [] };
          g.values.push(r.value);
          if (r.randomValue !== null && Number.isFinite(r.randomValue)) g.pairs.push([r.value, r.randomValue]);
          groups.set(key, g);
          if (r.ser.top1 && !r.method.startsWith('ensemble')) byMetric.set(r.metric, [...(byMetric.get(r.metric) ?? []), r.value]);
        }
        // Gap: the spread of the single methods' deletion AUCs (or the first metric) on this image.
        const gapValues = byMetric.get('deletion') ?? [...byMetric.values()][0] ?? [];
        const gap = gapValues.length > 1 ? Math.max(...gapValues) - Math.min(...gapValues) : null;
        perImage.push({ imageId: String(img.id), gap, disagreement: disagreement.get(img.id) ?? null });
      }
      const rows: Res<'study.summary'>['rows'] = [...groups.entries()].map(([key, g]) => {
        const higherIsBetter = (() => { try { return getMetric(g.metric).tags.higherIsBetter; } catch { return true; } })();
        const nullable = (v: number) => (Number.isFinite(v) ? v : null); // no interval from fewer than 2 images
        const ci = bootstrapMeanCI(g.values, { seed: 1 });
        // Oriented so that > 0 means better than the random control.
        const d = g.pairs.length ? (higherIsBetter ? pairedBootstrapCI(g.pairs.map((p) => p[0]), g.pairs.map((p) => p[1]), { seed: 1 }) : pairedBootstrapCI(g.pairs.map((p) => p[1]), g.pairs.map((p) => p[0]), { seed: 1 })) : null;
        return {
          series: key.split('\t')[0], seriesLabel: g.label, method: g.method, metric: g.metric, higherIsBetter, n: ci.n, mean: ci.mean, lo: nullable(ci.lo), hi: nullable(ci.hi),
          controlMean: g.pairs.length ? g.pairs.reduce((a, p) => a + p[1], 0) / g.pairs.length : null,
          vsControl: d ? { diff: d.mean, lo: nullable(d.lo), hi: nullable(d.hi) } : null,
        };
      }).sort((a, b) => a.metric.localeCompare(b.metric) || a.seriesLabel.localeCompare(b.seriesLabel));
      return { rows, images: perImage, refusals, note: 'means with 95% percentile-bootstrap intervals over images (engine/stats: 2000 resamples, seed 1; none below 2 images); better than control = the paired difference to the random-map control, oriented so that > 0 is better than chance' };
    },

    'ratings.undo': async ({ rater, mode }) => {
      const ids = s.store.ratings.undoLatest(rater, mode);
      if (ids) s.changed(s.store.explanations.get(ids[0])?.imageId);
      return { undone: ids !== null, explanationIds: (ids ?? []).map(String) };
    },
  };
}
