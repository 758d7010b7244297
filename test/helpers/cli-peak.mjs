// Runs the saliency command in this process and prints its wall time and peak resident memory on stderr, as
// `cli-peak ms=<n> cpu-ms=<n> rss-kb=<n>` (CPU time: user + system, steadier than wall time on a busy machine) (for tests that compare what a command costs on different inputs).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../../src-main/cli/main.ts');
const t0 = performance.now();
const code = await main(process.argv.slice(2));
const u = process.resourceUsage();
process.stderr.write(`cli-peak ms=${Math.round(performance.now() - t0)} cpu-ms=${Math.round((u.userCPUTime + u.systemCPUTime) / 1000)} rss-kb=${u.maxRSS}\n`);
process.exitCode = code;
