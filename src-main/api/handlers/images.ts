// Images: filtered pages of a library, one image with its predictions and explanations, finding one by path.
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import type { ExplanationSummaryT, Filter } from '../contract.ts';
import { SaliencyError } from '../../engine/types.ts';
import type { ImageListItem, ImageQuery } from '../../engine/store/images-repo.ts';
import type { ApiService } from '../service.ts';
import { asId, type Handlers } from '../context.ts';

/** A library's images passing a filter, in id order (the Library grid's order; study jobs use the same set). */
export function filteredImages(s: ApiService, libraryId: string, filter: Filter): ImageListItem[] {
  const lib = s.libraryInfo(asId('library', libraryId));
  const modelId = s.model?.dbId;
  // 'unreadable': files that could not be decoded or have vanished, with their errors.
  const status = filter.status === 'unreadable' ? 'all' : filter.status ?? 'ok';
  const q: ImageQuery = { libraryId: Number(lib.id), modelId, method: filter.method, metric: filter.metric, rated: filter.rated, status };
  if (modelId !== undefined && filter.predictedClass !== undefined) q.predictedClass = filter.predictedClass;
  if (modelId !== undefined && (filter.correct === 'yes' || filter.correct === 'no')) q.correct = filter.correct === 'yes';
  let items = s.listing(q);
  if (filter.status === 'unreadable') items = items.filter((i) => i.error !== null || i.missing);
  const text = filter.text?.toLowerCase();
  if (text) items = items.filter((i) => i.relPath.toLowerCase().includes(text));
  if (filter.correct === 'unknown') items = items.filter((i) => i.predictedClass === null || s.groundTruth(i) === null);
  return items;
}

export function imageHandlers(s: ApiService): Handlers<'images.list' | 'image.get' | 'image.open'> {
  return {
    'images.list': async ({ libraryId, offset, limit, filter }) => {
      const items = filteredImages(s, libraryId, filter);
      return { total: items.length, offset, items: items.slice(offset, offset + limit).map((r) => s.summary(r)) };
    },

    'image.get': async ({ imageId }) => {
      const rec = s.image(imageId);
      const loaded = await s.load(rec);
      await s.predict([rec]);
      const t = loaded.prepared.transform;
      return {
        image: s.summary(rec), width: t.originalWidth, height: t.originalHeight, crop: t.crop,
        predictions: s.prediction(rec.id)!,
        explanations: s.explanationsOf(rec.id).map((e): ExplanationSummaryT => {
          const run = s.store.runs.get(e.runId);
          return {
            id: String(e.id), imageId: String(e.imageId), modelId: String(e.modelId), method: e.method,
            target: { classIndex: e.targetClass, score: e.scoreKind }, targetLabel: s.label(e.targetClass),
            series: s.identity(e).series, seriesLabel: s.identity(e).seriesLabel,
            millis: e.millis, evaluations: e.evaluations, seed: run?.seed ?? 0, settings: run?.settings ?? {},
          };
        }),
      };
    },

    'image.open': async ({ path: p }) => {
      let real: string;
      try { real = await realpath(path.resolve(p)); } catch { throw new SaliencyError(`${p}: file not found`, 'NOT_FOUND'); }
      const lib = s.store.libraries.list().find((l) => real.startsWith(l.root + path.sep));
      if (!lib) throw new SaliencyError(`${p}: the path is outside every registered library; open its folder as a library first`, 'PATH_OUTSIDE_LIBRARY');
      const rel = path.relative(lib.root, real).split(path.sep).join('/');
      const rec = s.store.images.allOf(lib.id).find((r) => r.relPath === rel);
      if (!rec) throw new SaliencyError(`${p}: not an image of library "${lib.name}" (open the library again to rescan it)`, 'NOT_FOUND');
      return s.summary(rec);
    },
  };
}
