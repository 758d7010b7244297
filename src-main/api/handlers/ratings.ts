// Ratings: rating sessions, Likert scores, pairwise choices and their summary.
import type { Res } from '../contract.ts';
import { Random } from '../../engine/util/random.ts';
import { SaliencyError } from '../../engine/types.ts';
import { fitBradleyTerry } from '../../engine/ensemble/index.ts';
import { orderSeries, parseSeries } from '../../engine/report/series.ts';
import type { ApiService } from '../service.ts';
import { asId, type Handlers } from '../context.ts';

export function ratingHandlers(s: ApiService): Handlers<'ratings.queue' | 'ratings.likert' | 'ratings.pairwise' | 'ratings.summary'> {
  return {
    'ratings.queue': async ({ libraryId, rater, mode, blind, seed, limit }) => {
      const random = new Random(seed);
      const items: Res<'ratings.queue'>['items'] = [];
      const likertDone = new Set(s.store.ratings.list({ rater }).map((r) => r.explanationId));
      const pairDone = new Set(s.store.ratings.choices({ rater }).flatMap((c) => [`${c.explanationA}:${c.explanationB}`, `${c.explanationB}:${c.explanationA}`]));
      for (const img of s.store.images.allOf(asId('library', libraryId))) {
        const expl = s.explanationsOf(img.id);
        // Labels name the series (method, target class, score kind); blind mode hides them.
        const label = (e: (typeof expl)[number]) => s.identity(e).seriesLabel;
        if (mode === 'likert') {
          for (const e of expl) items.push({ imageId: String(img.id), explanationIds: [String(e.id)], labels: [blind ? 'Map' : label(e)], done: likertDone.has(e.id) });
        } else {
          for (let i = 0; i < expl.length; i++) for (let j = i + 1; j < expl.length; j++) {
            let [a, b] = [expl[i], expl[j]];
            // A/B compares methods on one target: maps of different classes are not rivals.
            if (a.method === b.method || a.targetClass !== b.targetClass) continue;
            if (blind && random.next() < 0.5) [a, b] = [b, a];
            items.push({ imageId: String(img.id), explanationIds: [String(a.id), String(b.id)], labels: blind ? ['Map A', 'Map B'] : [label(a), label(b)], done: pairDone.has(`${a.id}:${b.id}`) });
          }
        }
      }
      if (blind) random.shuffle(items);
      const sliced = items.slice(0, limit);
      return { items: sliced, done: sliced.filter((i) => i.done).length, total: sliced.length };
    },

    'ratings.likert': async ({ explanationId, rater, score, blind }) => {
      const e = s.storedExplanation(explanationId);
      s.store.ratings.rate({ rater, explanationId: e.id, likert: score, comment: blind ? 'blind' : undefined });
      s.changed(e.imageId);
      return { ok: true as const };
    },

    'ratings.pairwise': async ({ a, b, winner, rater }) => {
      const ea = s.storedExplanation(a);
      const eb = s.storedExplanation(b);
      if (ea.imageId !== eb.imageId) throw new SaliencyError('a and b must be maps of the same image', 'BAD_REQUEST');
      s.store.ratings.choose({ rater, explanationA: ea.id, explanationB: eb.id, winner });
      s.changed(ea.imageId);
      return { ok: true as const };
    },

    'ratings.summary': async ({ libraryId }) => {
      // Per series: ratings of two targets (or score kinds) of one method are never pooled.
      const { likert, pairwise, index } = s.ratingRows(libraryId, 'series');
      const bt = pairwise.length ? fitBradleyTerry(pairwise) : null;
      const series = orderSeries([...likert.map((r) => r.method), ...pairwise.flatMap((r) => [r.a, r.b])]);
      return series.map((key) => {
        const scores = likert.filter((r) => r.method === key).map((r) => r.score);
        const mine = pairwise.filter((r) => r.a === key || r.b === key);
        const k = bt ? bt.methods.indexOf(key) : -1;
        const rated = [...likert.filter((r) => r.method === key).map((r) => r.explanationId), ...mine.flatMap((r) => r.explanationIds)]
          .map((id) => index.get(id)!).filter((x) => x.series === key);
        const classes = [...new Map(rated.map((x) => [x.targetClass, { classIndex: x.targetClass, label: x.targetLabel }])).values()].sort((a, b) => a.classIndex - b.classIndex);
        return {
          method: parseSeries(key).method, series: key, seriesLabel: rated[0].seriesLabel, scoreKind: parseSeries(key).scoreKind, classes,
          likertMean: scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null,
          likertCount: scores.length,
          pairwiseWins: mine.filter((r) => r.winner === key).length,
          pairwiseCount: mine.length,
          bradleyTerry: bt && k >= 0 ? bt.strengths[k] : null,
        };
      });
    },
  };
}
