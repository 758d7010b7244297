// Metrics: deletion/insertion curves of explanations and the stored metric values.
import type { Res } from '../contract.ts';
import { deletionInsertion } from '../curves.ts';
import { SaliencyError } from '../../engine/types.ts';
import { PRE_PROTOCOL, PROTOCOL_VERSION } from '../../engine/protocol.ts';
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
        // Stored like any metric row (full settings, control, protocol): reports use them as they are.
        const { rows, ...c } = await deletionInsertion(m.classifier, loaded.prepared, e, steps);
        s.store.transaction(() => { for (const row of rows) s.store.metrics.save(row); });
        out.push({ explanationId: id, method: e.method, ...s.identity(e), ...c, protocol: PROTOCOL_VERSION });
      }
      s.changed();
      return out;
    },

    'metrics.list': async ({ explanationIds }) => explanationIds.flatMap((id) => {
      const e = s.store.explanations.get(asId('explanation', id));
      if (!e) throw new SaliencyError(`no explanation with id "${id}"`, 'NOT_FOUND');
      const identity = s.identity(e);
      return s.store.metrics.list({ explanationId: e.id }).map((m) => ({
        explanationId: id, method: e.method, ...identity, metric: m.name, value: m.value, randomControl: m.randomValue, seed: m.seed,
        protocol: m.protocol ?? PRE_PROTOCOL,
      }));
    }),
  };
}
