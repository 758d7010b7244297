// Metrics: deletion/insertion curves of explanations and the stored metric values.
import type { Res } from '../contract.ts';
import { deletionInsertion } from '../curves.ts';
import { SaliencyError } from '../../engine/types.ts';
import type { ApiService } from '../service.ts';
import { asId, type Handlers } from '../context.ts';

export function metricHandlers(s: ApiService): Handlers<'metrics.curves' | 'metrics.list'> {
  return {
    'metrics.curves': async ({ explanationIds, steps }) => {
      const m = s.requireModel();
      const out: Res<'metrics.curves'> = [];
      for (const id of explanationIds) {
        const e = s.storedExplanation(id);
        const loaded = await s.load(s.image(e.imageId));
        const c = await deletionInsertion(m.classifier, loaded.prepared, e.map, { classIndex: e.targetClass, score: e.scoreKind }, steps);
        s.store.transaction(() => {
          s.store.metrics.save({ explanationId: e.id, name: 'deletion', value: c.deletionAuc, curve: c.deletion, settings: { steps } });
          s.store.metrics.save({ explanationId: e.id, name: 'insertion', value: c.insertionAuc, curve: c.insertion, settings: { steps } });
        });
        out.push({ explanationId: id, method: e.method, ...c });
      }
      s.changed();
      return out;
    },

    'metrics.list': async ({ explanationIds }) => explanationIds.flatMap((id) => {
      const e = s.store.explanations.get(asId('explanation', id));
      if (!e) throw new SaliencyError(`no explanation with id "${id}"`, 'NOT_FOUND');
      return s.store.metrics.list({ explanationId: e.id }).map((m) => ({
        explanationId: id, method: e.method, metric: m.name, value: m.value, randomControl: m.randomValue, seed: m.seed,
      }));
    }),
  };
}
