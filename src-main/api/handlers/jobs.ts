// Jobs: explaining images in the background (library batches run on the engine's resumable job runner).
import type { JobItem } from '../job-queue.ts';
import { createExplainJob } from '../../engine/jobs/create-job.ts';
import { getExplainer } from '../../engine/explain/registry.ts';
import { SaliencyError } from '../../engine/types.ts';
import type { ImageRecord } from '../../engine/store/images-repo.ts';
import type { ApiService } from '../service.ts';
import { asId, type Handlers } from '../context.ts';
import { isEnsemble, referenceScore } from '../../engine/protocol.ts';
import { checkMethodSettings } from './method-settings.ts';

export function jobHandlers(s: ApiService): Handlers<'jobs.start' | 'jobs.list' | 'jobs.pause' | 'jobs.resume' | 'jobs.cancel'> {
  return {
    'jobs.start': async ({ libraryId, imageIds, methods, target, seed, ensembles, settings }) => {
      const m = s.requireModel();
      const allowed = s.modelSummary(m).methods;
      for (const name of methods) {
        getExplainer(name); // unknown names: a clear error listing the known ones
        if (!allowed.includes(name)) throw new SaliencyError(`method "${name}" cannot run on ${m.classifier.info.name}: it needs a linear head the model does not have`, 'BAD_REQUEST');
      }
      checkMethodSettings(methods, settings);
      if (target && target.classIndex >= m.classifier.info.numClasses) {
        throw new SaliencyError(`target class ${target.classIndex} is out of range: the model has ${m.classifier.info.numClasses} classes`, 'BAD_REQUEST');
      }
      const recs = libraryId
        ? s.store.images.allOf(asId('library', libraryId)).filter((r) => !r.error && !r.missing)
        : imageIds!.map((id) => s.image(id));
      // A library job skips maps that already exist (same method, settings, seed, target class and score kind: by
      // default the top-1 class on the method's reference score, and the same app version: code that changes a
      // map under the same settings is numbered anew); a job on chosen images re-runs them. Maps made with other
      // settings (e.g. fewer LIME samples) or by another version are not "the same map": they are computed. A map
      // is the same when its run is the one the job would write to (runs.find: the key the job's runs.ensure uses).
      const wantedRun = new Map(methods.map((method) => [method, s.store.runs.find({
        modelId: m.dbId, method, settings: getExplainer(method).settings(settings?.[method] ?? {}), seed: seed ?? 0,
      })?.id]));
      const sameRun = (method: string, runId: number) => isEnsemble(method) || runId === wantedRun.get(method);
      const exists = (rec: ImageRecord, method: string) => Boolean(libraryId) && s.explanationsOf(rec.id).some((e) => e.method === method
        && e.targetClass === (target ? target.classIndex : s.prediction(rec.id)?.[0]?.classIndex)
        && (isEnsemble(method) || e.scoreKind === (target?.score ?? referenceScore(method))) && sameRun(method, e.runId));
      const what = libraryId ? `library ${s.libraryInfo(Number(libraryId)).name}` : recs.length === 1 ? recs[0].relPath : `${recs.length} images`;
      if (libraryId && !target) {
        // A library batch: the engine's job runner (worker threads; resumable after a crash or a kill).
        const todo = recs.filter((rec) => methods.some((method) => !exists(rec, method)) || ensembles.some((c) => !exists(rec, `ensemble:${c}`)));
        if (!todo.length) return s.jobs.add(`${methods.join(', ')} on ${what} (nothing new to do)`, []);
        await s.predict(todo).catch(() => undefined); // the runner explains each image's top-1 class
        const rec = await createExplainJob(s.store, { libraryId: Number(libraryId), modelPath: m.classifier.info.path!, methods, seed, settings, imageIds: todo.map((r) => r.id), ensembles });
        return s.jobs.addRunner(`${[...methods, ...ensembles.map((c) => `ensemble:${c}`)].join(', ')} on ${what}`, rec.counts.total, s.batchRunner(rec.id), { id: `batch-${rec.id}` });
      }
      const items: JobItem[] = recs.flatMap((rec) => methods.filter((method) => !exists(rec, method)).map((method) => ({
        label: `${rec.relPath} · ${method}`,
        run: (signal: AbortSignal) => s.explain(rec, method, target, seed, signal, settings[method]),
      })));
      return s.jobs.add(`${methods.join(', ')} on ${what}`, items);
    },
    'jobs.list': async () => s.jobs.list(),
    'jobs.pause': async ({ jobId }) => s.jobs.pause(jobId),
    'jobs.resume': async ({ jobId }) => s.jobs.resume(jobId),
    'jobs.cancel': async ({ jobId }) => s.jobs.cancel(jobId),
  };
}
