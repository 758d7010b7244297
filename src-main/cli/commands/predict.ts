// saliency predict: top-k predictions for images.
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { MODEL_OPTIONS, MODEL_USAGE, collectImages, describeModel, intOption, loadModelFromArgs } from '../common.ts';
import { forEachImage } from '../image-loop.ts';
import { predictTopK, type Prediction } from '../../engine/predict.ts';

export const predict: Command = {
  name: 'predict',
  summary: 'top-k predictions of a model for images or folders',
  usage: `Usage: saliency predict <image|folder...> --model <file> [--top-k 5] [--json]

${MODEL_USAGE}

Exit status: 0 all images done, 1 some images failed (each named on stderr), 2 bad usage or model.`,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...MODEL_OPTIONS, 'top-k': { type: 'string' } } });
    const model = await loadModelFromArgs(values);
    const k = intOption(values['top-k'], 'top-k') ?? 5;
    const { items, errors: inputErrors } = await collectImages(positionals);
    if (!values.json) console.error(describeModel(model));
    const results: { file: string; predictions: Prediction[] }[] = [];
    const loop = await forEachImage(items, model, async ({ file }, img) => {
      const [predictions] = await predictTopK(model, [img.prepared.input], k);
      results.push({ file, predictions });
      if (!values.json) {
        console.log(`${file}\n${predictions.map((p) => `  ${p.probability.toFixed(4)}  ${String(p.classIndex).padStart(4)}  ${p.label}`).join('\n')}`);
      }
    });
    const errors = [...inputErrors, ...loop.errors];
    if (values.json) console.log(JSON.stringify({ model: model.info.name, preset: model.info.preset.name, results, errors }, null, 2));
    await model.dispose();
    if (loop.interrupted) return 130;
    return errors.length ? 1 : 0;
  },
};
