// Partition SHAP: Owen values over a hierarchical partition of the image, as shap's PartitionExplainer does
// for images (shap.maskers.Image + explainer "owen" with fixed_context=None). The partition is a binary tree of
// rectangles, each split in half along its longer side (rows on ties), down to single pixels; hidden
// regions come from a baseline (blur by default, as shap's blur masker).
// A priority queue expands the node whose score changed most (times its weight) first; expanding a node with
// context on-set C evaluates f(C + left) and f(C + right) and queues both children in the "others off" and
// "others on" contexts with half the weight. When the budget runs out, each queued item's (f11 - f00) * weight
// stays on its node. A node's value is spread evenly over its pixels (shap's lower_credit), so the map sums
// exactly to f(x) - f(baseline) (efficiency; reported). The random tie-break of equal priorities is seeded.
// Convergence (every partial map and the final one, extras.convergence): the remaining unexplained mass, i.e.
// the largest credit still spread evenly over a region that is not yet split, |f11 - f00| x weight of the
// queue's biggest multi-pixel item, relative to |f(x) - f(baseline)| (what the next evaluations would
// redistribute within one region); and Spearman / top-10% IoU against the previous partial map. (The sum over
// all queued items is no measure: expanding an item never lowers it, by the triangle inequality.)
// maxEvals=auto stops at the first progress check (from PARTITION_SHAP_AUTO_MINIMUM evaluations) whose unexplained
// mass is <= precision; maxEvals is then the cap. The method is deterministic up to seeded tie-breaks, so the
// default precision was chosen by agreement with the full budget's map, not between seeds (README).
import type { Explainer, Explanation, ExplainContext, PreparedImage } from '../types.ts';
import type { Map2D, PlanarImage, Target } from '../../types.ts';
import { SaliencyError } from '../../types.ts';
import { Random } from '../../util/random.ts';
import { checkTarget } from '../cam/base-cam.ts';
import { schedulerFor, targetScore } from '../../infer/scheduler.ts';
import { checkBaselineKind, makeModelBaseline, type BaselineKind } from './masking.ts';
import { SETTING_LIMITS, intSetting, numberSetting } from '../check-settings.ts';
import { ANYTIME_SWITCHES, readAnytime, stability, type AnytimeSettings, type AutoOutcome } from './convergence.ts';

/** Default precision of maxEvals=auto (unexplained mass), chosen on a tuning set (README). */
export const PARTITION_SHAP_AUTO_PRECISION = 0.01;
/** maxEvals=auto never stops before this many evaluations. */
export const PARTITION_SHAP_AUTO_MINIMUM = 100;

/** One convergence check of Partition SHAP (see the header). */
export interface PartitionCheck { evaluations: number; unexplainedMass: number; spearman: number | null; topKIoU: number | null }

export type PartitionShapSettings = {
  maxEvals: number;
  baseline: BaselineKind;
  /** Blur sigma in pixels for the blur baseline; 0 = 10% of the longer side. */
  blurSigma: number;
  /** Queue items expanded per round (2 model inputs each), as shap's batch_size. */
  roundSize: number;
  /** Emit a partial map about every this many evaluations. */
  progressEvery: number;
} & AnytimeSettings & Record<string, unknown>;

/** A rectangle [x0,x1) x [y0,y1) of the partition tree; children are made on first use. */
class PartNode {
  d = 0;
  private kids: [PartNode, PartNode] | null | undefined;
  constructor(
    readonly x0: number, readonly y0: number, readonly x1: number, readonly y1: number,
    readonly level: number, private all: PartNode[],
  ) {
    all.push(this);
  }

  get area(): number {
    return (this.x1 - this.x0) * (this.y1 - this.y0);
  }

  children(): [PartNode, PartNode] | null {
    if (this.kids !== undefined) return this.kids;
    const { x0, y0, x1, y1, all } = this;
    const l = this.level + 1;
    const w = x1 - x0;
    const h = y1 - y0;
    if (w * h <= 1) this.kids = null;
    else if (h >= w) {
      const mid = y0 + Math.floor(h / 2);
      this.kids = [new PartNode(x0, y0, x1, mid, l, all), new PartNode(x0, mid, x1, y1, l, all)];
    } else {
      const mid = x0 + Math.floor(w / 2);
      this.kids = [new PartNode(x0, y0, mid, y1, l, all), new PartNode(mid, y0, x1, y1, l, all)];
    }
    return this.kids;
  }
}

/** The regions shown from the image (the rest is baseline): a persistent list, shared between items. */
type OnSet = { node: PartNode; next: OnSet } | null;

interface Item { on: OnSet; f00: number; f11: number; node: PartNode; weight: number }

/** Min-heap on (key, tie): key = -|delta f| * weight, tie = a seeded normal draw, as shap's PriorityQueue. */
class ItemQueue {
  private heap: { key: number; tie: number; item: Item }[] = [];
  get size(): number { return this.heap.length; }
  private less(i: number, j: number): boolean {
    const a = this.heap[i];
    const b = this.heap[j];
    return a.key < b.key || (a.key === b.key && a.tie < b.tie);
  }
  push(key: number, tie: number, item: Item): void {
    const h = this.heap;
    h.push({ key, tie, item });
    for (let i = h.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }
  pop(): Item {
    const h = this.heap;
    const top = h[0].item;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(l, m)) m = l;
        if (r < h.length && this.less(r, m)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
  items(): Item[] { return this.heap.map((e) => e.item); }
}

/** The baseline with the on-set's rectangles copied back from the image (row copies: binary masks need no mixing). */
function maskedImage(input: PlanarImage, baseline: PlanarImage, on: OnSet): PlanarImage {
  const { width, height } = input;
  const plane = width * height;
  const data = baseline.data.slice();
  for (let s = on; s; s = s.next) {
    const { x0, y0, x1, y1 } = s.node;
    for (let c = 0; c < 3; c++) {
      for (let y = y0; y < y1; y++) {
        const o = c * plane + y * width;
        data.set(input.data.subarray(o + x0, o + x1), o + x0);
      }
    }
  }
  return { width, height, data };
}

/** Each node's value spread evenly over its pixels, plus the pending items' (f11 - f00) * weight. */
function paint(width: number, height: number, nodes: PartNode[], pending: Item[]): Float32Array {
  const extra = new Map<PartNode, number>();
  for (const it of pending) extra.set(it.node, (extra.get(it.node) ?? 0) + (it.f11 - it.f00) * it.weight);
  const out = new Float64Array(width * height);
  for (const n of nodes) {
    const v = (n.d + (extra.get(n) ?? 0)) / n.area;
    if (v === 0) continue;
    for (let y = n.y0; y < n.y1; y++) for (let q = y * width + n.x0; q < y * width + n.x1; q++) out[q] += v;
  }
  return Float32Array.from(out);
}

export class PartitionShap implements Explainer<PartitionShapSettings> {
  readonly name = 'partitionshap';
  readonly switches = ANYTIME_SWITCHES;
  readonly description = 'Partition SHAP (Owen values over a hierarchical split of the image, blur masker)';

  settings(partial: Partial<PartitionShapSettings>): PartitionShapSettings {
    const baseline = checkBaselineKind(partial.baseline ?? 'blur', 'partitionshap: baseline');
    if (baseline === 'segment-mean') throw new SaliencyError('partitionshap: the segment-mean baseline needs superpixels; use blur, mean, black or gray', 'BAD_SETTING');
    const { budget, anytime } = readAnytime('partitionshap', 'maxEvals', partial, PARTITION_SHAP_AUTO_PRECISION);
    return {
      ...anytime,
      maxEvals: intSetting('partitionshap', 'maxEvals', budget, 500, 4, SETTING_LIMITS.evaluations),
      baseline,
      blurSigma: numberSetting('partitionshap', 'blurSigma', partial.blurSigma, 0, 0, 1e4),
      roundSize: intSetting('partitionshap', 'roundSize', partial.roundSize, 16, 1, SETTING_LIMITS.round),
      progressEvery: intSetting('partitionshap', 'progressEvery', partial.progressEvery, 100, 1),
    };
  }

  async explain(image: PreparedImage, target: Target, settings: PartitionShapSettings, seed: number, ctx: ExplainContext): Promise<Explanation> {
    const t0 = performance.now();
    checkTarget(ctx.model, target);
    const input = image.input;
    const { width, height } = input;
    const { maxEvals, roundSize, progressEvery } = settings;
    const scheduler = schedulerFor(ctx.model);
    const baseline = makeModelBaseline(input, settings.baseline, ctx.model, settings.blurSigma > 0 ? { blurSigma: settings.blurSigma } : {});
    const rng = Random.derive(seed, 'partitionshap-ties');
    const nodes: PartNode[] = [];
    const root = new PartNode(0, 0, width, height, 0, nodes);

    const ends = await scheduler.evaluate([input, baseline], { signal: ctx.signal });
    const f11 = targetScore(ends, 0, target);
    const f00 = targetScore(ends, 1, target);
    let evals = 2;
    let fresh = ends.fresh ?? 0;
    let expanded = 0;
    let nextProgress = progressEvery;
    const queue = new ItemQueue();
    queue.push(0, 0, { on: null, f00, f11, node: root, weight: 1 });
    const push = (node: PartNode, on: OnSet, lo: number, hi: number, weight: number) =>
      queue.push(-Math.abs(hi - lo) * weight, rng.normal(), { on, f00: lo, f11: hi, node, weight });

    const convergence: PartitionCheck[] = [];
    let previous: Float32Array | null = null;
    const scale = Math.max(Math.abs(f11 - f00), 1e-12);
    const check = (map: Float32Array) => {
      let largest = 0;
      for (const it of queue.items()) if (it.node.area > 1) largest = Math.max(largest, Math.abs(it.f11 - it.f00) * it.weight);
      const c: PartitionCheck = { evaluations: evals, unexplainedMass: largest / scale, ...stability(previous, map) };
      convergence.push(c);
      previous = map;
      return c;
    };

    const auto = settings.auto === true;
    let stoppedEarly = false;
    while (queue.size > 0) {
      if (evals + 2 > maxEvals) break;
      const round: { it: Item; left: PartNode; right: PartNode; m10: OnSet; m01: OnSet }[] = [];
      while (queue.size > 0 && round.length < roundSize && evals + 2 * (round.length + 1) <= maxEvals) {
        const it = queue.pop();
        const kids = it.node.children();
        if (!kids) { it.node.d += (it.f11 - it.f00) * it.weight; continue; } // a single pixel
        const [left, right] = kids;
        round.push({ it, left, right, m10: { node: left, next: it.on }, m01: { node: right, next: it.on } });
      }
      if (round.length === 0) continue;
      const rows = await scheduler.evaluate(
        round.flatMap((r) => [maskedImage(input, baseline, r.m10), maskedImage(input, baseline, r.m01)]),
        { signal: ctx.signal },
      );
      evals += 2 * round.length;
      fresh += rows.fresh ?? 0;
      expanded += round.length;
      round.forEach(({ it, left, right, m10, m01 }, i) => {
        const f10 = targetScore(rows, 2 * i, target);
        const f01 = targetScore(rows, 2 * i + 1, target);
        const w = it.weight / 2;
        // The interaction term is added and removed again (contexts "off" and "on"): it nets to zero.
        push(left, it.on, it.f00, f10, w);
        push(right, it.on, it.f00, f01, w);
        push(left, m01, f01, it.f11, w);
        push(right, m10, f10, it.f11, w);
      });
      if (evals >= nextProgress && evals < maxEvals) {
        nextProgress += progressEvery;
        const data = paint(width, height, nodes, queue.items());
        const c = check(data);
        const stable = c.spearman === null ? '' : `, Spearman ${c.spearman.toFixed(3)}, top-10% IoU ${c.topKIoU!.toFixed(2)} vs the previous map`;
        ctx.onProgress?.({ fraction: evals / maxEvals, partial: { width, height, data }, note: `${evals}/${maxEvals} evaluations; unexplained mass ${c.unexplainedMass.toFixed(3)}${stable}` });
        if (auto && evals >= PARTITION_SHAP_AUTO_MINIMUM && c.unexplainedMass <= settings.precision!) { stoppedEarly = true; break; }
      }
    }
    const data = paint(width, height, nodes, queue.items());
    const final = stoppedEarly ? convergence.at(-1)! : check(data); // a stop just checked this very map
    const map: Map2D = { width, height, data };
    let total = 0;
    for (const n of nodes) total += n.d;
    for (const it of queue.items()) total += (it.f11 - it.f00) * it.weight;
    const expected = f11 - f00;
    ctx.onProgress?.({ fraction: 1 });
    const outcome: AutoOutcome | null = auto
      ? {
        rule: `stop when the unexplained mass (largest |f11 - f00| x weight of a region not yet split / |f(x) - f(baseline)|) <= ${settings.precision} (checked every ${progressEvery} evaluations from ${PARTITION_SHAP_AUTO_MINIMUM}), at most ${maxEvals}`,
        precision: settings.precision!, cap: maxEvals, evaluations: evals, finalUnexplainedMass: final.unexplainedMass, stoppedEarly,
      }
      : null;
    let finestLevel = 0;
    for (const it of queue.items()) finestLevel = Math.max(finestLevel, it.node.level);
    for (const n of nodes) if (n.d !== 0) finestLevel = Math.max(finestLevel, n.level);
    return {
      method: this.name, target, map, evaluations: evals, settings, seed,
      extras: {
        fx: f11, fBaseline: f00,
        efficiency: { sum: total, expected, relativeError: Math.abs(total - expected) / Math.max(Math.abs(expected), 1e-12) },
        expandedNodes: expanded, finestLevel, freshEvaluations: fresh, smallestRegion: Math.round(root.area / 2 ** finestLevel),
        convergence, unexplainedMass: final.unexplainedMass,
        ...(outcome ? { auto: outcome } : {}),
      },
      millis: performance.now() - t0,
    };
  }
}
