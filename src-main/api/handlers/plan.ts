// The cost planner over the API (engine/jobs/plan.ts): a study spec's evaluations per method and metric and
// its expected time, with this model's per-evaluation time stored in the database once measured.
import type { ApiService } from '../service.ts';
import type { Handlers } from '../context.ts';
import { planMetrics } from '../../engine/pipeline/evaluate-stored.ts';
import { ModelCostsRepo, planJob } from '../../engine/jobs/plan.ts';
import { plan } from './study.ts';
import { isFollowUp } from './study-followup.ts';

export function planHandlers(s: ApiService): Handlers<'plan.study'> {
  return {
    'plan.study': async (spec) => {
      const { m, images, methods, ensembles } = plan(s, spec);
      const probe = images[0];
      const loaded = await s.load(probe);
      await s.predict([probe]);
      const target = { classIndex: s.prediction(probe.id)![0].classIndex, score: 'probability' as const };
      const modelId = s.store.models.ensure(m.classifier.info).id;
      const p = await planJob(m.classifier, loaded.prepared, target, {
        methods: methods.map((name) => ({ name, settings: spec.methodSettings[name] ?? {} })),
        // Annotation and re-run metrics run after the batch (study-followup.ts); the probe has no annotation or explainer for them.
        metrics: planMetrics(spec.metrics.filter((x) => !isFollowUp(x)), spec.metricSettings), ensembles: ensembles.length, images: images.length, seed: spec.seed,
      }, { stored: { repo: new ModelCostsRepo(s.store.db), modelId } });
      const { probe: _probe, ...rest } = p;
      return { ...rest, probe: probe.relPath };
    },
  };
}
