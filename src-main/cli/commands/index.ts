// Every CLI command, in the order `saliency help` lists them. Add one line per command.
import type { Command } from '../command.ts';
import { predict } from './predict.ts';
import { explain } from './explain.ts';
import { serve } from './serve.ts';
import { ensembleWeights } from './ensemble-weights.ts';
import { libraryCommand } from './library.ts';
import { runCommand } from './run.ts';
import { jobsCommand } from './jobs.ts';
import { workerCommand } from './worker.ts';
import { smer } from './smer.ts';
import { report } from './report.ts';
import { evaluate } from './evaluate.ts';
import { gradcheckCommand } from './gradcheck.ts';
import { ensembleCompare } from './ensemble-compare.ts';
import { planCommand } from './plan.ts';

export const COMMANDS: Command[] = [
  predict,
  explain,
  serve,
  ensembleWeights,
  libraryCommand,
  runCommand,
  jobsCommand,
  workerCommand,
  smer,
  report,
  evaluate,
  gradcheckCommand,
  ensembleCompare,
  planCommand,
];
