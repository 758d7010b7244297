// Annotations: boxes, masks, captions and concept words of an image.
import type { Res } from '../contract.ts';
import { decodeRuns, encodeRuns } from '../mask-runs.ts';
import type { ApiService } from '../service.ts';
import type { Handlers } from '../context.ts';

export function annotationHandlers(s: ApiService): Handlers<'annotations.get' | 'annotations.save'> {
  return {
    'annotations.get': async ({ imageId }) => {
      const rec = s.image(imageId);
      const out: Res<'annotations.get'> = { imageId, boxes: [], mask: null, caption: '', concepts: [], author: '' };
      const W = rec.width ?? 1;
      const H = rec.height ?? 1;
      for (const a of s.store.annotations.list(rec.id)) {
        out.author = a.author;
        if (a.kind === 'box') {
          // Stored in original-image pixels (what metrics and reports use); the UI works in fractions.
          for (const b of a.data as { x: number; y: number; width: number; height: number; label?: string }[]) {
            out.boxes.push({ x: b.x / W, y: b.y / H, w: b.width / W, h: b.height / H, label: b.label ?? '' });
          }
        } else if (a.kind === 'mask' && a.blob) {
          const { width, height } = a.data as { width: number; height: number };
          out.mask = { width, height, runs: encodeRuns(a.blob) };
        } else if (a.kind === 'caption') out.caption = (a.data as { text: string }).text;
        else if (a.kind === 'concepts') out.concepts = (a.data as { words: string[] }).words;
      }
      return out;
    },
    'annotations.save': async (a) => {
      const rec = s.image(a.imageId);
      const W = rec.width ?? 1;
      const H = rec.height ?? 1;
      s.store.transaction(() => {
        for (const old of s.store.annotations.list(rec.id)) s.store.annotations.remove(old.id);
        const author = a.author;
        if (a.boxes.length) {
          s.store.annotations.add({ imageId: rec.id, kind: 'box', author, data: a.boxes.map((b) => ({ x: b.x * W, y: b.y * H, width: b.w * W, height: b.h * H, label: b.label })) });
        }
        if (a.mask) {
          s.store.annotations.add({ imageId: rec.id, kind: 'mask', author, data: { width: a.mask.width, height: a.mask.height }, blob: decodeRuns(a.mask.runs, a.mask.width * a.mask.height) });
        }
        if (a.caption.trim()) s.store.annotations.add({ imageId: rec.id, kind: 'caption', author, data: { text: a.caption } });
        if (a.concepts.length) s.store.annotations.add({ imageId: rec.id, kind: 'concepts', author, data: { words: a.concepts } });
      });
      return { ok: true as const };
    },
  };
}
