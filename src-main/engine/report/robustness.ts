// The report's robustness section, when adversarial metric rows exist (adversarial-fragility: PGD on the margin;
// adversarial-topk: the targeted attack on the CAM's top-k mass): per attack, series and epsilon the similarity
// after the attack (Spearman of the map before and after, the metric's value) with n and a 95% bootstrap
// interval; the random control (the same Spearman between two seeded random maps of each image, as
// scripts/eval-adversarial.ts); the targeted attack against the untargeted one at the same epsilon (paired over
// images); each ensemble against its most robust single method. Rows of different settings (epsilon, steps, top-k)
// are never pooled: each settings group is its own line (the protocol keeps only one settings group of a metric in
// the main summary; this section reads the others back from the excluded rows for that reason alone).
import type { ReportData, ReportMetric } from './collect.ts';
import { bootstrapMeanCI, pairedBootstrapCI } from '../stats/bootstrap.ts';
import { spearman } from '../metrics/rank.ts';
import { randomMap } from '../metrics/perturb.ts';
import { Random } from '../util/random.ts';
import { canonicalJson } from '../store/json.ts';
import { esc } from './charts.ts';

const ATTACKS: Record<string, string> = { 'adversarial-fragility': 'PGD on the prediction margin (untargeted)', 'adversarial-topk': 'targeted: CAM top-k mass (Ghorbani et al.)' };

type Interval = [number, number];
export interface RobustnessRow {
  metric: string; attack: string; series: string; seriesLabel: string; isEnsemble: boolean;
  settings: Record<string, unknown>; epsilon: number; n: number; mean: number; ci95: Interval;
}
export interface RobustnessComparison { metric: string; epsilon: number; what: string; n: number; diff: number; ci95: Interval; verdict: string }
export interface RobustnessSection {
  rows: RobustnessRow[];
  control: { n: number; mean: number; ci95: Interval; what: string };
  targetedVsUntargeted: RobustnessComparison[];
  ensembleVsBestMember: RobustnessComparison[];
}

const CONTROL_GRAIN = 7;
const settingsKey = (r: ReportMetric) => `${r.metric}|${r.series}|${canonicalJson(r.settings)}`;
const ci = (c: { lo: number; hi: number }): Interval => [c.lo, c.hi];
const verdictOf = (lo: number, hi: number, more: string, less: string) => (lo > 0 ? more : hi < 0 ? less : 'no clear difference');

/** The adversarial rows of the report's protocol, by metric, series and settings; null when there are none. */
export function robustnessSection(data: ReportData): RobustnessSection | null {
  const isAttack = (r: ReportMetric) => r.metric in ATTACKS && r.value !== null;
  const settingsOnly = data.excludedMetrics.filter((r) => isAttack(r) && r.reason.startsWith(`${r.metric} settings differ`));
  const all = [...data.metrics.filter(isAttack), ...settingsOnly];
  if (!all.length) return null;
  const groups = new Map<string, ReportMetric[]>();
  for (const r of all) groups.set(settingsKey(r), [...(groups.get(settingsKey(r)) ?? []), r]);
  const rows: RobustnessRow[] = [...groups.values()].map((g) => {
    const c = bootstrapMeanCI(g.map((r) => r.value!), { seed: 1 });
    const { metric, series, seriesLabel, isEnsemble, settings } = g[0];
    return { metric, attack: ATTACKS[metric], series, seriesLabel, isEnsemble, settings, epsilon: Number(settings.epsilon), n: c.n, mean: c.mean, ci95: ci(c) };
  }).sort((a, b) => a.metric.localeCompare(b.metric) || a.epsilon - b.epsilon || Number(a.isEnsemble) - Number(b.isEnsemble) || a.seriesLabel.localeCompare(b.seriesLabel));

  const byImage = (metric: string, series: string, epsilon: number) => {
    const m = new Map<number, number>();
    for (const r of all) if (r.metric === metric && r.series === series && Number(r.settings.epsilon) === epsilon) m.set(r.imageId, r.value!);
    return m;
  };
  const paired = (a: Map<number, number>, b: Map<number, number>) => {
    const ids = [...a.keys()].filter((id) => b.has(id));
    return pairedBootstrapCI(ids.map((id) => a.get(id)!), ids.map((id) => b.get(id)!), { seed: 1 });
  };

  const targetedVsUntargeted: RobustnessComparison[] = [];
  for (const t of rows.filter((r) => r.metric === 'adversarial-topk')) {
    const d = paired(byImage(t.metric, t.series, t.epsilon), byImage('adversarial-fragility', t.series, t.epsilon));
    if (d.n < 2) continue;
    targetedVsUntargeted.push({
      metric: t.metric, epsilon: t.epsilon, what: `${t.seriesLabel}: targeted − untargeted`, n: d.n, diff: d.mean, ci95: ci(d),
      verdict: verdictOf(d.lo, d.hi, 'the targeted attack changes the map less', 'the targeted attack changes the map more'),
    });
  }

  const ensembleVsBestMember: RobustnessComparison[] = [];
  for (const e of rows.filter((r) => r.isEnsemble)) {
    const singles = rows.filter((r) => !r.isEnsemble && r.metric === e.metric && r.epsilon === e.epsilon);
    if (!singles.length) continue;
    const best = singles.reduce((a, b) => (b.mean > a.mean ? b : a));
    const d = paired(byImage(e.metric, e.series, e.epsilon), byImage(e.metric, best.series, e.epsilon));
    if (d.n < 2) continue;
    ensembleVsBestMember.push({
      metric: e.metric, epsilon: e.epsilon, what: `${e.seriesLabel} − ${best.seriesLabel} (most robust single method)`, n: d.n, diff: d.mean, ci95: ci(d),
      verdict: verdictOf(d.lo, d.hi, 'ensemble more robust', `${best.seriesLabel} more robust`),
    });
  }

  // Random control: the Spearman correlation of two independent seeded random maps of each image (chance level).
  const info = data.model.info as { input?: { width: number; height: number } };
  const width = info.input?.width ?? 64;
  const height = info.input?.height ?? 64;
  const imageIds = [...new Set(all.map((r) => r.imageId))].sort((a, b) => a - b);
  const control = bootstrapMeanCI(imageIds.map((id) => spearman(
    randomMap(width, height, Random.derive(id, 'robustness-control-a'), CONTROL_GRAIN),
    randomMap(width, height, Random.derive(id, 'robustness-control-b'), CONTROL_GRAIN),
  )), { seed: 1 });
  return {
    rows, targetedVsUntargeted, ensembleVsBestMember,
    control: { n: control.n, mean: control.mean, ci95: ci(control), what: `Spearman between two seeded random maps (${width}x${height}, grain ${CONTROL_GRAIN}) per image` },
  };
}

const num = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '–');
const interval = (c: Interval) => `[${num(c[0])}, ${num(c[1])}]`;

export function renderRobustnessHtml(s: RobustnessSection | null): string {
  if (!s) return '';
  const otherSettings = (r: RobustnessRow) => Object.entries(r.settings).filter(([k]) => k !== 'epsilon').map(([k, v]) => `${k}=${canonicalJson(v)}`).join(', ');
  const rows = s.rows.map((r) => `<tr><td>${esc(r.attack)}</td><td>${esc(r.seriesLabel)}${r.isEnsemble ? ' <span class="muted">ens.</span>' : ''}</td><td>${num(r.epsilon)}/255</td>`
    + `<td>${num(r.mean)} <span class="muted">${interval(r.ci95)}</span></td><td>${r.n}</td><td class="muted">${esc(otherSettings(r))}</td></tr>`).join('');
  const comparisons = (title: string, list: RobustnessComparison[]) => (list.length
    ? `<h3>${esc(title)}</h3><ul>${list.map((c) => `<li>eps ${num(c.epsilon)}/255, ${esc(c.what)}: ${num(c.diff)} ${interval(c.ci95)} (n = ${c.n}): ${esc(c.verdict)}</li>`).join('')}</ul>` : '');
  return `<h2>Robustness to adversarial perturbations</h2>
<p class="muted">Label-preserving L-inf attacks (epsilon on the 0-255 scale); the explainer re-runs on the attacked image with the same settings and seed, and the value is the Spearman correlation of the map before and after (1 = unchanged; higher is more robust). Mean over images with its 95% bootstrap interval; rows of different settings are never pooled.</p>
<table class="num rows"><tr><th>attack</th><th>series</th><th>epsilon</th><th>Spearman after attack</th><th>n</th><th>other settings</th></tr>${rows}</table>
<p>Random control: ${esc(s.control.what)}: ${num(s.control.mean)} ${interval(s.control.ci95)} (n = ${s.control.n}); a map no more robust than chance would score about this.</p>
${comparisons('Targeted against untargeted attack (paired over images, same series and epsilon)', s.targetedVsUntargeted)}
${comparisons('Ensembles against their most robust single method (paired over images)', s.ensembleVsBestMember)}`;
}
