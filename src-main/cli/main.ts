// Entry point of the `saliency` command line.
import { COMMANDS } from './commands/index.ts';
import { errorLine, withPrefix } from './errors.ts';

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'saliency: explain image classifiers with many methods, ensembles and metrics',
    '',
    'Usage: saliency <command> [options]   (saliency help <command> for details)',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    console.log(help());
    return name ? 0 : 2;
  }
  if (name === 'help') {
    const cmd = COMMANDS.find((c) => c.name === rest[0]);
    console.log(cmd ? cmd.usage : help());
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    console.error(`saliency: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.usage);
    return 0;
  }
  // Errors that escape the command (an emitter's 'error', a stray rejection) also get their one line.
  const fatal = (e: unknown) => {
    console.error(withPrefix(`saliency ${name}`, errorLine(e)));
    if (process.env.SALIENCY_DEBUG === '1') console.error((e as Error)?.stack ?? e);
    process.exit(2);
  };
  process.on('uncaughtException', fatal).on('unhandledRejection', fatal);
  try {
    return await cmd.run(rest);
  } catch (e) {
    // One line, `saliency <cmd>: <thing>: <problem>`; the stack only on request.
    console.error(withPrefix(`saliency ${name}`, errorLine(e)));
    if (process.env.SALIENCY_DEBUG === '1') console.error((e as Error)?.stack ?? e);
    return 2;
  }
}
