// Statistics behind every comparison of methods (issue 14 #4), shared by `saliency evaluate`, the reports and
// the app: per group (a method, a series or an ensemble) and metric the mean with a seeded bootstrap 95%
// interval, the random-map control and the paired difference to it; pairwise paired comparisons over the
// units (images) both groups have, with sign-flip p-values Holm-adjusted within each metric. Single methods
// and ensembles (group names "ensemble:*", or those `isEnsemble` says) are ranked separately; each ensemble is
// then compared with the best single method.
import { bootstrapMeanCI, pairedDifferences } from './bootstrap.ts';
import { signFlipPValue } from './sign-flip.ts';
import { holm } from './holm.ts';
import { verdictText, winnerOf } from './verdict.ts';
import { wilson } from './binomial.ts';

export interface Observation {
  /** The paired unit, e.g. the image. */
  unit: string | number;
  /** Method, series or ensemble. */
  group: string;
  metric: string;
  value: number | null;
  control: number | null;
  higherIsBetter: boolean;
}

export type Interval = [number, number];

export interface GroupSummary {
  group: string; metric: string; higherIsBetter: boolean;
  kind: 'single' | 'ensemble';
  /** Rank by mean within its kind (1 = best mean; a rank is not a claim: see the pairs). */
  rank: number;
  n: number; mean: number; std: number; median: number;
  ci95: Interval;
  controlMean: number | null;
  /** Mean of value - control over the units with a control, with its paired bootstrap interval. */
  vsControl: { diff: number; ci95: Interval; n: number; better: boolean | null } | null;
  /** Share of units where the value beats its control (by the metric's direction), with a Wilson interval. */
  shareBeatingControl: number | null;
  shareCi95: Interval | null;
}

export interface PairComparison {
  metric: string; a: string; b: string;
  /** Why the pair is compared: both single, both ensembles, or an ensemble against the best single method. */
  kind: 'single' | 'ensemble' | 'ensemble-vs-best-single';
  n: number;
  /** Mean of a - b over the units both have. */
  diff: number;
  ci95: Interval;
  /** Two-sided sign-flip permutation p-value of the mean difference, and its Holm adjustment within the metric. */
  p: number;
  pHolm: number;
  winner: string | null;
  verdict: string;
}

export interface CompareOptions {
  seed?: number;
  resamples?: number;
  isEnsemble?: (group: string) => boolean;
  /** Metrics whose groups are not comparable methods (e.g. agreement between two methods): no pairs. */
  noPairs?: (metric: string) => boolean;
  /** How verdicts name a group (default: its name). */
  label?: (group: string) => string;
}

export const isEnsembleName = (g: string) => g.startsWith('ensemble:');

const std = (v: number[], mean: number) => Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, v.length - 1));
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const better = (higherIsBetter: boolean, x: number, y: number) => (higherIsBetter ? x > y : x < y);

/** Groups in first-seen order, per metric in first-seen order. */
function index(obs: Observation[]): Map<string, Map<string, Map<string | number, Observation>>> {
  const byMetric = new Map<string, Map<string, Map<string | number, Observation>>>();
  for (const o of obs) {
    if (o.value === null || !Number.isFinite(o.value)) continue;
    let groups = byMetric.get(o.metric);
    if (!groups) byMetric.set(o.metric, (groups = new Map()));
    let units = groups.get(o.group);
    if (!units) groups.set(o.group, (units = new Map()));
    units.set(o.unit, o); // a repeated unit keeps its last observation
  }
  return byMetric;
}

export function summariseGroups(obs: Observation[], opts: CompareOptions = {}): GroupSummary[] {
  const isEns = opts.isEnsemble ?? isEnsembleName;
  const boot = { seed: opts.seed ?? 0, resamples: opts.resamples };
  const out: GroupSummary[] = [];
  for (const [metric, groups] of index(obs)) {
    const rows: GroupSummary[] = [];
    for (const [group, units] of groups) {
      const list = [...units.values()];
      const values = list.map((o) => o.value!);
      const hib = list[0].higherIsBetter;
      const ci = bootstrapMeanCI(values, boot);
      const controlled = list.filter((o) => o.control !== null && Number.isFinite(o.control));
      const d = bootstrapMeanCI(pairedDifferences(controlled.map((o) => o.value!), controlled.map((o) => o.control!)), boot);
      const beats = controlled.filter((o) => better(hib, o.value!, o.control!)).length;
      rows.push({
        group, metric, higherIsBetter: hib, kind: isEns(group) ? 'ensemble' : 'single', rank: 0,
        n: values.length, mean: ci.mean, std: std(values, ci.mean), median: median(values), ci95: [ci.lo, ci.hi],
        controlMean: controlled.length ? controlled.reduce((a, o) => a + o.control!, 0) / controlled.length : null,
        vsControl: controlled.length ? {
          diff: d.mean, ci95: [d.lo, d.hi], n: d.n,
          better: d.n < 2 ? null : d.lo > 0 ? hib : d.hi < 0 ? !hib : null,
        } : null,
        shareBeatingControl: controlled.length ? beats / controlled.length : null,
        shareCi95: controlled.length ? wilson(beats, controlled.length) : null,
      });
    }
    for (const kind of ['single', 'ensemble'] as const) {
      const ranked = rows.filter((r) => r.kind === kind).sort((x, y) => (x.higherIsBetter ? y.mean - x.mean : x.mean - y.mean));
      ranked.forEach((r, i) => { r.rank = i + 1; });
    }
    out.push(...rows);
  }
  return out;
}

/** Paired comparison of two groups over the units both have (Holm fields filled in by comparePairs). */
export function pairedComparison(a: Map<string | number, Observation>, b: Map<string | number, Observation>, seed = 0, resamples?: number) {
  const common = [...a.keys()].filter((u) => b.has(u));
  const d = pairedDifferences(common.map((u) => a.get(u)!.value!), common.map((u) => b.get(u)!.value!));
  const ci = bootstrapMeanCI(d, { seed, resamples });
  return { n: d.length, diff: ci.mean, ci95: [ci.lo, ci.hi] as Interval, p: d.length ? signFlipPValue(d, { seed }) : 1 };
}

export function comparePairs(obs: Observation[], summary: GroupSummary[], opts: CompareOptions = {}): PairComparison[] {
  const isEns = opts.isEnsemble ?? isEnsembleName;
  const seed = opts.seed ?? 0;
  const out: PairComparison[] = [];
  for (const [metric, groups] of index(obs)) {
    if (opts.noPairs?.(metric)) continue;
    const names = [...groups.keys()];
    const singles = names.filter((g) => !isEns(g));
    const ensembles = names.filter(isEns);
    const todo: { a: string; b: string; kind: PairComparison['kind'] }[] = [];
    for (const [list, kind] of [[singles, 'single'], [ensembles, 'ensemble']] as const) {
      for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) todo.push({ a: list[i], b: list[j], kind });
    }
    const bestSingle = summary.find((s) => s.metric === metric && s.kind === 'single' && s.rank === 1)?.group;
    if (bestSingle) for (const e of ensembles) todo.push({ a: e, b: bestSingle, kind: 'ensemble-vs-best-single' });
    const hib = groups.get(names[0])!.values().next().value!.higherIsBetter;
    const done = todo.map((t) => ({ ...t, ...pairedComparison(groups.get(t.a)!, groups.get(t.b)!, seed, opts.resamples) }));
    const adjusted = holm(done.map((d) => d.p));
    done.forEach((d, i) => {
      const c = { ...d, metric, pHolm: adjusted[i], higherIsBetter: hib };
      const label = opts.label ?? ((g: string) => g);
      out.push({
        metric, a: d.a, b: d.b, kind: d.kind, n: d.n, diff: d.diff, ci95: d.ci95, p: d.p, pHolm: adjusted[i], winner: winnerOf(c),
        verdict: verdictText({ ...c, a: label(d.a), b: label(d.b) }),
      });
    });
  }
  return out;
}
