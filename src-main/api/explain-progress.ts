// Progress of one image's explanation, pushed to the renderer as it happens: the fraction done, the explainer's
// note (e.g. "400/1000 samples") and, for anytime methods (LIME, KernelSHAP, RISE, Partition SHAP), the partial
// map projected onto the image. At most a few events a second; the first, the first partial map and the last
// always go out.
import type { Map2D, Target } from '../engine/types.ts';
import type { ImageRecord } from '../engine/store/images-repo.ts';
import type { ApiService } from './service.ts';

const EVERY_MS = 300;
const PARTIAL_SIDE = 240;

export function progressReporter(s: ApiService, rec: ImageRecord, method: string, target: Target): (p: { fraction: number; partial?: Map2D; note?: string }) => void {
  let last = 0;
  let shownPartial = false;
  return (p) => {
    const now = Date.now();
    // The first partial map always goes out (it may come < EVERY_MS after the start event).
    const firstPartial = p.partial !== undefined && !shownPartial;
    if (p.fraction > 0 && p.fraction < 1 && now - last < EVERY_MS && !firstPartial) return;
    shownPartial ||= p.partial !== undefined;
    last = now;
    let partial = null;
    try {
      if (p.partial && s.model) partial = s.encodeMap(p.partial, s.transformOf(rec.id, s.model.dbId), PARTIAL_SIDE);
    } catch { /* an image not yet fully recorded: progress without the map */ }
    s.emit({ type: 'progress', imageId: String(rec.id), method, targetClass: target.classIndex, fraction: p.fraction, note: p.note ?? null, partial });
  };
}
