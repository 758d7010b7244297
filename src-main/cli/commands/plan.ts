// saliency plan: what a job would cost before it is run (engine/jobs/plan.ts).
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { MODEL_OPTIONS, MODEL_USAGE, collectImages, describeModel, listOption, loadModelFromArgs } from '../common.ts';
import { parseSettings } from './explain.ts';
import { openStore, type Store } from '../../engine/store/store.ts';
import { prepareImageFile } from '../../engine/image/prepare.ts';
import { planMetrics } from '../../engine/pipeline/evaluate-stored.ts';
import { ModelCostsRepo, formatPlan, planJob } from '../../engine/jobs/plan.ts';
import { argmax } from '../../engine/util/math.ts';
import { SaliencyError } from '../../engine/types.ts';

const USAGE = `Usage: saliency plan <image|folder...> | --library <id|folder> [--db FILE]
                     --model <file> --method lime,rise,... [--metric deletion,insertion] [--ensemble mean,...]
                     [--set lime.samples=auto ...] [--remeasure] [--json]
Prints, before a run, the model evaluations each method (per image) and metric (per map, methods and
ensembles) will make and the expected time: evaluations are counted by running each once on the first image
(the probe); the time per evaluation is this model's on this machine, measured once and stored with the
model in the database (--remeasure measures it again). Auto budgets are planned at the probe's count (cap shown).

${MODEL_USAGE}`;

export const planCommand: Command = {
  name: 'plan',
  summary: 'evaluations and expected time of a job, before running it',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv, allowPositionals: true,
      options: {
        ...MODEL_OPTIONS, library: { type: 'string' }, db: { type: 'string' }, method: { type: 'string' }, metric: { type: 'string' },
        ensemble: { type: 'string' }, set: { type: 'string', multiple: true }, seed: { type: 'string' }, remeasure: { type: 'boolean' },
      },
    });
    if (!values.method) throw new SaliencyError(`--method is required\n\n${USAGE}`, 'BAD_USAGE');
    if (!values.library && positionals.length === 0) throw new SaliencyError('name images or folders, or --library', 'BAD_USAGE');
    const methods = listOption(values.method, 'method', '');
    const metrics = values.metric ? listOption(values.metric, 'metric', '') : [];
    const ensembles = values.ensemble ? listOption(values.ensemble, 'ensemble', '') : [];
    const custom = parseSettings(values.set ?? []);
    const metricPlans = planMetrics(metrics, custom);
    const store: Store = openStore(values.db);
    try {
      let files: string[];
      if (values.library) {
        const lib = store.libraries.find(values.library);
        files = store.images.allOf(lib.id).filter((r) => !r.error && !r.missing).map((r) => r.path);
        if (!files.length) throw new SaliencyError(`library ${lib.id} has no readable images`, 'BAD_USAGE');
      } else {
        const { items, errors } = await collectImages(positionals);
        for (const e of errors) console.error(`${e.file}: ${e.error}`);
        files = items.map((i) => i.file);
        if (!files.length) throw new SaliencyError('none of the inputs is an image', 'BAD_USAGE');
      }
      const model = await loadModelFromArgs(values);
      try {
        if (!values.json) console.error(describeModel(model));
        const { prepared } = await prepareImageFile(files[0], model);
        const pred = await model.predict([prepared.input]);
        const target = { classIndex: argmax(pred.logits, 0, pred.numClasses), score: 'probability' as const };
        const modelId = store.models.ensure(model.info).id;
        const plan = await planJob(model, prepared, target, {
          methods: methods.map((name) => ({ name, settings: custom[name] ?? {} })), metrics: metricPlans, ensembles: ensembles.length,
          images: files.length, seed: values.seed ? Number(values.seed) : 0,
        }, { stored: { repo: new ModelCostsRepo(store.db), modelId }, remeasure: values.remeasure });
        if (values.json) console.log(JSON.stringify(plan, null, 2));
        else console.log(formatPlan(plan, `plan for ${model.info.name}`));
      } finally {
        await model.dispose();
      }
    } finally {
      store.close();
    }
    return 0;
  },
};
