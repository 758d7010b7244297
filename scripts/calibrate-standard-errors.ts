// Are LIME's and KernelSHAP's reported standard errors the spread over seeds? For each image: the method at its
// default budget with seeds 0..S-1, RMS of the reported standard errors vs RMS of the SD of each segment's value
// across seeds (ratio 1 = calibrated). Prints one line per image and method.
// Usage: node --import tsx scripts/calibrate-standard-errors.ts [--images 3] [--offset 13] [--seeds 12] [--threads 1]
//        (images: the first N of the 10 tuning images at --offset, as eval-anytime.ts picks them)
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Classifier } from '../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../src-main/engine/image/prepare.ts';
import { getExplainer } from '../src-main/engine/explain/registry.ts';
import { argmax } from '../src-main/engine/util/math.ts';
import { spreadSampleImages } from './bench-util.ts';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    images: { type: 'string', default: '3' }, offset: { type: 'string', default: '13' }, seeds: { type: 'string', default: '12' }, threads: { type: 'string', default: '1' },
  } });
  const data = process.env.SALIENCY_DATA ?? path.resolve(import.meta.dirname, '../../shared/data');
  const files = spreadSampleImages(data, 10, Number(values.offset)).slice(0, Number(values.images));
  const S = Number(values.seeds);
  const model = await Classifier.load(path.join(data, 'models', 'squeezenet1.1-fp32.onnx'), { batchSize: 8, threads: Number(values.threads) });
  for (const img of files) {
    const { prepared: image } = await prepareImageFile(path.join(data, 'imagenet-samples', img), model);
    const pred = await model.predict([image.input]);
    const target = { classIndex: argmax(pred.logits, 0, pred.numClasses), score: 'probability' as const };
    for (const [method, settings] of [['lime', {}], ['kernelshap', {}], ['kernelshap', { leverage: true }]] as const) {
      const ex = getExplainer(method);
      const values: number[][] = [];
      let se2 = 0;
      for (let seed = 0; seed < S; seed++) {
        const r = await ex.explain(image, target, ex.settings(settings as never), seed, { model });
        const v = (r.extras.weights ?? r.extras.values) as number[];
        values.push(v);
        for (const e of r.extras.standardErrors as number[]) se2 += (e * e) / (S * v.length);
      }
      const M = values[0].length;
      let variance = 0;
      for (let j = 0; j < M; j++) {
        const m = values.reduce((a, v) => a + v[j], 0) / S;
        variance += values.reduce((a, v) => a + (v[j] - m) ** 2, 0) / (S - 1) / M;
      }
      console.log(`${img} ${method}${Object.keys(settings).length ? ` ${JSON.stringify(settings)}` : ''}: RMS reported SE ${Math.sqrt(se2).toExponential(3)}, RMS SD over ${S} seeds ${Math.sqrt(variance).toExponential(3)}, ratio ${Math.sqrt(se2 / variance).toFixed(3)}`);
    }
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
