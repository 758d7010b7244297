// saliency gradcheck: the compiled backward graph against central finite differences (float64 reference).
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { MODEL_OPTIONS, MODEL_USAGE, describeModel, intOption, loadModelFromArgs, parseScore, parseTarget } from '../common.ts';
import { prepareImageFile } from '../../engine/image/prepare.ts';
import { gradcheck } from '../../engine/model/autodiff/gradcheck.ts';
import { INPUT } from '../../engine/model/autodiff/gradient-scheduler.ts';
import { resolveLayer } from '../../engine/model/autodiff/layers.ts';
import { argmax } from '../../engine/util/math.ts';
import { SaliencyError } from '../../engine/types.ts';

export const gradcheckCommand: Command = {
  name: 'gradcheck',
  summary: 'check the compiled gradients of a model against finite differences',
  usage: `Usage: saliency gradcheck <image> --model <file> [--tensors input,auto] [--directions 3] [--tolerance 1e-3]
                         [--target top1|<index>|<label>] [--score logit|probability] [--seed 1]

Compares the gradient of the target score from the compiled backward graph (ONNX Runtime, float32) with central
finite differences along seeded random directions, evaluated in float64, and prints the max relative error per
checked tensor. --tensors: "input", "auto" (the last feature block), tensor names or block names (Mixed_6e).
The check runs at the image plus a 0.05-pixel seeded jitter (exact max-pool ties have no unique gradient).
Exit status: 0 every error <= tolerance, 1 some error above it, 2 bad usage or model (e.g. a quantized model).

${MODEL_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv, allowPositionals: true,
      options: { ...MODEL_OPTIONS, tensors: { type: 'string' }, directions: { type: 'string' }, tolerance: { type: 'string' }, target: { type: 'string' }, score: { type: 'string' }, seed: { type: 'string' } },
    });
    if (positionals.length !== 1) throw new SaliencyError('gradcheck takes exactly one image', 'BAD_USAGE');
    const tolerance = values.tolerance === undefined ? 1e-3 : Number(values.tolerance);
    if (!(tolerance > 0)) throw new SaliencyError(`--tolerance must be a positive number (got "${values.tolerance}")`, 'BAD_USAGE');
    const model = await loadModelFromArgs(values);
    try {
      if (!values.json) console.error(describeModel(model));
      const { prepared } = await prepareImageFile(positionals[0], model);
      const t = parseTarget(values.target, model);
      const classIndex = t === 'top1' ? argmax((await model.predict([prepared.input])).logits) : t;
      const target = { classIndex, score: parseScore(values.score, 'logit') };
      const specs = (values.tensors ?? (model.info.head.found ? 'input,auto' : 'input')).split(',').map((s) => s.trim()).filter(Boolean);
      const tensors = specs.map((s) => (s === INPUT ? INPUT : resolveLayer(model, s, '--tensors')));
      const t0 = performance.now();
      const result = await gradcheck(model, prepared.input, { tensors, target, directions: intOption(values.directions, 'directions') ?? 3, seed: intOption(values.seed, 'seed', 0) ?? 1 });
      const failed = result.checks.filter((c) => !(c.relError <= tolerance));
      if (values.json) {
        console.log(JSON.stringify({ model: model.info.name, target, tolerance, forwardRelDiff: result.forwardRelDiff, checks: result.checks, passed: failed.length === 0 }, null, 2));
      } else {
        const agreement = Number.isNaN(result.forwardRelDiff) ? '' : `; float64 reference vs ONNX Runtime forward: relative difference ${result.forwardRelDiff.toExponential(2)}`;
        console.log(`target class ${classIndex} (${model.labels[classIndex]?.label ?? ''}), ${target.score}${agreement}`);
        for (const c of result.checks) {
          console.log(`  ${c.relError <= tolerance ? 'ok  ' : 'FAIL'}  ${c.tensor}: max relative error ${c.relError.toExponential(2)} over ${c.directions} directions (step ${c.step.toExponential(1)} RMS per coordinate)`);
        }
        console.log(`${failed.length === 0 ? 'passed' : 'FAILED'} (tolerance ${tolerance}, ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      }
      return failed.length ? 1 : 0;
    } finally {
      await model.dispose();
    }
  },
};
