// Ensembles: weights from ratings, metrics or by hand; previews; saved weight sets.
import { SaliencyError } from '../../engine/types.ts';
import { deletionInsertion } from '../curves.ts';
import { normaliseWeights } from '../../engine/ensemble/weights/weight-set.ts';
import { manualWeights, weightsFromLikert, weightsFromMetrics, weightsFromPairwise, type WeightSet } from '../../engine/ensemble/index.ts';
import type { ApiService } from '../service.ts';
import type { Handlers } from '../context.ts';
import { WEIGHT_INTERVAL_NOTE, likertIntervals, metricIntervals, pairwiseIntervals, type WeightIntervals } from './weight-intervals.ts';

export function ensembleHandlers(s: ApiService): Handlers<'ensemble.derive' | 'ensemble.preview' | 'ensemble.save' | 'ensemble.list'> {
  return {
    'ensemble.derive': async ({ source, manual, libraryId }) => {
      let set: WeightSet;
      let intervals: WeightIntervals | null = null;
      if (source === 'manual') {
        if (!manual || !Object.keys(manual).length) throw new SaliencyError('manual weights need a "manual" object of method -> weight', 'BAD_REQUEST');
        set = manualWeights(manual);
      } else if (source === 'metrics') {
        // Faithfulness per method: deletion and insertion AUC (protocol: on the probability) over up to 8 maps of
        // each method's default series (top-1 class, reference score).
        const m = s.requireModel();
        const perMethod = new Map<string, number[]>();
        for (const [id, { method, isDefault }] of s.explanationIndex(libraryId)) {
          if (!isDefault || method.startsWith('ensemble')) continue; // members are single methods only
          const ids = perMethod.get(method) ?? [];
          if (ids.length < 8) ids.push(id);
          perMethod.set(method, ids);
        }
        if (!perMethod.size) throw new SaliencyError('no explanations yet: run a job first', 'NOT_FOUND');
        const rows = [];
        for (const [method, ids] of perMethod) {
          for (const id of ids) {
            const e = s.store.explanations.get(id)!;
            const c = await deletionInsertion(m.classifier, (await s.load(s.image(e.imageId))).prepared, e, 16, false);
            const image = String(e.imageId);
            rows.push({ method, image, value: c.deletionAuc, higherIsBetter: false, metric: 'deletion' }, { method, image, value: c.insertionAuc, higherIsBetter: true, metric: 'insertion' });
          }
        }
        set = weightsFromMetrics(rows);
        intervals = metricIntervals(rows);
      } else {
        const { likert, pairwise } = s.ratingRows(libraryId, 'method'); // each method's default series
        if (source === 'likert') {
          if (!likert.length) throw new SaliencyError('no Likert ratings yet: rate some maps first', 'NOT_FOUND');
          set = weightsFromLikert(likert);
          intervals = likertIntervals(likert);
        } else {
          if (!pairwise.length) throw new SaliencyError('no pairwise choices yet: compare some maps first', 'NOT_FOUND');
          set = weightsFromPairwise(pairwise);
          intervals = pairwiseIntervals(pairwise);
        }
      }
      const p = set.provenance as { kind?: string; ratings?: number; comparisons?: number };
      const note = source === 'likert' ? `mean Likert score above 1, from ${p.ratings} ratings`
        : source === 'bradley-terry' ? `Bradley-Terry strengths from ${p.comparisons} choices`
        : source === 'metrics' ? 'deletion and insertion AUC on the probability per method (up to 8 top-1 maps on its reference score each)' : 'set by hand';
      return { weights: set.weights, note: intervals ? `${note}; ${WEIGHT_INTERVAL_NOTE}` : note, intervals };
    },

    'ensemble.preview': async ({ imageId, weights, maxSide }) => {
      const rec = s.image(imageId);
      const { map, used, modelId } = s.ensembleOf(rec.id, weights);
      return { ...s.encodeMap(map, s.transformOf(rec.id, modelId), maxSide), used };
    },

    'ensemble.save': async ({ name, weights, source, intervals }) => {
      const id = s.store.weightSets.save({
        name, source: source === 'likert' || source === 'bradley-terry' ? 'ratings' : source, weights: normaliseWeights(weights),
        provenance: { from: source, savedBy: 'app', createdAt: new Date().toISOString(), ...(intervals ? { intervals, intervalMethod: WEIGHT_INTERVAL_NOTE } : {}) },
      });
      return { id: String(id), name };
    },
    'ensemble.list': async () => s.store.weightSets.list().map((w) => ({ id: String(w.id), name: w.name, source: w.source, weights: w.weights })),
  };
}
