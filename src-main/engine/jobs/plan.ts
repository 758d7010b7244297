// The cost planner: before a job, how many model evaluations each method and metric will make per image and
// in all, and how long that takes with this model on this machine. Built on cost.ts: the evaluations per method
// and per map are counted on a probe image (estimateCost: each method and metric run once, counted); the time
// per evaluation is this model's, measured once on this machine (cost.ts msPerEvaluation: a batch of the
// model's own batch size) and stored with the model in the database (model_costs, migration 5), so later plans
// reuse it; each method's and metric's non-model work per run (masking, fits, call overheads) is the probe's
// wall time beyond its evaluations' model time. A method whose budget is auto (samples=auto, masks=auto,
// maxEvals=auto: its probe result has extras.auto) is planned at its probe's count and flagged: other images may
// stop earlier or later, never beyond the cap (also shown).
import os from 'node:os';
import type Database from 'better-sqlite3';
import type { Classifier } from '../model/classifier.ts';
import type { PreparedImage } from '../explain/types.ts';
import type { Target } from '../types.ts';
import { estimateCost, msPerEvaluation, type Clock, type CostEstimate, type ProbeSpec } from './cost.ts';

/** What a per-evaluation time was measured on: CPU model x logical cores and the execution provider. */
export function machineKey(model: Classifier): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'cpu'} x${cpus.length} ${model.info.provider}`;
}

/** Stored per-evaluation times (model_costs), keyed by model, machine and batch size. */
export class ModelCostsRepo {
  constructor(private db: Database.Database) {}

  get(modelId: number, machine: string, batchSize: number): { msPerEvaluation: number; measuredAt: string } | undefined {
    const r = this.db.prepare('SELECT ms_per_evaluation AS ms, measured_at AS at FROM model_costs WHERE model_id = ? AND machine = ? AND batch_size = ?')
      .get(modelId, machine, batchSize) as { ms: number; at: string } | undefined;
    return r && { msPerEvaluation: r.ms, measuredAt: r.at };
  }

  put(modelId: number, machine: string, batchSize: number, ms: number): void {
    this.db.prepare(`INSERT INTO model_costs (model_id, machine, batch_size, ms_per_evaluation) VALUES (?, ?, ?, ?)
      ON CONFLICT(model_id, machine, batch_size) DO UPDATE SET ms_per_evaluation = excluded.ms_per_evaluation,
        measured_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')`).run(modelId, machine, batchSize, ms);
  }
}

export interface PerEvaluationCost {
  ms: number;
  /** 'stored': measured earlier on this machine; 'measured': just now (and stored when a store was given). */
  source: 'stored' | 'measured';
  machine: string;
  measuredAt: string | null;
}

/** This model's time per evaluation on this machine: stored, or measured now (and stored). */
export async function perEvaluationCost(
  model: Classifier, probe: PreparedImage, stored?: { repo: ModelCostsRepo; modelId: number }, remeasure = false, clock?: Clock,
): Promise<PerEvaluationCost> {
  const machine = machineKey(model);
  const batch = model.info.batch.size;
  const hit = !remeasure ? stored?.repo.get(stored.modelId, machine, batch) : undefined;
  if (hit) return { ms: hit.msPerEvaluation, source: 'stored', machine, measuredAt: hit.measuredAt };
  const ms = await msPerEvaluation(model, probe, Math.max(2, batch) * 2, clock);
  stored?.repo.put(stored.modelId, machine, batch, ms);
  return { ms, source: 'measured', machine, measuredAt: null };
}

export interface PlanLine {
  name: string;
  kind: 'method' | 'metric';
  /** Per image for a method; per map for a metric (the mean over an image's maps, which share controls). */
  evaluations: number;
  /** How many times it runs in the job (images, or images x maps for a metric). */
  runs: number;
  totalEvaluations: number;
  /** Per run: the probe's time beyond its evaluations' model time (ms). */
  overheadMs?: number;
  seconds: number;
  /** Auto budgets: the cap this method never exceeds per image. */
  cap?: number;
}

export interface JobPlan {
  images: number;
  mapsPerImage: number;
  perEvaluation: PerEvaluationCost;
  lines: PlanLine[];
  evaluations: number;
  seconds: number;
  /** The probe run's own figures (cost.ts), for reference. */
  probe: CostEstimate;
}

/** Evaluations per method and metric (counted on the probe) x this model's stored time per evaluation. */
export async function planJob(
  model: Classifier, probe: PreparedImage, target: Target, spec: ProbeSpec,
  opts: { stored?: { repo: ModelCostsRepo; modelId: number }; remeasure?: boolean } = {},
): Promise<JobPlan> {
  const perEvaluation = await perEvaluationCost(model, probe, opts.stored, opts.remeasure, spec.clock);
  // Twice: the first run pays the cold start (compilation, first ORT calls, caches of segmentations and
  // masks) that a job pays once, not per image; the second, warm, run is the one timed.
  await estimateCost(model, probe, target, spec);
  const est = await estimateCost(model, probe, target, spec);
  const ms = perEvaluation.ms;
  const lines: PlanLine[] = [
    ...est.methods.map((m) => {
      const line: PlanLine = { name: m.name, kind: 'method', evaluations: m.evaluations, runs: spec.images, totalEvaluations: m.evaluations * spec.images, seconds: 0 };
      if (m.cap !== undefined) line.cap = m.cap;
      return line;
    }),
    ...est.metrics.map((m) => ({
      name: m.name, kind: 'metric' as const, evaluations: m.evaluations, runs: spec.images * est.mapsPerImage,
      totalEvaluations: Math.round(m.evaluations * spec.images * est.mapsPerImage), seconds: 0,
    })),
  ];
  // Time = evaluations x the model's stored time per evaluation + each run's non-model work (masking,
  // segmentation, fits, per-call overheads), measured on the probe as its wall time minus its evaluations'
  // model time. Without the second term a 20-image job of small methods was underestimated by 38%.
  const probed = new Map([...est.methods, ...est.metrics].map((c) => [c.name, c]));
  for (const l of lines) {
    const c = probed.get(l.name);
    const overhead = c ? Math.max(0, c.millis - (c.timedEvaluations ?? c.evaluations) * ms) : 0;
    l.overheadMs = overhead;
    l.seconds = (l.totalEvaluations * ms + l.runs * overhead) / 1000;
  }
  const evaluations = lines.reduce((a, l) => a + l.totalEvaluations, 0);
  const seconds = lines.reduce((a, l) => a + l.seconds, 0);
  return { images: spec.images, mapsPerImage: est.mapsPerImage, perEvaluation, lines, evaluations, seconds, probe: est };
}

/** The plan as printed by `saliency plan`. */
export function formatPlan(p: JobPlan, title: string): string {
  const fmt = (s: number) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`);
  const src = p.perEvaluation.source === 'stored' ? `stored, measured ${p.perEvaluation.measuredAt}` : 'measured now';
  const out = [
    `${title}: ${p.images} image${p.images === 1 ? '' : 's'}, ${p.mapsPerImage} map${p.mapsPerImage === 1 ? '' : 's'} per image`,
    `time per evaluation: ${p.perEvaluation.ms.toFixed(2)} ms (${src}; ${p.perEvaluation.machine})`,
    '  what                 evaluations each      x runs        evaluations        time',
  ];
  for (const l of p.lines) {
    const each = `${Number.isInteger(l.evaluations) ? l.evaluations : l.evaluations.toFixed(1)}${l.kind === 'metric' ? ' per map' : ' per image'}${l.cap !== undefined ? ` (auto, cap ${l.cap})` : ''}`;
    out.push(`  ${`${l.kind} ${l.name}`.padEnd(20)} ${each.padEnd(22)} ${String(l.runs).padStart(6)}   ${String(l.totalEvaluations).padStart(14)}   ${fmt(l.seconds).padStart(9)}`);
  }
  out.push(`  total${' '.repeat(47)}${String(p.evaluations).padStart(14)}   ${fmt(p.seconds).padStart(9)}`);
  if (p.lines.some((l) => l.cap !== undefined)) out.push('  auto budgets are planned at the probe image\'s count; each image stops on its own, never beyond the cap.');
  return out.join('\n');
}
