// Goes through image files one by one: a bad file is reported (file and problem) and the rest go on. Ctrl-C
// (SIGINT) stops after the image in progress, so what was finished is kept; a second Ctrl-C exits at once.
import type { Classifier } from '../engine/model/classifier.ts';
import { prepareImageFile, type LoadedImage } from '../engine/image/prepare.ts';
import { progressBar } from './command.ts';
import type { ImageItem } from './common.ts';

export interface ItemError { file: string; error: string }

export interface LoopResult {
  errors: ItemError[];
  /** Stopped by SIGINT before every image was done. */
  interrupted: boolean;
}

/** The message without a leading "<file>: " (the file is printed once, in front). */
export function itemMessage(file: string, e: unknown): string {
  const msg = (e as Error)?.message ?? String(e);
  return msg.startsWith(file) ? msg.slice(file.length).replace(/^:\s*/, '') : msg;
}

export async function forEachImage(
  items: ImageItem[], model: Classifier, work: (item: ImageItem, img: LoadedImage) => Promise<void>,
  opts: { skip?: (item: ImageItem) => boolean | Promise<boolean> } = {},
): Promise<LoopResult> {
  const errors: ItemError[] = [];
  const bar = progressBar(items.length);
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\ninterrupted: stopping after the image in progress (Ctrl-C again to quit now)\n');
  };
  process.on('SIGINT', onSigint);
  try {
    for (const item of items) {
      if (interrupted) break;
      if (await opts.skip?.(item)) { bar.tick('done before'); continue; }
      try {
        await work(item, await prepareImageFile(item.file, model));
        bar.tick(item.file);
      } catch (e) {
        const error = itemMessage(item.file, e);
        errors.push({ file: item.file, error });
        bar.tick('error');
        process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}error: ${item.file}: ${error}\n`);
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    bar.done();
  }
  return { errors, interrupted };
}
