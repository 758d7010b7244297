// Concepts: the SMER concept explanation of an image.
import type { ClassGroups } from '../../engine/concepts/captions-file.ts';
import type { ApiService } from '../service.ts';
import type { Handlers } from '../context.ts';

export function conceptHandlers(s: ApiService): Handlers<'concepts.image'> {
  return {
    'concepts.image': async ({ imageId, groups }) => {
      const m = s.requireModel();
      const rec = s.image(imageId);
      await s.predict([rec]);
      const stored = s.store.libraries.get(rec.libraryId)?.conceptGroups as ClassGroups | null | undefined;
      return s.concepts.image(rec, m.dbId, m.classifier.labels, groups ?? stored ?? undefined);
    },
  };
}
