// Every CLI command, in the order `saliency help` lists them. Add one line per command.
import type { Command } from '../command.ts';

export const COMMANDS: Command[] = [];
