#!/usr/bin/env node
// The `saliency` command. The engine is TypeScript run through tsx's loader, so the CLI, the tests and the
// worker threads all run the same sources.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src-main/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
