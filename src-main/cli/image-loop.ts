// Goes through image files one by one: a bad file is reported (file and problem) and the rest go on.
import type { Classifier } from '../engine/model/classifier.ts';
import { prepareImageFile, type LoadedImage } from '../engine/image/prepare.ts';
import { progressBar } from './command.ts';

export interface ItemError { file: string; error: string }

export async function forEachImage(
  files: string[], model: Classifier, work: (file: string, img: LoadedImage) => Promise<void>,
): Promise<ItemError[]> {
  const errors: ItemError[] = [];
  const bar = progressBar(files.length);
  for (const file of files) {
    try {
      await work(file, await prepareImageFile(file, model));
      bar.tick(file);
    } catch (e) {
      const msg = (e as Error).message;
      errors.push({ file, error: msg.startsWith(file) ? msg.slice(file.length).replace(/^:\s*/, '') : msg });
      bar.tick('error');
      process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}error: ${msg.startsWith(file) ? msg : `${file}: ${msg}`}\n`);
    }
  }
  bar.done();
  return errors;
}
