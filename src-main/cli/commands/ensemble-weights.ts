// saliency ensemble-weights: a weight set (with provenance) for weighted ensembles, from measured
// faithfulness (metric tables), human ratings (Likert or pairwise A-vs-B choices), or by hand.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../output/atomic.ts';
import { fsProblem } from '../errors.ts';
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { SaliencyError } from '../../engine/types.ts';
import type { WeightSet } from '../../engine/ensemble/types.ts';
import { parseTable, type Row } from '../../engine/ensemble/weights/table.ts';
import { metricRows, weightSetsPer, weightsFromMetrics } from '../../engine/ensemble/weights/from-metrics.ts';
import { likertRows, weightsFromLikert } from '../../engine/ensemble/weights/likert.ts';
import { pairwiseRows, weightsFromPairwise } from '../../engine/ensemble/weights/bradley-terry.ts';
import { manualWeights } from '../../engine/ensemble/weights/manual.ts';
import { SCORE_TRANSFORMS, type ScoreTransform } from '../../engine/ensemble/weights/weight-set.ts';

function ratingsWeights(rows: Row[], file: string, name: string | undefined, scale: [number, number] | undefined): WeightSet {
  const cols = new Set(rows.flatMap((r) => Object.keys(r)));
  if (cols.has('winner') || cols.has('choice')) return weightsFromPairwise(pairwiseRows(rows, file), { name });
  if (cols.has('score') || cols.has('rating') || cols.has('likert')) return weightsFromLikert(likertRows(rows, file), { name, scale });
  throw new SaliencyError(`${file}: ratings need columns a,b,winner (pairwise choices) or method,score (Likert)`, 'BAD_INPUT');
}

export const ensembleWeights: Command = {
  name: 'ensemble-weights',
  summary: 'weights for weighted ensembles from metric tables, human ratings, or by hand',
  usage: `Usage: saliency ensemble-weights --from metrics|ratings|manual --in <file.csv|file.json> --out <weights.json> [options]

  --from metrics   rows {method, value, higherIsBetter[, metric, image, classIndex]} (e.g. deletion and insertion
                   AUC per image). Each metric is oriented and standardised across methods, then averaged.
    --per set|image|class   one weight set over all rows (default), or one per image / per class
    --metric <list>         use only these metrics
    --transform ${SCORE_TRANSFORMS.join('|')}   scores -> weights (default softmax)   --temperature <t> (default 1)
  --from ratings   Likert rows {method, score} (--scale 1,5 by default), or pairwise rows {a, b, winner}
                   (winner: a method name, A, B or tie), fitted with the Bradley-Terry model (MM, Hunter 2004).
  --from manual    --in is a JSON object {"gradcam": 2, "lime": 1}; --note and --author are recorded.
  --name <name>    name of the weight set

Writes {name, source, weights, provenance} (or a list of them with --per image|class). Weights sum to 1.`,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        from: { type: 'string' }, in: { type: 'string' }, out: { type: 'string' }, name: { type: 'string' },
        per: { type: 'string' }, metric: { type: 'string' }, transform: { type: 'string' }, temperature: { type: 'string' },
        scale: { type: 'string' }, note: { type: 'string' }, author: { type: 'string' },
      },
    });
    if (!values.in) throw new SaliencyError('--in <file> is required', 'BAD_USAGE');
    if (!values.out) throw new SaliencyError('--out <weights.json> is required', 'BAD_USAGE');
    const text = await readFile(values.in, 'utf8').catch((e: Error) => { throw new SaliencyError(`--in ${values.in}: ${fsProblem(e)}`, 'BAD_INPUT'); });
    let result: WeightSet | WeightSet[];
    if (values.from === 'metrics') {
      const transform = (values.transform ?? 'softmax') as ScoreTransform;
      if (!SCORE_TRANSFORMS.includes(transform)) throw new SaliencyError(`--transform must be one of ${SCORE_TRANSFORMS.join(', ')}`, 'BAD_USAGE');
      const temperature = values.temperature !== undefined ? Number(values.temperature) : 1;
      if (!(temperature > 0)) throw new SaliencyError(`--temperature must be a number > 0, got ${values.temperature}`, 'BAD_USAGE');
      const rows = metricRows(parseTable(text, values.in), values.in);
      const opts = { name: values.name, transform, temperature, metrics: values.metric?.split(',').map((s) => s.trim()) };
      const per = values.per ?? 'set';
      if (per === 'set') result = weightsFromMetrics(rows, opts);
      else if (per === 'image' || per === 'class') result = weightSetsPer(rows, per, opts);
      else throw new SaliencyError(`--per must be set, image or class, got "${per}"`, 'BAD_USAGE');
    } else if (values.from === 'ratings') {
      let scale: [number, number] | undefined;
      if (values.scale) {
        const [lo, hi] = values.scale.split(',').map(Number);
        scale = [lo, hi];
      }
      result = ratingsWeights(parseTable(text, values.in), values.in, values.name, scale);
    } else if (values.from === 'manual') {
      let given: unknown;
      try { given = JSON.parse(text); } catch (e) { throw new SaliencyError(`${values.in}: not valid JSON (${(e as Error).message})`, 'BAD_INPUT'); }
      result = manualWeights(given as Record<string, number>, { name: values.name, note: values.note, author: values.author });
    } else {
      throw new SaliencyError(`--from must be metrics, ratings or manual, got ${JSON.stringify(values.from ?? '')}`, 'BAD_USAGE');
    }
    await writeFileAtomic(values.out, JSON.stringify(result, null, 2) + '\n');
    for (const set of Array.isArray(result) ? result : [result]) {
      console.log(`${set.name} (${set.source}): ${Object.entries(set.weights).map(([m, w]) => `${m} ${w.toFixed(3)}`).join(', ')}`);
    }
    return 0;
  },
};
