// The app and its model: version, features, loading a model.
import { COLORMAP_NAMES } from '../contract.ts';
import { BUILTIN_MODELS } from '../../engine/model/builtin.ts';
import { EXPLAINER_NAMES } from '../../engine/explain/registry.ts';
import { ENSEMBLE_NAMES } from '../../engine/ensemble/index.ts';
import type { ApiService } from '../service.ts';
import { APP_VERSION, type Handlers } from '../context.ts';

export function modelHandlers(s: ApiService): Handlers<'app.info' | 'model.load'> {
  return {
    'app.info': async () => ({
      version: APP_VERSION,
      mode: s.options.mode ?? 'browser',
      model: s.model ? s.modelSummary(s.model) : null,
      models: BUILTIN_MODELS.map((b) => b.spec),
      methods: EXPLAINER_NAMES,
      // 'weighted' needs a weight set and 'learned' annotation-fitted weights: not for a plain batch.
      ensembles: ENSEMBLE_NAMES.filter((n) => n !== 'weighted' && n !== 'learned'),
      colormaps: [...COLORMAP_NAMES],
      features: { persistence: s.store.path, metrics: true, ensembles: true, reports: true },
    }),

    'model.load': async ({ spec }) => s.modelSummary(await s.loadModel(spec)),
  };
}
