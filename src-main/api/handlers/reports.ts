// Reports: exporting a library's comparison report.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { makeReport } from '../../engine/report/make-report.ts';
import type { ApiService } from '../service.ts';
import { asId, type Handlers } from '../context.ts';

export function reportHandlers(s: ApiService): Handlers<'reports.export'> {
  return {
    'reports.export': async ({ libraryId, format }) => {
      const m = s.requireModel();
      const lib = s.libraryInfo(asId('library', libraryId));
      const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
      const result = await makeReport(s.store, { libraryId: Number(lib.id), modelId: m.dbId },
        { outDir: path.join(s.options.dataDir, 'reports'), formats: [format], name: `${lib.name}-${stamp}`, labels: m.classifier.labels });
      const file = result.files[format]!;
      const record = s.store.reports.list().reverse().find((r) => r.path === path.resolve(file));
      return { path: file, bytes: (await stat(file)).size, reportId: String(record?.id ?? '') };
    },
  };
}
