// Which stored metric values may be compared with each other (docs/protocol.md, "What a report refuses"): the
// rule reports and the app's summaries share. Rows left out are returned with their reason, and each refusal is
// one plain sentence for the reader.
import { PRE_PROTOCOL, PROTOCOL_VERSION } from '../protocol.ts';
import { canonicalJson } from '../store/json.ts';

export interface ComparableRow {
  metric: string; category: string; scoreKind: string; seriesLabel: string;
  /** PROTOCOL_VERSION, another version, or PRE_PROTOCOL */
  protocol: string;
  settings: Record<string, unknown>;
}

/**
 * Keeps only rows of one protocol version (the current one when there are any, else the rows stored before
 * it); before the protocol, where faithfulness curves followed each map's own score kind, a metric mixing score
 * kinds is not ranked at all; and one metric's rows of different settings (e.g. Compare's 16-step curves beside
 * a study's 50-step ones, on the same maps) are not pooled: the settings with the most rows are kept.
 */
export function applyProtocol<T extends ComparableRow>(rows: T[]): { metrics: T[]; excluded: (T & { reason: string })[]; refusals: string[] } {
  const protocols = [...new Set(rows.map((r) => r.protocol))];
  const chosen = protocols.includes(PROTOCOL_VERSION) ? PROTOCOL_VERSION : protocols.length === 1 ? protocols[0] : PRE_PROTOCOL;
  const excluded: (T & { reason: string })[] = [];
  const refusals: string[] = [];
  const exclude = (list: T[], reason: string) => { for (const r of list) excluded.push({ ...r, reason }); };
  for (const p of protocols.filter((x) => x !== chosen)) {
    const other = rows.filter((r) => r.protocol === p);
    const what = [...new Set(other.map((r) => r.metric))].sort().join(', ');
    const why = p === PRE_PROTOCOL
      ? `they were computed before protocol ${PROTOCOL_VERSION} (faithfulness curves then followed each map's own score kind, logit or probability)`
      : `they were computed under protocol ${p}, not ${chosen}`;
    refusals.push(`${other.length} metric value(s) (${what}) of ${describeSeries(other)} are not compared with the ${chosen} values: ${why}. Recompute them (run the metrics again) to include them.`);
    exclude(other, `protocol ${p} is not ${chosen}`);
  }
  let kept = rows.filter((r) => r.protocol === chosen);
  for (const metric of [...new Set(kept.map((r) => r.metric))].sort()) {
    if (chosen === PRE_PROTOCOL) {
      // Before the protocol a faithfulness curve followed the explanation's score kind: logit AUCs and
      // probability AUCs are different quantities, so a metric with both is not ranked at all.
      const mine = kept.filter((r) => r.metric === metric && r.category === 'faithfulness');
      const kinds = [...new Set(mine.map((r) => r.scoreKind))].sort();
      if (kinds.length > 1) {
        refusals.push(`${metric}: not ranked. Its values were computed before protocol ${PROTOCOL_VERSION}, on each map's own score kind, and mix ${kinds.map((k) => `${k} (${describeSeries(mine.filter((r) => r.scoreKind === k))})`).join(' with ')}; a logit AUC and a probability AUC are not comparable. Recompute the metrics to compare them under ${PROTOCOL_VERSION} (always on the probability).`);
        exclude(mine, `${metric} mixes ${kinds.join(' and ')} curves (pre-protocol)`);
        kept = kept.filter((r) => !mine.includes(r));
        continue;
      }
    }
    const bySettings = new Map<string, T[]>();
    for (const r of kept.filter((x) => x.metric === metric)) {
      const key = canonicalJson(r.settings);
      bySettings.set(key, [...(bySettings.get(key) ?? []), r]);
    }
    if (bySettings.size < 2) continue;
    const [main, ...others] = [...bySettings.values()].sort((a, b) => b.length - a.length);
    for (const other of others) {
      const diff = Object.keys({ ...main[0].settings, ...other[0].settings })
        .filter((k) => canonicalJson(main[0].settings[k] ?? null) !== canonicalJson(other[0].settings[k] ?? null))
        .map((k) => `${k}=${canonicalJson(other[0].settings[k] ?? null)} instead of ${canonicalJson(main[0].settings[k] ?? null)}`).join(', ');
      refusals.push(`${metric}: ${other.length} value(s) of ${describeSeries(other)} computed with other settings (${diff}) are not pooled with the ${main.length} compared.`);
      exclude(other, `${metric} settings differ (${diff})`);
      kept = kept.filter((r) => !other.includes(r));
    }
  }
  return { metrics: kept, excluded, refusals };
}

const describeSeries = (rows: ComparableRow[]) => [...new Set(rows.map((r) => r.seriesLabel))].sort().join(', ');
