// `saliency serve`: the app in browser mode, on 127.0.0.1 with a per-launch token.
import { parseArgs } from 'node:util';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from '../command.ts';
import { ApiService } from '../../api/service.ts';
import { startServer } from '../../api/server.ts';
import { builtinSamplesDir, isBuiltinSpec } from '../../engine/model/builtin.ts';
import { resolveDbPath } from '../../engine/store/paths.ts';

const DEFAULT_RENDERER = fileURLToPath(new URL('../../../out/renderer', import.meta.url));

export const serve: Command = {
  name: 'serve',
  summary: 'run the app in the browser (127.0.0.1, per-launch token)',
  usage: `Usage: saliency serve [options]

Serves the Saliency Studio app on http://127.0.0.1:<port>/ and prints the address to open (it carries a
per-launch token; requests without it are refused). Build the renderer first: npm run build:renderer

Options:
  --model SPEC      model to load at start: builtin:demo (default; builtin:known-evidence if the demo
                    model is not built) or an .onnx file
  --library DIR     folder to open at start (default: the built-in model's bundled samples)
  --explain LIST    methods to run on the start-up library right away (default: gradcam for the bundled
                    samples, none for a --library folder; "none" to skip)
  --port N          port (default: a free one)
  --data DIR        folder for the app's database and exported reports (default: the folder of the
                    database below)
  --db FILE         database file (default: <data>/studio.db with --data; else $SALIENCY_DB; else
                    studio.db in the user data folder, ~/.local/share/saliency-studio on Linux: the same
                    database as the other commands and the desktop app)
  --renderer DIR    built renderer (default: out/renderer)
  --quiet           print only the address`,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' },
        library: { type: 'string' },
        explain: { type: 'string' },
        port: { type: 'string', default: '0' },
        data: { type: 'string' },
        db: { type: 'string' },
        renderer: { type: 'string', default: DEFAULT_RENDERER },
        quiet: { type: 'boolean', default: false },
      },
    });
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, not "${values.port}"`);
    // One default database for every command and the desktop app (engine/store/paths.ts).
    const dbFile = values.db ? path.resolve(values.db) : values.data ? path.resolve(values.data, 'studio.db') : resolveDbPath();
    const dataDir = values.data ? path.resolve(values.data) : path.dirname(dbFile);
    mkdirSync(dataDir, { recursive: true });
    const service = new ApiService({ mode: 'browser', dataDir, dbFile });
    // Without --model: the demo model, or the known-evidence one where the demo model is not built.
    const candidates = values.model ? [values.model] : ['builtin:demo', 'builtin:known-evidence'];
    let loaded: string | null = null;
    for (const spec of candidates) {
      try {
        await service.call('model.load', { spec });
        loaded = spec;
        break;
      } catch (e) {
        console.error(`saliency serve: could not load model ${spec}: ${(e as Error).message}`);
      }
    }
    if (!loaded) console.error('(the app starts without a model; load one from the Library screen)');
    service.listResumableJobs(); // batch jobs a crash or kill left unfinished, ready to resume
    const server = await startServer({ service, rendererDir: values.renderer!, port, token: process.env.SALIENCY_TOKEN || undefined });
    // Default library: the samples bundled with the built-in model (the demo digits for builtin:demo).
    const library = values.library ?? (loaded && isBuiltinSpec(loaded) ? builtinSamplesDir(loaded) : '');
    if (library && existsSync(library)) {
      const lib = await service.call('library.open', { path: library });
      if (!values.quiet) console.error(`library: ${lib.path} (${lib.imageCount} images)`);
      // A new user sees maps, not only predictions, within seconds of opening the bundled samples.
      const methods = (values.explain ?? (values.library ? 'none' : 'gradcam')).split(',').map((m) => m.trim()).filter((m) => m && m !== 'none');
      if (methods.length) {
        await service.call('jobs.start', { libraryId: lib.id, methods, seed: 0 })
          .catch((e: Error) => console.error(`saliency serve: could not start ${methods.join(', ')}: ${e.message}`));
      }
    } else if (values.library) {
      console.error(`saliency serve: library folder not found: ${library}`);
    }
    console.log(`Saliency Studio: ${server.openUrl}`);
    if (!values.quiet) console.error(`database: ${service.store.path}`);
    // Before issue 16 #6, serve kept its own database here: say so rather than hide earlier work.
    const older = path.join(os.homedir(), '.saliency-studio', 'studio.db');
    if (!values.db && !values.data && existsSync(older) && older !== service.store.path) {
      console.error(`note: an older database of \`saliency serve\` is at ${older}; open it with --db ${older}`);
    }
    if (!existsSync(path.join(values.renderer!, 'index.html'))) console.error(`warning: the renderer is not built; run: npm run build:renderer`);
    if (!values.quiet) console.error('Open the address above in a browser. Ctrl+C stops the server.');
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    service.close();
    return 0;
  },
};
