// Study metrics a batch job cannot feed (engine/jobs refuses annotation metrics; explainer re-runs cannot judge an
// ensemble): the pointing game and its energy variant on the images' Annotate data, and the model-randomisation
// sanity check (and other re-run metrics) on the single methods' maps. They run as a second job queued after the
// study's batch (jobs run in order), through the same computeMetrics as every stored metric; images without an
// annotation are named once in the job's label, not failed one by one.
import type { ImageTransform } from '../../engine/types.ts';
import type { Annotation } from '../../engine/metrics/types.ts';
import { getMetric } from '../../engine/metrics/registry.ts';
import { computeMetrics, planMetrics } from '../../engine/pipeline/evaluate-stored.ts';
import type { ImageRecord } from '../../engine/store/images-repo.ts';
import type { Job } from '../contract.ts';
import type { JobItem } from '../job-queue.ts';
import type { ApiService } from '../service.ts';

/** Does this metric run after the batch (annotations or explainer re-runs)? Unknown names stay with the batch,
 *  which refuses them by name. */
export function isFollowUp(name: string): boolean {
  try {
    const { needs } = getMetric(name).tags;
    return needs.annotations || needs.explainerReruns;
  } catch { return false; }
}

/** An image's stored boxes and brush mask (original pixels / mask grid over the whole image) on the model-input
 *  grid, through the crop; null without any. */
export function storedAnnotation(s: ApiService, rec: ImageRecord, t: ImageTransform): Annotation | null {
  const sx = t.inputWidth / t.crop.width;
  const sy = t.inputHeight / t.crop.height;
  const boxes: [number, number, number, number][] = [];
  let mask: Annotation['mask'];
  for (const a of s.store.annotations.list(rec.id)) {
    if (a.kind === 'box') {
      for (const b of a.data as { x: number; y: number; width: number; height: number }[]) {
        boxes.push([(b.x - t.crop.x) * sx, (b.y - t.crop.y) * sy, (b.x + b.width - t.crop.x) * sx, (b.y + b.height - t.crop.y) * sy]);
      }
    } else if (a.kind === 'mask' && a.blob) {
      const { width: mw, height: mh } = a.data as { width: number; height: number };
      const data = new Float32Array(t.inputWidth * t.inputHeight);
      for (let v = 0; v < t.inputHeight; v++) {
        for (let u = 0; u < t.inputWidth; u++) {
          const x = Math.min(mw - 1, Math.floor(((t.crop.x + (u + 0.5) / sx) / t.originalWidth) * mw));
          const y = Math.min(mh - 1, Math.floor(((t.crop.y + (v + 0.5) / sy) / t.originalHeight) * mh));
          data[v * t.inputWidth + u] = a.blob[y * mw + x] ? 1 : 0;
        }
      }
      mask = { width: t.inputWidth, height: t.inputHeight, data };
    }
  }
  return boxes.length || mask ? { ...(boxes.length ? { boxes } : {}), ...(mask ? { mask } : {}) } : null;
}

/** The follow-up job of a study: its metrics on the maps the study made (its methods and ensembles, each image's
 *  top-1 class), or null when there is nothing to do. */
export function followUpJob(s: ApiService, images: ImageRecord[], maps: string[], names: string[], settings: Record<string, Record<string, unknown>>, seed: number): Job | null {
  if (!names.length) return null;
  const plans = planMetrics(names, settings);
  const local = plans.filter((p) => p.metric.tags.needs.annotations);
  const reruns = plans.filter((p) => !p.metric.tags.needs.annotations);
  const annotated = new Set(images.filter((r) => s.store.annotations.list(r.id).some((a) => a.kind === 'box' || a.kind === 'mask')).map((r) => r.id));
  const todo = images.filter((r) => reruns.length || annotated.has(r.id));
  if (!todo.length) return s.jobs.add(`${names.join(', ')}: no image of the study has an annotation (boxes or a mask: Annotate)`, []);
  const m = s.requireModel();
  const items: JobItem[] = todo.map((rec) => ({
    label: `${rec.relPath} · ${names.join(', ')}`,
    run: async (signal) => {
      const loaded = await s.load(rec);
      const annotation = annotated.has(rec.id) ? storedAnnotation(s, rec, loaded.prepared.transform) ?? undefined : undefined;
      const top = s.prediction(rec.id)?.[0]?.classIndex;
      const mine = s.explanationsOf(rec.id).filter((e) => maps.includes(e.method) && e.targetClass === top);
      const errors: string[] = [];
      for (const e of mine) {
        const usable = [...(annotation ? local : []), ...(e.method.startsWith('ensemble') ? [] : reruns)];
        if (!usable.length) continue;
        const stored = s.store.explanations.get(e.id)!;
        const r = await computeMetrics(m.classifier, loaded.prepared, stored, usable, seed, signal, annotation);
        s.store.transaction(() => { for (const row of r.rows) s.store.metrics.save(row); });
        errors.push(...r.errors.map((x) => `${e.method} ${x.metric}: ${x.error}`));
      }
      s.changed(rec.id);
      if (errors.length) throw new Error(errors.join('; '));
    },
  }));
  const without = images.length - annotated.size;
  const note = local.length && without ? ` (${local.map((p) => p.metric.name).join(', ')}: no annotation on ${without} of ${images.length} images, skipped)` : '';
  return s.jobs.add(`study metrics ${names.join(', ')} on ${todo.length} image${todo.length > 1 ? 's' : ''}${note}`, items);
}
