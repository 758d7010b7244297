// saliency library add|scan|list: image folders kept in the database.
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { progressBar } from '../command.ts';
import { openStore } from '../../engine/store/store.ts';
import { importFolder, scanLibrary, type ScanSummary } from '../../engine/library/scan.ts';
import type { ImageQuery } from '../../engine/store/images-repo.ts';
import { SaliencyError } from '../../engine/types.ts';
import { intOption } from '../common.ts';

const USAGE = `Usage:
  saliency library add <folder> [--name NAME] [--labels auto|none] [--no-thumbnails] [--db FILE]
  saliency library scan [<id|folder> ...] [--no-thumbnails] [--db FILE]   (no argument: every library)
  saliency library list [--db FILE]                                     (the libraries)
  saliency library list <id|folder> [--status ok|error|missing|all] [--limit N] [--after ID] [--db FILE]

add imports a folder recursively (JPEG, PNG, WebP, TIFF, GIF, AVIF): content hash, size, dimensions,
ground truth from ImageNet wnids in file or folder names (--labels auto), and a thumbnail. scan finds new,
changed and removed files. Unreadable files are listed with their error (--status error); folders that cannot
be read and broken symbolic links are listed as skipped. --limit 1..1000 (default 200).
The database is --db, else $SALIENCY_DB, else studio.db in the user data folder.`;

const describe = (s: ScanSummary) =>
  `${s.files} files: ${s.added} new, ${s.changed} changed, ${s.unchanged} unchanged, ${s.touched} touched, ${s.removed} removed, ` +
  `${s.errors} with errors, ${s.skipped.length} skipped (${(s.millis / 1000).toFixed(1)} s)`;

/** Each skipped folder or file on stderr; 1 (some items failed) when there were any. */
function reportSkips(root: string, s: ScanSummary): number {
  for (const k of s.skipped) console.error(`skipped: ${path.join(root, k.relPath)}: ${k.reason}`);
  return s.skipped.length ? 1 : 0;
}

export const libraryCommand: Command = {
  name: 'library',
  summary: 'import image folders into the database, rescan them, list them',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv, allowPositionals: true,
      options: {
        db: { type: 'string' }, name: { type: 'string' }, labels: { type: 'string' }, 'no-thumbnails': { type: 'boolean' },
        status: { type: 'string' }, limit: { type: 'string' }, after: { type: 'string' },
      },
    });
    const [sub, ...rest] = positionals;
    if (values.labels !== undefined && values.labels !== 'auto' && values.labels !== 'none') {
      throw new SaliencyError(`--labels must be "auto" or "none", not "${values.labels}"`, 'BAD_USAGE');
    }
    const store = openStore(values.db);
    try {
      const thumbnails = !values['no-thumbnails'];
      if (sub === 'add') {
        if (rest.length !== 1) throw new SaliencyError(`library add needs one folder\n\n${USAGE}`, 'BAD_USAGE');
        let bar: ReturnType<typeof progressBar> | undefined;
        const { library, scan } = await importFolder(store, rest[0], {
          name: values.name, labelsSource: values.labels as 'auto' | 'none' | undefined, thumbnails,
          onProgress: (p) => { bar ??= progressBar(p.total - p.done + 1, 'scan '); bar.tick(); },
        });
        bar?.done();
        console.log(`library ${library.id} ${library.root}: ${describe(scan)}`);
        return reportSkips(library.root, scan);
      }
      if (sub === 'scan') {
        const libs = rest.length ? rest.map((r) => store.libraries.find(r)) : store.libraries.list();
        if (libs.length === 0) console.log('no libraries yet (saliency library add <folder>)');
        let code = 0;
        for (const lib of libs) {
          const scan = await scanLibrary(store, lib.id, { thumbnails });
          console.log(`library ${lib.id} ${lib.root}: ${describe(scan)}`);
          code = Math.max(code, reportSkips(lib.root, scan));
        }
        return code;
      }
      if (sub === 'list' || sub === undefined) {
        if (rest.length === 0) {
          const libs = store.libraries.list();
          if (libs.length === 0) console.log(`no libraries in ${store.path} (saliency library add <folder>)`);
          for (const l of libs) console.log(`${String(l.id).padStart(4)}  ${l.root}  ${l.images} images, ${l.errors} errors, ${l.missing} missing, scanned ${l.scannedAt ?? 'never'}`);
          return 0;
        }
        const lib = store.libraries.find(rest[0]);
        const status = (values.status ?? 'all') as ImageQuery['status'];
        if (!['ok', 'error', 'missing', 'all'].includes(status!)) throw new SaliencyError(`--status must be ok, error, missing or all`, 'BAD_USAGE');
        const limit = intOption(values.limit, 'limit', 1, 1000) ?? 200;
        const page = store.images.page({ libraryId: lib.id, status, limit, afterId: intOption(values.after, 'after', 0) });
        for (const i of page.items) {
          const dims = i.width ? `${i.width}x${i.height}` : '-';
          console.log(`${String(i.id).padStart(6)}  ${i.relPath}  ${dims}  class ${i.trueClass ?? '-'}${i.error ? `  ERROR: ${i.error}` : ''}`);
        }
        if (page.nextAfterId !== null) console.log(`... more: --after ${page.nextAfterId}`);
        return 0;
      }
      throw new SaliencyError(`unknown library subcommand "${sub}"\n\n${USAGE}`, 'BAD_USAGE');
    } finally {
      store.close();
    }
  },
};
