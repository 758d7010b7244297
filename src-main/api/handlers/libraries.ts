// Libraries: registering a folder (and predicting its images), listing them.
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { SaliencyError } from '../../engine/types.ts';
import { importFolder } from '../../engine/library/scan.ts';
import type { ApiService } from '../service.ts';
import type { Handlers } from '../context.ts';

export function libraryHandlers(s: ApiService): Handlers<'library.open' | 'library.list'> {
  return {
    'library.open': async ({ path: p }) => {
      let root: string;
      try {
        root = await realpath(path.resolve(p));
      } catch {
        throw new SaliencyError(`${p}: folder not found`, 'NOT_FOUND');
      }
      if (!(await stat(root)).isDirectory()) throw new SaliencyError(`${p}: is a file, not a folder`, 'BAD_REQUEST');
      // Thumbnails are made on demand by the file routes: opening 10,000 images stays quick.
      const { library } = await importFolder(s.store, root, { thumbnails: false });
      s.changed();
      s.predictJob(library.id);
      const info = s.libraryInfo(library.id);
      s.emit({ type: 'library', library: info });
      return info;
    },

    'library.list': async () => s.store.libraries.list().map((l) => s.libraryInfo(l.id)),
  };
}
