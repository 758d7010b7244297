// saliency report: a comparison report (HTML, PDF, CSV, JSON) over a library, a class, runs or a rating session.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureOutDir } from '../output/atomic.ts';
import type { Command } from '../command.ts';
import { intOption, resolveModel } from '../common.ts';
import { openStore } from '../../engine/store/store.ts';
import { makeReport, REPORT_FORMATS, type ReportFormat } from '../../engine/report/make-report.ts';
import type { ReportSelection } from '../../engine/report/collect.ts';
import { evaluateStored } from '../../engine/pipeline/evaluate-stored.ts';
import { ensembleStored } from '../../engine/pipeline/ensemble-stored.ts';
import { Classifier } from '../../engine/model/classifier.ts';
import { SaliencyError } from '../../engine/types.ts';
import { readGroupsFile } from '../../engine/concepts/store-captions.ts';

/** --concept-groups: a JSON file, or inline JSON (starting with "{"). */
async function conceptGroups(value: string) {
  if (!value.trimStart().startsWith('{')) return readGroupsFile(value);
  try {
    JSON.parse(value);
  } catch (e) {
    throw new SaliencyError(`--concept-groups: not valid JSON (${(e as Error).message.split('\n')[0]})`, 'BAD_USAGE');
  }
  // Validated as a groups file is (one checker for both).
  const dir = await mkdtemp(path.join(os.tmpdir(), 'saliency-groups-'));
  try {
    await writeFile(path.join(dir, 'groups.json'), value);
    return await readGroupsFile(path.join(dir, 'groups.json')).catch((e: Error) => {
      throw new SaliencyError(`--concept-groups: ${e.message.replace(/^.*?groups\.json: /, '')}`, 'BAD_USAGE');
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const ids = (v: string | undefined, name: string) => v?.split(',').map((s) => intOption(s.trim(), name, 1)!);

export const report: Command = {
  name: 'report',
  summary: 'comparison reports (HTML, PDF, CSV, JSON) with per-method strengths and weaknesses',
  usage: `Usage: saliency report --library <id|folder> --out <dir> [options]

Selection (what the report covers):
  --library <id|folder>   a library in the database
  --image <ids>           or these images (comma-separated ids)
  --class <index>         only images of this class (true class, else predicted)
  --run <ids>             only explanations of these runs
  --rater <name>          only this rater's ratings (a rating session)
  --model-id <id>         the model (default: the latest in the database)
Before reporting (optional):
  --ensemble <list>       build and store ensembles of each image's maps (e.g. mean,borda)
  --evaluate <metrics>    compute and store these metrics for every explanation in the selection
                          (e.g. deletion,insertion,sparseness,complexity); uses --model or the stored model path
  --model <file>          the model file, when the stored path is not valid here
Output:
  --format <list>         ${REPORT_FORMATS.join(',')} (default html,csv,json; pdf needs Chromium)
  --name <name>           file name (default report)      --title <text>
  --max-images <n>        images drawn in the gallery (default 12; the numbers cover all)
  --db <file>             the database (default $SALIENCY_DB, else the user data folder)
Concepts (SMER), when the selected images have captions (saliency smer import-captions, or typed in the app):
  --concept-groups <file|json> regression classes as groups of model classes (a JSON file, e.g. a captions
                          file, with "groups"; or the JSON itself: '{"bird": [[7, 24]], "dog": [[151, 268]]}')
  --caption-author <name> only this author's captions       --no-concepts   leave the section out`,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        db: { type: 'string' }, library: { type: 'string' }, image: { type: 'string' }, class: { type: 'string' }, run: { type: 'string' },
        rater: { type: 'string' }, 'model-id': { type: 'string' }, ensemble: { type: 'string' }, evaluate: { type: 'string' },
        model: { type: 'string' }, format: { type: 'string' }, name: { type: 'string' }, title: { type: 'string' },
        'max-images': { type: 'string' }, out: { type: 'string', short: 'o' }, json: { type: 'boolean' },
        'concept-groups': { type: 'string' }, 'caption-author': { type: 'string' }, 'no-concepts': { type: 'boolean' },
      },
    });
    if (!values.out) throw new SaliencyError('--out <dir> is required', 'BAD_USAGE');
    if (!values.library && !values.image) throw new SaliencyError('choose what to report: --library <id|folder> or --image <ids>', 'BAD_USAGE');
    const formats = (values.format ?? 'html,csv,json').split(',').map((s) => s.trim()) as ReportFormat[];
    const bad = formats.find((f) => !REPORT_FORMATS.includes(f));
    if (bad !== undefined) throw new SaliencyError(`--format "${bad}" is not one of ${REPORT_FORMATS.join(', ')}`, 'BAD_USAGE');
    // The name is a file name inside --out: no folders, nothing that climbs out of it.
    if (values.name !== undefined && (!/^[\w][\w.-]*$/.test(values.name) || values.name.includes('..'))) {
      throw new SaliencyError(`--name "${values.name}" must be a plain file name (letters, digits, _ . -), not a path`, 'BAD_USAGE');
    }
    const groups = values['concept-groups'] && !values['no-concepts'] ? await conceptGroups(values['concept-groups']) : undefined;
    await ensureOutDir(values.out);
    const store = openStore(values.db);
    try {
      const selection: ReportSelection = {
        libraryId: values.library ? store.libraries.find(/^\d+$/.test(values.library) ? Number(values.library) : values.library).id : undefined,
        imageIds: ids(values.image, 'image'), classIndex: intOption(values.class, 'class', 0), runIds: ids(values.run, 'run'),
        rater: values.rater, modelId: intOption(values['model-id'], 'model-id'), title: values.title,
      };
      const models = store.models.list();
      const modelRec = selection.modelId !== undefined ? store.models.get(selection.modelId) : models[models.length - 1];
      if (!modelRec) throw new SaliencyError('the database has no model yet: run explanations first (saliency run)', 'NOT_FOUND');
      selection.modelId = modelRec.id;
      const imageIds = selection.imageIds ?? store.images.allOf(selection.libraryId!).filter((i) => !i.missing && !i.error).map((i) => i.id);
      if (values.ensemble) {
        const r = ensembleStored(store, { modelId: modelRec.id, imageIds, specs: values.ensemble.split(',').map((c) => ({ combiner: c.trim() })) });
        console.error(`stored ${r.ids.length} ensemble maps${r.skipped.length ? `; ${r.skipped.length} images skipped (${r.skipped[0].reason})` : ''}`);
      }
      if (values.evaluate) {
        const file = values.model ? await resolveModel(values.model) : modelRec.path;
        if (!file) throw new SaliencyError('--evaluate needs the model: pass --model <file>', 'BAD_USAGE');
        const model = await Classifier.load(file);
        if (model.info.sha256 !== modelRec.sha256) throw new SaliencyError(`--model ${file} is not the model the explanations were made with (sha256 differs)`, 'BAD_MODEL');
        const expl = imageIds.flatMap((id) => store.explanations.list({ imageId: id, modelId: modelRec.id }).map((e) => e.id));
        const r = await evaluateStored(store, model, expl, { metrics: values.evaluate.split(',').map((s) => s.trim()) });
        for (const e of r.errors) console.error(`error: explanation ${e.explanationId}: ${e.metric}: ${e.error}`);
        console.error(`stored ${r.saved} metric values for ${expl.length} explanations`);
        await model.dispose();
      }
      const res = await makeReport(store, selection, {
        outDir: values.out, formats, name: values.name, maxImages: intOption(values['max-images'], 'max-images', 0),
        concepts: values['no-concepts'] ? false : { groups, author: values['caption-author'] },
      });
      if (values.json) console.log(JSON.stringify(res.files, null, 2));
      else for (const [kind, file] of Object.entries(res.files)) console.log(`${kind}: ${file}`);
      return 0;
    } finally {
      store.close();
    }
  },
};
