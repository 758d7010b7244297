// Robustness of explanations to label-preserving adversarial perturbations (attack (a) of adversarial-fragility):
// per image and epsilon one PGD attack on the prediction margin (it does not depend on the method), then every
// method and the mean ensemble of them explain the original and the attacked image; reported per method and
// epsilon: Spearman correlation and top-10% intersection of the maps (mean, 95% bootstrap interval, n), the random
// control (a seeded random map against another), and whether the ensemble beats its best member (paired interval).
// --attack topk uses the targeted attack on Grad-CAM's top-10% mass instead (adversarial-topk, Ghorbani et al.;
// one attack per image and epsilon, the CAM at the model's last block), --attack both runs the two and adds the
// paired difference targeted - margin per method.
// Usage: node --import tsx scripts/eval-adversarial.ts [--images 30 --offset 0 --model <file> --steps 10 --methods gradcam,saliency,... --attack margin|topk|both]
// Tables are printed every 5 images (so a long run gives results as it goes) and at the end.
import { parseArgs } from 'node:util';
import path from 'node:path';
import { Classifier } from '../src-main/engine/model/classifier.ts';
import { prepareImageFile } from '../src-main/engine/image/prepare.ts';
import { getExplainer } from '../src-main/engine/explain/registry.ts';
import type { Explanation } from '../src-main/engine/explain/types.ts';
import { buildEnsemble } from '../src-main/engine/ensemble/build.ts';
import { attackMargin } from '../src-main/engine/metrics/adversarial-fragility.ts';
import { attackTopK } from '../src-main/engine/metrics/adversarial-topk.ts';
import { spearman, topKIoU } from '../src-main/engine/metrics/rank.ts';
import { randomMap } from '../src-main/engine/metrics/perturb.ts';
import { bootstrapMeanCI, pairedBootstrapCI } from '../src-main/engine/stats/bootstrap.ts';
import { Random } from '../src-main/engine/util/random.ts';
import { argmax } from '../src-main/engine/util/math.ts';

const DATA = path.resolve('../shared/data');
const ALL_METHODS: [string, Record<string, unknown>][] = [['gradcam', {}], ['saliency', {}], ['inputxgradient', {}], ['smoothgrad', { samples: 50 }], ['integratedgradients', { steps: 64 }]];
const EPSILONS = [1, 2, 8];

const { values } = parseArgs({ options: { images: { type: 'string' }, offset: { type: 'string' }, model: { type: 'string' }, steps: { type: 'string' }, methods: { type: 'string' }, attack: { type: 'string' } } });
const chosen = (values.methods ?? ALL_METHODS.map(([m]) => m).join(',')).split(',');
const METHODS = ALL_METHODS.filter(([m]) => chosen.includes(m));
const count = Number(values.images ?? 30);
const offset = Number(values.offset ?? 0);
const steps = Number(values.steps ?? 10);
const model = await Classifier.load(values.model ?? path.join(DATA, 'models/squeezenet1.1-fp32.onnx'));
const rows = (await import('node:fs')).readFileSync(path.join(DATA, 'imagenet-samples/manifest.csv'), 'utf8').trim().split('\n').slice(1 + offset, 1 + offset + count).map((l) => l.split(',')[0]);
const ATTACKS = values.attack === 'both' ? ['margin', 'topk'] : [values.attack ?? 'margin'];
if (!ATTACKS.every((a) => a === 'margin' || a === 'topk')) throw new Error(`--attack must be margin, topk or both (got ${values.attack})`);
const members = [...METHODS.map(([m]) => m), 'ensemble:mean'];
const tagged = (a: string, m: string) => (ATTACKS.length > 1 ? `${m} (${a})` : m);
const names = [...ATTACKS.flatMap((a) => members.map((m) => tagged(a, m))), 'random control'];
const rho = new Map<string, number[]>();
const inter = new Map<string, number[]>();
const key = (m: string, e: number) => `${m}|${e}`;
const push = (map: Map<string, number[]>, k: string, v: number) => map.set(k, [...(map.get(k) ?? []), v]);
const explainAll = async (image: Parameters<ReturnType<typeof getExplainer>['explain']>[0], target: { classIndex: number; score: 'logit' }) => {
  const out: Explanation[] = [];
  for (const [m, s] of METHODS) { const e = getExplainer(m); out.push(await e.explain(image, target, e.settings(s), 1, { model })); }
  out.push(buildEnsemble(out.slice(), { combiner: 'mean' }));
  return out;
};
function report(n: number) {
  const fmt = (c: { mean: number; lo: number; hi: number }) => `${c.mean.toFixed(3)} [${c.lo.toFixed(3)}, ${c.hi.toFixed(3)}]`;
  console.log(`\nSimilarity of each method's map before and after a label-preserving L-inf attack (${ATTACKS.map((a) => (a === 'margin' ? 'PGD on the margin' : "targeted on Grad-CAM's top-10% mass")).join('; ')}; ${steps} steps),`);
  console.log(`SqueezeNet 1.1, ${n} sample images (offset ${offset}); mean [95% bootstrap interval], n = ${n}\n`);
  console.log(`| method | ${EPSILONS.map((e) => `Spearman, eps ${e}/255 | top-10% intersection, eps ${e}/255`).join(' | ')} |`);
  console.log(`|---|${EPSILONS.map(() => '---|---').join('|')}|`);
  for (const m of names) {
    console.log(`| ${m} | ${EPSILONS.map((e) => `${fmt(bootstrapMeanCI(rho.get(key(m, e))!, { seed: 1 }))} | ${fmt(bootstrapMeanCI(inter.get(key(m, e))!, { seed: 1 }))}`).join(' | ')} |`);
  }
  for (const a of ATTACKS) {
    console.log(`\nEnsemble minus its most robust member (Spearman, paired over images${ATTACKS.length > 1 ? `, ${a} attack` : ''}):`);
    for (const e of EPSILONS) {
      const best = METHODS.map(([m]) => tagged(a, m)).reduce((x, y) => (mean(rho.get(key(x, e))!) >= mean(rho.get(key(y, e))!) ? x : y));
      const d = pairedBootstrapCI(rho.get(key(tagged(a, 'ensemble:mean'), e))!, rho.get(key(best, e))!, { seed: 1 });
      const verdict = d.lo > 0 ? 'ensemble more robust' : d.hi < 0 ? `${best} more robust` : 'no clear difference';
      console.log(`  eps ${e}/255: ensemble - ${best} = ${fmt(d)} -> ${verdict} (n = ${d.n})`);
    }
  }
  if (ATTACKS.length > 1) {
    console.log('\nTargeted minus margin attack, paired over images (negative: the targeted attack moves the map more):');
    for (const m of members) {
      for (const e of EPSILONS) {
        const dr = pairedBootstrapCI(rho.get(key(tagged('topk', m), e))!, rho.get(key(tagged('margin', m), e))!, { seed: 1 });
        const di = pairedBootstrapCI(inter.get(key(tagged('topk', m), e))!, inter.get(key(tagged('margin', m), e))!, { seed: 1 });
        console.log(`  ${m}, eps ${e}/255: Spearman ${fmt(dr)}, top-10% intersection ${fmt(di)} (n = ${dr.n})`);
      }
    }
  }
}
const t0 = performance.now();
for (const [i, file] of rows.entries()) {
  const { prepared } = await prepareImageFile(path.join(DATA, 'imagenet-samples', file), model);
  const target = { classIndex: argmax((await model.predict([prepared.input])).logits), score: 'logit' as const };
  const before = await explainAll(prepared, target);
  for (const eps of EPSILONS) {
    for (const a of ATTACKS) {
      const attacked = a === 'margin'
        ? (await attackMargin(model, prepared.input, { epsilon: eps, steps }, 1000 + i)).image
        : (await attackTopK(model, prepared.input, target, 'auto', { epsilon: eps, steps, topK: 0.1 })).image;
      const after = await explainAll({ ...prepared, id: `${prepared.id}~adv-${a}-${eps}`, input: attacked }, target);
      before.forEach((b, k) => {
        push(rho, key(tagged(a, members[k]), eps), spearman(b.map, after[k].map));
        const iou = topKIoU(b.map, after[k].map, 0.1, i);
        push(inter, key(tagged(a, members[k]), eps), (2 * iou) / (1 + iou));
      });
    }
    const { width, height } = prepared.input;
    const r1 = randomMap(width, height, Random.derive(i, `control-${eps}-a`), 7);
    const r2 = randomMap(width, height, Random.derive(i, `control-${eps}-b`), 7);
    push(rho, key('random control', eps), spearman(r1, r2));
    const iou = topKIoU(r1, r2, 0.1, i);
    push(inter, key('random control', eps), (2 * iou) / (1 + iou));
  }
  console.error(`${i + 1}/${rows.length} ${file} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  if ((i + 1) % 5 === 0 && i + 1 < rows.length) report(i + 1);
}
report(rows.length);
console.log(`(${((performance.now() - t0) / 1000).toFixed(0)} s)`);
await model.dispose();
function mean(v: number[]) { return v.reduce((a, b) => a + b, 0) / v.length; }
