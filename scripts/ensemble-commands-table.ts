// Issue 20, the product path end to end, per model: weights fitted by `saliency ensemble-weights` on
// `saliency evaluate` of the tuning images, then `saliency run --ensemble ... --weights` into a library and
// `saliency evaluate --ensemble ... --weights --save-maps` on the test images. Prints (1) whether evaluate
// reproduced what run stored (every map and every metric value and control, bit for bit) and (2) the table:
// insertion - deletion of each ensemble against the plain mean and against the best member chosen on the
// tuning images, paired bootstrap 95% interval, images better, sign-flip p Holm-adjusted per model.
// Usage: node --import tsx scripts/ensemble-commands-table.ts SqueezeNet=/work/e20/cmd/squeezenet ...
//   where each directory holds tune/per-image.csv, lib.db (run), eval/per-image.csv and eval-maps/ (evaluate).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { openStore } from '../src-main/engine/store/store.ts';
import { decodeNpy } from '../src-main/engine/io/npy.ts';
import { pairedComparison, holm, winnerOf, type Observation } from '../src-main/engine/stats/index.ts';

interface Row { image: string; method: string; metric: string; value: number; control: number }
function readRows(file: string): Row[] {
  const [head, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const cols = head.split(',');
  const at = (name: string) => cols.indexOf(name);
  return lines.map((l) => l.split(',')).map((c) => ({
    image: path.basename(c[at('image')]), method: c[at('method')], metric: c[at('metric')], value: Number(c[at('value')]), control: Number(c[at('control')]),
  }));
}
/** insertion - deletion per image and method (higher is better), and the control's, per image. */
function gains(rows: Row[]): { byMethod: Map<string, Map<string, number>>; control: Map<string, number> } {
  const byMethod = new Map<string, Map<string, number>>();
  const control = new Map<string, number>();
  for (const r of rows.filter((x) => x.metric === 'insertion')) {
    const d = rows.find((x) => x.metric === 'deletion' && x.image === r.image && x.method === r.method);
    if (!d) continue;
    if (!byMethod.has(r.method)) byMethod.set(r.method, new Map());
    byMethod.get(r.method)!.set(r.image, r.value - d.value);
    control.set(r.image, r.control - d.control);
  }
  return { byMethod, control };
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const f3 = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(3);
const obs = (m: Map<string, number>) => new Map([...m].map(([u, v]) => [u, { unit: u, group: '', metric: 'gain', value: v, control: null, higherIsBetter: true } as Observation]));

const lines: string[] = [];
for (const arg of process.argv.slice(2)) {
  const [label, dir] = arg.split('=');
  // (1) run vs evaluate
  const evRows = readRows(path.join(dir, 'eval/per-image.csv'));
  const store = openStore(path.join(dir, 'lib.db'));
  let values = 0, valuesSame = 0, maps = 0, mapsSame = 0;
  try {
    for (const e of store.explanations.list()) {
      const file = path.basename(store.images.get(e.imageId)!.path);
      const stored = store.explanations.get(e.id)!;
      const npy = path.join(dir, 'eval-maps', file.replace(/\.[^.]+$/, ''), `${e.method.replace(':', '-')}.npy`);
      const { data } = decodeNpy(readFileSync(npy));
      maps++;
      if (Buffer.from(data.buffer, data.byteOffset, data.byteLength).equals(Buffer.from(stored.map.data.buffer, stored.map.data.byteOffset, stored.map.data.byteLength))) mapsSame++;
      for (const m of store.metrics.list({ explanationId: e.id })) {
        const r = evRows.find((x) => x.image === file && x.method === e.method && x.metric === m.name);
        values++;
        if (r && r.value === m.value && r.control === m.randomValue) valuesSame++;
      }
    }
  } finally {
    store.close();
  }
  console.log(`${label}: run vs evaluate: ${mapsSame}/${maps} maps bit-identical, ${valuesSame}/${values} metric values and controls identical`);

  // (2) the table, from evaluate's rows
  const tune = gains(readRows(path.join(dir, 'tune/per-image.csv'))).byMethod;
  const best = [...tune].filter(([m]) => !m.startsWith('ensemble:')).sort((a, b) => mean([...b[1].values()]) - mean([...a[1].values()]))[0][0];
  const { byMethod, control } = gains(evRows);
  const ens = [...byMethod.keys()].filter((m) => m.startsWith('ensemble:'));
  const pairs = [
    ...ens.map((e) => ({ a: e, b: best, against: `best member (${best})` })),
    ...ens.filter((e) => e !== 'ensemble:mean').map((e) => ({ a: e, b: 'ensemble:mean', against: 'mean' })),
  ].map((p) => ({ ...p, ...pairedComparison(obs(byMethod.get(p.a)!), obs(byMethod.get(p.b)!), 0, 2000) }));
  const adj = holm(pairs.map((p) => p.p));
  const n = byMethod.get(best)!.size;
  lines.push(`\n${label}: n = ${n} test images; best member on the tuning images: ${best}; insertion - deletion: ` +
    [...ens, best].map((m) => `${m} ${f3(mean([...byMethod.get(m)!.values()]))}`).join(', ') + `; random control ${f3(mean([...control.values()]))}`);
  lines.push('| ensemble | against | diff [95% CI] | better | Holm p | verdict |', '|---|---|---|---|---|---|');
  pairs.forEach((p, i) => {
    const d = [...byMethod.get(p.a)!].map(([u, v]) => v - byMethod.get(p.b)!.get(u)!);
    const w = winnerOf({ a: p.a, b: p.b, diff: p.diff, ci95: p.ci95, n: p.n, pHolm: adj[i], higherIsBetter: true });
    lines.push(`| ${p.a} | ${p.against} | ${f3(p.diff)} [${f3(p.ci95[0])}, ${f3(p.ci95[1])}] | ${d.filter((x) => x > 0).length}/${p.n} | ${adj[i].toFixed(3)} | ${w === null ? 'no clear difference' : `${w} better`} |`);
  });
}
console.log(lines.join('\n'));
