// Strengths and weaknesses of each series, computed from the report's numbers (never written by hand), and
// each claim backed by a test: against the random-map control and against other series only when the paired
// 95% interval excludes zero (Holm within the metric: report/summary.ts); "best/worst on many images" only when
// an exact binomial test against chance (1/k for k series on the image) rejects at 0.05; per-class findings only
// for classes with at least `minClassImages` images (default 5), Holm-adjusted over the classes; and the
// measured pros and cons of each series (report/profile.ts).
import type { ReportData, ReportMetric } from './collect.ts';
import { binomialTest, bootstrapMeanCI, holm, signFlipPValue, ALPHA } from '../stats/index.ts';
import { formatNumber as fmt } from '../stats/verdict.ts';
import { REPORT_STATS_SEED } from './summary.ts';
import { profiles, RANDOMISATION_THRESHOLD, type MapMeasures, type SeriesProfile } from './profile.ts';
import { MASS_CONVENTION } from '../metrics/mass.ts';

export interface MethodFindings { method: string; label: string; isEnsemble: boolean; strengths: string[]; weaknesses: string[] }
export interface Analysis {
  perMethod: MethodFindings[];
  /** Measured pros and cons per series (cost, resolution, stability, faithfulness, annotations, sanity). */
  profiles: SeriesProfile[];
  /** Images where the methods agree least (mean pairwise rank correlation). */
  disagreements: { imageId: number; relPath: string; meanAgreement: number }[];
  notes: string[];
  /** The conventions the numbers follow, stated in the report. */
  conventions: string[];
  minClassImages: number;
}

export interface AnalysisOptions {
  /** Fewest images of a class for a per-class finding (default 5). */
  minClassImages?: number;
  measures?: MapMeasures;
}

const seriesOfRow = (m: ReportMetric) => m.series ?? m.method;
const isValue = (m: ReportMetric) => m.value !== null && Number.isFinite(m.value);

/** For one metric and one kind (singles or ensembles): per image, the rank of each series (1 = best). */
function ranksPerImage(rows: ReportMetric[]): Map<number, Map<string, number>> {
  const byImage = new Map<number, ReportMetric[]>();
  for (const r of rows) if (isValue(r)) byImage.set(r.imageId, [...(byImage.get(r.imageId) ?? []), r]);
  const out = new Map<number, Map<string, number>>();
  for (const [imageId, list] of byImage) {
    if (list.length < 2) continue;
    const sorted = [...list].sort((a, b) => (a.higherIsBetter ? b.value! - a.value! : a.value! - b.value!));
    out.set(imageId, new Map(sorted.map((r, i) => [seriesOfRow(r), i + 1])));
  }
  return out;
}

const WHAT: Record<string, [string, string]> = {
  complexity: ['more concentrated maps (lower entropy)', 'more diffuse maps (higher entropy)'],
  sparseness: ['sparser maps (higher Gini)', 'more diffuse maps (lower Gini)'],
  'max-sensitivity': ['more stable under small input noise', 'less stable under small input noise'],
};

export function analyse(data: ReportData, agreement?: { imageId: number; mean: number }[], opts: AnalysisOptions = {}): Analysis {
  const minClass = opts.minClassImages ?? 5;
  const series = data.series;
  const findings = new Map(series.map((s) => [s.key, { method: s.key, label: s.label, isEnsemble: s.isEnsemble, strengths: [] as string[], weaknesses: [] as string[] }]));
  const labelOf = (k: string) => findings.get(k)?.label ?? k;
  const imageName = new Map(data.images.map((i) => [i.id, i.relPath]));
  const classOf = new Map(data.images.map((i) => [i.id, i.trueClass ?? i.predictedClass]));
  const notes: string[] = [];
  const metricNames = [...new Set(data.metrics.map((m) => m.metric))].sort();

  // 1. Against the random-map control: a claim only when the paired interval excludes zero.
  for (const s of data.summary) {
    const f = findings.get(s.series);
    if (!f || !s.vsControl) continue;
    const d = s.vsControl;
    const text = `${s.metric}: map − random control ${fmt(d.diff)}, 95% CI [${fmt(d.ci95[0])}, ${fmt(d.ci95[1])}], n = ${d.n}`;
    if (d.better === true) f.strengths.push(`${text}: better than a random map`);
    else if (d.better === false) f.weaknesses.push(`${text}: WORSE than a random map`);
    else f.weaknesses.push(`${s.metric}: no clear difference from a random map (n = ${d.n})`);
  }

  // 2. Between series: the Holm-adjusted paired comparisons; only winners are claims.
  for (const p of data.pairs) {
    if (!p.winner) continue;
    const loser = p.winner === p.a ? p.b : p.a;
    const [good, bad] = WHAT[p.metric] ?? [`${p.metric}: better`, `${p.metric}: worse`];
    findings.get(p.winner)?.strengths.push(`${WHAT[p.metric] ? `${good}: ` : `${p.metric}: `}${p.verdict}`);
    findings.get(loser)?.weaknesses.push(`${WHAT[p.metric] ? `${bad}: ` : `${p.metric}: `}${p.verdict}`);
  }

  // 3. Frequency flags and 4. per-class findings, for faithfulness and localisation metrics.
  let largestClass = 0;
  for (const metric of metricNames) {
    const rows = data.metrics.filter((m) => m.metric === metric && isValue(m));
    if (!rows.length) continue;
    const category = rows[0].category;
    if (category !== 'faithfulness' && category !== 'localisation') continue;
    for (const ensembles of [false, true]) {
      const kindRows = rows.filter((r) => (findings.get(seriesOfRow(r))?.isEnsemble ?? false) === ensembles);
      const ranks = ranksPerImage(kindRows);
      for (const key of new Set(kindRows.map(seriesOfRow))) {
        const f = findings.get(key);
        if (!f) continue;
        const mine = [...ranks].filter(([, r]) => r.has(key));
        if (!mine.length) continue;
        // Chance of being best (or worst) on an image with k series is 1/k; use the images with the usual k.
        const k = mode(mine.map(([, r]) => r.size));
        const same = mine.filter(([, r]) => r.size === k);
        const best = same.filter(([, r]) => r.get(key) === 1);
        const worst = same.filter(([, r]) => r.get(key) === k);
        const pBest = binomialTest(best.length, same.length, 1 / k, 'greater');
        const pWorst = binomialTest(worst.length, same.length, 1 / k, 'greater');
        const chance = `chance 1/${k}, exact binomial p ${pBest < 0.001 ? '< 0.001' : `= ${fmt(pBest)}`}`;
        if (pBest < ALPHA) f.strengths.push(`${metric}: best of ${k} on ${best.length}/${same.length} images (${chance})`);
        if (pWorst < ALPHA) {
          f.weaknesses.push(`${metric}: worst of ${k} on ${worst.length}/${same.length} images (chance 1/${k}, exact binomial p ${pWorst < 0.001 ? '< 0.001' : `= ${fmt(pWorst)}`}; e.g. ${worst.slice(0, 3).map(([id]) => imageName.get(id)).join(', ')})`);
        }
      }
    }
    // Per class: the series' value minus the mean of the other single series on the same image, over the
    // class's images; a claim only for classes with >= minClass images and a Holm-adjusted interval that
    // excludes zero.
    const byImage = new Map<number, ReportMetric[]>();
    for (const r of rows) if (!findings.get(seriesOfRow(r))?.isEnsemble) byImage.set(r.imageId, [...(byImage.get(r.imageId) ?? []), r]);
    const classImages = new Map<number, number[]>();
    for (const id of byImage.keys()) {
      const c = classOf.get(id);
      if (c !== null && c !== undefined) classImages.set(c, [...(classImages.get(c) ?? []), id]);
    }
    for (const ids of classImages.values()) largestClass = Math.max(largestClass, ids.length);
    const eligible = [...classImages].filter(([, ids]) => ids.length >= minClass);
    if (!eligible.length) continue;
    for (const key of new Set(rows.map(seriesOfRow))) {
      const f = findings.get(key);
      if (!f || f.isEnsemble) continue;
      const tests = eligible.map(([c, ids]) => {
        const d: number[] = [];
        for (const id of ids) {
          const list = byImage.get(id)!;
          const me = list.find((r) => seriesOfRow(r) === key);
          const others = list.filter((r) => seriesOfRow(r) !== key);
          if (!me || !others.length) continue;
          d.push(me.value! - others.reduce((s, r) => s + r.value!, 0) / others.length);
        }
        const ci = bootstrapMeanCI(d, { seed: REPORT_STATS_SEED });
        return { c, ci, p: d.length ? signFlipPValue(d, { seed: REPORT_STATS_SEED }) : 1, hib: rows[0].higherIsBetter };
      });
      const adjusted = holm(tests.map((t) => t.p));
      tests.forEach((t, i) => {
        if (!(adjusted[i] < ALPHA) || !(t.ci.lo > 0 || t.ci.hi < 0)) return;
        const good = (t.ci.lo > 0) === t.hib;
        const text = `${metric}: on class "${data.labels[t.c] ?? `class ${t.c}`}" ${good ? 'better' : 'worse'} than the other methods' mean (diff ${fmt(t.ci.mean)}, 95% CI [${fmt(t.ci.lo)}, ${fmt(t.ci.hi)}], n = ${t.ci.n} images, Holm p ${adjusted[i] < 0.001 ? '< 0.001' : `= ${fmt(adjusted[i])}`})`;
        (good ? f.strengths : f.weaknesses).push(text);
      });
    }
  }
  notes.push(largestClass >= minClass
    ? `Per-class findings are made only for classes with at least ${minClass} images, Holm-adjusted over the classes.`
    : `Per-class findings: none claimed — no class has at least ${minClass} images (the largest has ${largestClass}).`);

  // 5. The sanity check's threshold, with its interval.
  for (const s of data.summary.filter((x) => x.metric === 'model-randomisation')) {
    const f = findings.get(s.series);
    if (!f) continue;
    const text = `model-randomisation: correlation with a randomised model's maps ${fmt(s.mean)}, 95% CI [${fmt(s.ci95[0])}, ${fmt(s.ci95[1])}], n = ${s.n}`;
    if (s.ci95[1] < RANDOMISATION_THRESHOLD) f.strengths.push(`${text}: passes the check (interval below ${RANDOMISATION_THRESHOLD})`);
    else if (s.ci95[0] > RANDOMISATION_THRESHOLD) f.weaknesses.push(`${text}: FAILS the check (interval above ${RANDOMISATION_THRESHOLD})`);
  }

  const disagreements = (agreement ?? []).filter((a) => Number.isFinite(a.mean)).sort((a, b) => a.mean - b.mean).slice(0, 5)
    .map((a) => ({ imageId: a.imageId, relPath: imageName.get(a.imageId) ?? String(a.imageId), meanAgreement: a.mean }));
  if (!metricNames.length) notes.push('No metrics are stored for this selection: evaluate the explanations first (saliency report --evaluate, or the app).');
  const conventions = [MASS_CONVENTION];
  return { perMethod: [...findings.values()].map((f) => ({ ...f, label: labelOf(f.method) })), profiles: profiles(data, opts.measures), disagreements, notes, conventions, minClassImages: minClass };
}

function mode(values: number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0][0];
}
