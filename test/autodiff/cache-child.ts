// Child process of disk-cache.test.ts: one input gradient on builtin:demo, then how its backward graph was
// obtained (compiled or loaded from the disk cache) and a checksum of the gradient, as one JSON line.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Classifier } from '../../src-main/engine/model/classifier.ts';
import { builtinSamplesDir, resolveModelSpec } from '../../src-main/engine/model/builtin.ts';
import { prepareImageFile } from '../../src-main/engine/image/prepare.ts';
import { GradientScheduler, INPUT, releaseGradientGraphs } from '../../src-main/engine/model/autodiff/gradient-scheduler.ts';
import { compileStats } from '../../src-main/engine/model/autodiff/gradient-graph.ts';

const model = await Classifier.load(resolveModelSpec('builtin:demo'));
const dir = builtinSamplesDir('demo');
const image = (await prepareImageFile(path.join(dir, readdirSync(dir).sort()[0]), model)).prepared;
const sched = await GradientScheduler.for(model, [INPUT]);
const [r] = await sched.evaluate([{ image: image.input, target: { classIndex: 0, score: 'logit' } }]);
let sum = 0;
for (const v of r.grads.input) sum += Math.abs(v);
console.log(JSON.stringify({ ...compileStats, gradient: sum }));
await releaseGradientGraphs();
await model.dispose();
