// concepts.image: the SMER concept explanation of one library image, for the Image screen. The concept model is
// fitted on the library's stored captions (target: the active model's stored top-1 class, or its group) with the
// engine's pipeline, and cached per library, model, groups and caption set: browsing images does not refit.
import type { Store } from '../engine/store/store.ts';
import type { ImageRecord } from '../engine/store/images-repo.ts';
import type { ClassLabel } from '../engine/model/labels.ts';
import { SaliencyError } from '../engine/types.ts';
import type { ClassGroups } from '../engine/concepts/captions-file.ts';
import { libraryCaptions } from '../engine/concepts/store-captions.ts';
import { labelCaptionRows, type LabelledCaptions } from '../engine/concepts/dataset.ts';
import { type CaptionPipeline, fitCaptionSet } from '../engine/concepts/pipeline.ts';
import { limeText } from '../engine/concepts/lime-text.ts';
import { smerExplain } from '../engine/concepts/smer.ts';
import { dropSingletons } from '../engine/report/concepts.ts';
import type { Res } from './contract.ts';

/** Fewer usable captioned images than this: no concept model (as the report's default). */
export const MIN_CONCEPT_CAPTIONS = 10;
const SEED = 0;

type Result = Res<'concepts.image'>;
type Fitted = { set: LabelledCaptions; pipeline: CaptionPipeline | null; reason: string | null; imageIds: Map<string, number>; captions: number };

const finite = (v: number) => (Number.isFinite(v) ? v : null);

export class ConceptCache {
  private readonly fits = new Map<string, Promise<Fitted>>();

  constructor(private readonly store: Store) {}

  /** The fit for this library's current captions (refitted when a caption is added, changed or removed). */
  private fitted(libraryId: number, modelId: number, labels: readonly ClassLabel[], groups: ClassGroups | undefined): Promise<Fitted> | Fitted {
    const stored = libraryCaptions(this.store, libraryId, { groups });
    const captions = stored.data.captions.length;
    // Caption count plus the texts' hash-free signature: an edited caption changes the key as well.
    const key = JSON.stringify([libraryId, modelId, groups ?? null, captions, stored.data.captions.map((c) => c.caption)]);
    const hit = this.fits.get(key);
    if (hit) return hit;
    const empty = (reason: string): Fitted => ({ set: { file: stored.source, imagesDir: stored.imagesDir, target: 'model', classes: [], docs: [], excluded: [] }, pipeline: null, reason, imageIds: stored.imageIds, captions });
    const need = `needs captions of at least ${MIN_CONCEPT_CAPTIONS} images of 2+ classes (predicted by the active model${groups ? ', by group' : ''}); this library has ${captions} captioned image(s)`;
    if (captions < MIN_CONCEPT_CAPTIONS) return empty(need);
    let set: LabelledCaptions;
    try {
      const prediction = (filename: string) => this.store.predictions.get(stored.imageIds.get(filename)!, modelId)?.topClass ?? null;
      set = labelCaptionRows(stored.source, stored.data, labels, prediction, { imagesDir: stored.imagesDir, target: 'model' });
      if (!groups) set = dropSingletons(set);
    } catch (e) {
      if (!(e instanceof SaliencyError)) throw e;
      return empty(`${need} (${e.message.replace(`${stored.source}: `, '')})`);
    }
    if (set.classes.length < 2 || set.docs.length < MIN_CONCEPT_CAPTIONS) {
      return { ...empty(`${need}: ${set.docs.length} usable in ${set.classes.length} class(es)${groups ? '' : ' with 2+ images each'}`), set };
    }
    const p = fitCaptionSet(set, { seed: SEED }).then((pipeline): Fitted => ({ set, pipeline, reason: null, imageIds: stored.imageIds, captions }));
    p.catch(() => this.fits.delete(key));
    // One fit per library and model is kept: older caption sets are dropped.
    for (const k of this.fits.keys()) if (k.startsWith(`[${libraryId},${modelId},`)) this.fits.delete(k);
    this.fits.set(key, p);
    return p;
  }

  async image(rec: ImageRecord, modelId: number, labels: readonly ClassLabel[], groups?: ClassGroups): Promise<Result> {
    const f = await this.fitted(rec.libraryId, modelId, labels, groups);
    const filename = [...f.imageIds].find(([, id]) => id === rec.id)?.[0];
    const caption = filename === undefined ? '' : (f.set.docs.find((d) => d.filename === filename)?.caption
      ?? libraryCaptions(this.store, rec.libraryId).data.captions.find((c) => c.filename === filename)?.caption ?? '');
    const base: Result = { available: false, reason: f.reason, caption, captions: f.captions, fitted: f.set.docs.length, classes: f.set.classes,
      target: null, predicted: null, probability: null, score: null, fidelityError: null, accuracy: null, words: [] };
    if (!f.pipeline) return base;
    const i = f.set.docs.findIndex((d) => d.filename === filename);
    if (i < 0) {
      const why = filename === undefined ? 'this image has no caption yet (type one on the Annotate screen)'
        : `this image is left out of the concept model: ${f.set.excluded.find((x) => x.filename === filename)?.reason ?? 'not among its captions'}`;
      return { ...base, reason: why };
    }
    const { model } = f.pipeline.fit;
    const d = f.set.docs[i];
    const e = smerExplain(model, d.words);
    const c = e.predicted;
    // The report's LIME run for this caption (seed + caption index), so app and report show the same weights.
    const l = limeText(model, d.words, c, SEED + i, {});
    const fit = f.pipeline.fit;
    return {
      ...base, available: true, reason: null, caption: d.caption,
      target: f.set.classes[d.label], predicted: f.set.classes[c], probability: e.probabilities[c], score: e.scores[c], fidelityError: e.fidelityError,
      accuracy: { train: finite(fit.trainAccuracy), test: finite(fit.testAccuracy), trainN: fit.train.length, testN: fit.test.length, split: fit.test.includes(i) ? 'test' : 'train' },
      words: e.words.map((r) => ({ word: r.word, count: r.count, smer: r.scores[c], lime: l.weights[l.words.indexOf(r.word)] }))
        .sort((a, b) => b.smer - a.smer || (a.word < b.word ? -1 : 1)),
    };
  }
}
