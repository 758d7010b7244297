// Each series' measured pros and cons (issue 14 #5): the seed's qualitative claims (Grad-CAM coarse but fast
// and class-discriminative; LIME interpretable superpixels but unstable and slow; SHAP principled but costly)
// restated as numbers with 95% intervals from the report's own data: cost per image (model evaluations,
// seconds), resolution (native map cells; RMS spatial frequency of the map), stability (max-sensitivity;
// seed-to-seed agreement where an image was explained with two seeds), faithfulness (vs the random control),
// agreement with annotations (localisation metrics) and the model-randomisation sanity check.
import type { Store } from '../store/store.ts';
import type { ReportData } from './collect.ts';
import type { MetricSummary } from './summary.ts';
import { bootstrapMeanCI, rmsFrequency, type Interval } from '../stats/index.ts';
import { formatNumber as num } from '../stats/verdict.ts';
import { resizeMap } from '../image/upsample.ts';
import { spearman } from '../metrics/rank.ts';
import { REPORT_STATS_SEED } from './summary.ts';

export type Aspect = 'cost' | 'resolution' | 'stability' | 'faithfulness' | 'annotations' | 'sanity';

export interface MeasuredStatement {
  aspect: Aspect;
  /** What is measured, e.g. "model evaluations per image". */
  measure: string;
  mean: number | null; ci95: Interval | null; n: number;
  text: string;
}

export interface SeriesProfile { series: string; label: string; isEnsemble: boolean; statements: MeasuredStatement[] }

/** Per explanation: its map's RMS frequency and native cells; per series: seed-to-seed rank agreement per image. */
export interface MapMeasures {
  byExplanation: Record<number, { rmsFrequency: number; nativeCells: number | null; native: string }>;
  seedAgreement: { series: string; imageId: number; spearman: number; seeds: [number, number] }[];
}

/** Reads the report's maps (and, for seed-to-seed agreement, other seeds of the same method, target and score). */
export function measureMaps(store: Store, data: ReportData, grid = 56): MapMeasures {
  const byExplanation: MapMeasures['byExplanation'] = {};
  const seedAgreement: MapMeasures['seedAgreement'] = [];
  const kept = new Map(data.explanations.map((e) => [e.id, e]));
  for (const e of data.explanations) {
    const stored = store.explanations.get(e.id);
    if (!stored) continue;
    const nw = stored.native?.width ?? null;
    const nh = stored.native?.height ?? null;
    byExplanation[e.id] = {
      rmsFrequency: rmsFrequency(stored.map),
      nativeCells: nw !== null && nh !== null ? nw * nh : null,
      native: nw === null || nh === null ? `per pixel (${stored.map.width}x${stored.map.height})` : nh === 1 ? `${nw} segments` : `${nw}x${nh} grid`,
    };
  }
  // Seed-to-seed: the kept explanation against the latest one of the same method, target and score kind made
  // with another seed (a different run), on a common coarse grid as the agreement matrix does.
  const modelId = data.model.id;
  for (const img of data.images) {
    const all = store.explanations.list({ imageId: img.id, modelId });
    for (const id of Object.values(img.explanations)) {
      const e = kept.get(id);
      if (!e) continue;
      const others = all.filter((o) => o.id !== e.id && o.method === e.method && o.targetClass === e.targetClass && o.scoreKind === e.scoreKind);
      const other = others.map((o) => ({ o, seed: store.runs.get(o.runId)?.seed })).filter((x) => x.seed !== undefined && x.seed !== e.seed).pop();
      if (!other) continue;
      const a = resizeMap(store.explanations.get(e.id)!.map, grid, grid);
      const b = resizeMap(store.explanations.get(other.o.id)!.map, grid, grid);
      const r = spearman(a, b);
      if (Number.isFinite(r)) seedAgreement.push({ series: e.series, imageId: img.id, spearman: r, seeds: [e.seed, other.seed!] });
    }
  }
  return { byExplanation, seedAgreement };
}

const ciText = (ci: Interval | null) => (ci && Number.isFinite(ci[0]) ? ` [95% CI ${num(ci[0])}, ${num(ci[1])}]` : ' [no interval: n < 2]');

function statement(aspect: Aspect, measure: string, values: number[], unit = ''): MeasuredStatement {
  const ci = bootstrapMeanCI(values, { seed: REPORT_STATS_SEED });
  const interval: Interval = [ci.lo, ci.hi];
  return { aspect, measure, mean: ci.n ? ci.mean : null, ci95: ci.n ? interval : null, n: ci.n, text: `${measure}: ${num(ci.mean)}${unit}${ciText(interval)} (n = ${ci.n})` };
}

const fromSummary = (aspect: Aspect, s: MetricSummary, extra = ''): MeasuredStatement => ({
  aspect, measure: s.metric, mean: s.mean, ci95: s.ci95, n: s.n,
  text: `${s.metric}: ${num(s.mean)}${ciText(s.ci95)} (n = ${s.n})${s.vsControl ? `; map − random control ${num(s.vsControl.diff)}${ciText(s.vsControl.ci95)}: ${s.vsControl.better === true ? 'better than chance' : s.vsControl.better === false ? 'WORSE than chance' : 'not distinguishable from chance'}` : ''}${extra}`,
});

const missing = (aspect: Aspect, text: string): MeasuredStatement => ({ aspect, measure: aspect, mean: null, ci95: null, n: 0, text });

/** Model-randomisation: correlation with the randomised model's maps; passes when the whole interval is below 0.5. */
export const RANDOMISATION_THRESHOLD = 0.5;

export function profiles(data: ReportData, measures?: MapMeasures): SeriesProfile[] {
  return data.series.map((s) => {
    const expl = data.explanations.filter((e) => e.series === s.key);
    const mine = data.summary.filter((x) => x.series === s.key);
    const out: MeasuredStatement[] = [];
    out.push(statement('cost', 'model evaluations per image', expl.map((e) => e.evaluations)));
    out.push(statement('cost', 'seconds per image', expl.map((e) => e.millis / 1000), ' s'));
    if (measures) {
      const m = expl.map((e) => measures.byExplanation[e.id]).filter((x) => x !== undefined);
      const natives = [...new Set(m.map((x) => x.native))];
      const r = statement('resolution', 'RMS spatial frequency (cycles per image side; higher = finer detail)', m.map((x) => x.rmsFrequency));
      r.text = `native map: ${natives.slice(0, 3).join(', ')}${natives.length > 3 ? ', ...' : ''}; ${r.text}`;
      out.push(r);
    } else out.push(missing('resolution', 'resolution: not measured (maps not read)'));
    const sens = mine.find((x) => x.metric === 'max-sensitivity');
    if (sens) out.push(fromSummary('stability', sens, ' (lower = more stable under small input noise)'));
    const seeds = measures?.seedAgreement.filter((x) => x.series === s.key) ?? [];
    if (seeds.length) out.push(statement('stability', 'seed-to-seed rank agreement of the maps (Spearman)', seeds.map((x) => x.spearman)));
    if (!sens && !seeds.length) out.push(missing('stability', 'stability: not measured (no max-sensitivity metric, no image explained with two seeds)'));
    const faithful = mine.filter((x) => x.category === 'faithfulness');
    if (faithful.length) for (const f of faithful) out.push(fromSummary('faithfulness', f));
    else out.push(missing('faithfulness', 'faithfulness: not measured (no deletion/insertion/AOPC/ROAD metrics)'));
    const local = mine.filter((x) => x.category === 'localisation');
    if (local.length) for (const l of local) out.push(fromSummary('annotations', l));
    else out.push(missing('annotations', 'agreement with annotations: none (no annotations or localisation metrics)'));
    const sanity = mine.find((x) => x.metric === 'model-randomisation');
    if (sanity) {
      const [lo, hi] = sanity.ci95;
      const verdict = hi < RANDOMISATION_THRESHOLD ? 'passes' : lo > RANDOMISATION_THRESHOLD ? 'FAILS' : 'undecided';
      out.push(fromSummary('sanity', sanity, `; model-randomisation check ${verdict} (threshold: correlation ${RANDOMISATION_THRESHOLD} with the randomised model's maps)`));
    } else out.push(missing('sanity', 'sanity check: not run (no model-randomisation metric)'));
    return { series: s.key, label: s.label, isEnsemble: s.isEnsemble, statements: out };
  });
}
