// Loading stored images for a model once per image, however many explanations refer to them.
import type { Classifier } from '../model/classifier.ts';
import type { Store } from '../store/store.ts';
import { prepareImageFile, type LoadedImage } from '../image/prepare.ts';
import { SaliencyError } from '../types.ts';

export class StoredImages {
  private cache = new Map<number, Promise<LoadedImage>>();
  constructor(private store: Store, private model: Classifier, private keep = 8) {}

  load(imageId: number): Promise<LoadedImage> {
    let p = this.cache.get(imageId);
    if (!p) {
      const rec = this.store.images.get(imageId);
      if (!rec) throw new SaliencyError(`no image with id ${imageId}`, 'NOT_FOUND');
      p = prepareImageFile(rec.path, this.model);
      this.cache.set(imageId, p);
      if (this.cache.size > this.keep) this.cache.delete(this.cache.keys().next().value!);
    }
    return p;
  }
}
