// Strengths and weaknesses of each method, computed from the report's numbers (never written by hand):
// where each method is best and worst (images, classes), where methods disagree, where a map is diffuse or
// unstable, where a method fails the randomisation check or does no better than a random map.
import type { ReportData, ReportMetric } from './collect.ts';

export interface MethodFindings { method: string; strengths: string[]; weaknesses: string[] }
export interface Analysis {
  perMethod: MethodFindings[];
  /** Images where the methods agree least (mean pairwise rank correlation). */
  disagreements: { imageId: number; relPath: string; meanAgreement: number }[];
  notes: string[];
}

const pct = (x: number) => `${Math.round(100 * x)}%`;
const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toFixed(3));

/** For one metric: per image, the rank of each method (1 = best). */
function ranksPerImage(rows: ReportMetric[]): Map<number, Map<string, number>> {
  const byImage = new Map<number, ReportMetric[]>();
  for (const r of rows) if (r.value !== null && Number.isFinite(r.value)) byImage.set(r.imageId, [...(byImage.get(r.imageId) ?? []), r]);
  const out = new Map<number, Map<string, number>>();
  for (const [imageId, list] of byImage) {
    if (list.length < 2) continue;
    const sorted = [...list].sort((a, b) => (a.higherIsBetter ? b.value! - a.value! : a.value! - b.value!));
    out.set(imageId, new Map(sorted.map((r, i) => [r.method, i + 1])));
  }
  return out;
}

export function analyse(data: ReportData, agreement?: { imageId: number; mean: number }[]): Analysis {
  const findings = new Map(data.methods.map((m) => [m, { method: m, strengths: [] as string[], weaknesses: [] as string[] }]));
  const imageName = new Map(data.images.map((i) => [i.id, i.relPath]));
  const classOf = new Map(data.images.map((i) => [i.id, i.trueClass ?? i.predictedClass]));
  const notes: string[] = [];
  const metricNames = [...new Set(data.metrics.map((m) => m.metric))];

  for (const metric of metricNames) {
    const rows = data.metrics.filter((m) => m.metric === metric);
    const category = rows[0].category;
    if (category === 'faithfulness' || category === 'localisation') {
      const ranks = ranksPerImage(rows);
      const nImages = ranks.size;
      if (nImages === 0) continue;
      for (const method of data.methods) {
        const f = findings.get(method)!;
        const mine = [...ranks].filter(([, r]) => r.has(method));
        if (!mine.length) continue;
        const best = mine.filter(([, r]) => r.get(method) === 1);
        const worst = mine.filter(([, r]) => r.get(method) === r.size);
        if (best.length / mine.length >= 0.4) f.strengths.push(`${metric}: best of ${mine[0][1].size} methods on ${best.length}/${mine.length} images`);
        if (worst.length / mine.length >= 0.4) {
          f.weaknesses.push(`${metric}: worst on ${worst.length}/${mine.length} images (e.g. ${worst.slice(0, 3).map(([id]) => imageName.get(id)).join(', ')})`);
        }
        // Classes where the method's mean rank is best or worst (needs several classes).
        const perClass = new Map<number, number[]>();
        for (const [id, r] of mine) {
          const c = classOf.get(id);
          if (c !== null && c !== undefined) perClass.set(c, [...(perClass.get(c) ?? []), r.get(method)!]);
        }
        if (perClass.size >= 2) {
          const means = [...perClass].map(([c, rs]) => ({ c, mean: rs.reduce((a, b) => a + b, 0) / rs.length, n: rs.length }));
          means.sort((a, b) => a.mean - b.mean);
          const label = (c: number) => data.labels[c] ?? `class ${c}`;
          const bestC = means[0];
          const worstC = means[means.length - 1];
          if (bestC.mean < worstC.mean) {
            f.strengths.push(`${metric}: strongest on class "${label(bestC.c)}" (mean rank ${fmt(bestC.mean)}, ${bestC.n} images)`);
            f.weaknesses.push(`${metric}: weakest on class "${label(worstC.c)}" (mean rank ${fmt(worstC.mean)}, ${worstC.n} images)`);
          }
        }
        // Against chance.
        const controlled = rows.filter((r) => r.method === method && r.value !== null && r.randomControl !== null);
        if (controlled.length) {
          const beats = controlled.filter((r) => (r.higherIsBetter ? r.value! > r.randomControl! : r.value! < r.randomControl!)).length / controlled.length;
          if (beats < 0.5) f.weaknesses.push(`${metric}: no better than a random map on ${pct(1 - beats)} of images`);
          else if (beats >= 0.9) f.strengths.push(`${metric}: beats the random-map control on ${pct(beats)} of images`);
        }
      }
    }
  }

  const meanOf = (metric: string, method: string) => {
    const v = data.summary.find((s) => s.metric === metric && s.method === method);
    return v ? v.mean : undefined;
  };
  const extremes = (metric: string, higherIsWorse: boolean, what: string, worstImages = true) => {
    const vals = data.methods.map((m) => ({ m, v: meanOf(metric, m) })).filter((x): x is { m: string; v: number } => x.v !== undefined);
    if (vals.length < 2) return;
    vals.sort((a, b) => (higherIsWorse ? b.v - a.v : a.v - b.v));
    const worst = vals[0];
    const f = findings.get(worst.m)!;
    let text = `${what}: the most of all methods (mean ${metric} ${fmt(worst.v)} vs ${fmt(vals[vals.length - 1].v)} for ${vals[vals.length - 1].m})`;
    if (worstImages) {
      const rows = data.metrics.filter((r) => r.metric === metric && r.method === worst.m && r.value !== null)
        .sort((a, b) => (higherIsWorse ? b.value! - a.value! : a.value! - b.value!)).slice(0, 2);
      if (rows.length) text += `; most on ${rows.map((r) => imageName.get(r.imageId)).join(', ')}`;
    }
    f.weaknesses.push(text);
    findings.get(vals[vals.length - 1].m)!.strengths.push(`${what}: the least of all methods (mean ${metric} ${fmt(vals[vals.length - 1].v)})`);
  };
  if (metricNames.includes('complexity')) extremes('complexity', true, 'diffuse maps (entropy)');
  else if (metricNames.includes('sparseness')) extremes('sparseness', false, 'diffuse maps (low Gini sparseness)');
  if (metricNames.includes('max-sensitivity')) extremes('max-sensitivity', true, 'unstable under small input noise');
  if (metricNames.includes('model-randomisation')) {
    for (const method of data.methods) {
      const v = meanOf('model-randomisation', method);
      if (v === undefined) continue;
      if (v > 0.5) findings.get(method)!.weaknesses.push(`fails the model-randomisation check: maps stay correlated (${fmt(v)}) with those of a randomised model`);
      else findings.get(method)!.strengths.push(`passes the model-randomisation check (correlation with the randomised model ${fmt(v)})`);
    }
  }

  const disagreements = (agreement ?? []).filter((a) => Number.isFinite(a.mean)).sort((a, b) => a.mean - b.mean).slice(0, 5)
    .map((a) => ({ imageId: a.imageId, relPath: imageName.get(a.imageId) ?? String(a.imageId), meanAgreement: a.mean }));
  if (!metricNames.length) notes.push('No metrics are stored for this selection: evaluate the explanations first (saliency report --evaluate, or the app).');
  return { perMethod: [...findings.values()], disagreements, notes };
}
