// Explanations: a stored map projected onto its original image.
import type { ApiService } from '../service.ts';
import type { Handlers } from '../context.ts';

export function explanationHandlers(s: ApiService): Handlers<'map.get'> {
  return {
    'map.get': async ({ explanationId, maxSide }) => {
      const e = s.storedExplanation(explanationId);
      return s.encodeMap(e.map, s.transformOf(e.imageId, e.modelId), maxSide);
    },
  };
}
