// What the engine produces: models, runs (a method with its settings and seed on a model), explanations
// (maps as float32 blobs), predictions and faithfulness metrics.
import type Database from 'better-sqlite3';
import type { ModelInfo } from '../model/classifier.ts';
import type { Explanation } from '../explain/types.ts';
import type { Map2D, ScoreKind } from '../types.ts';
import { SaliencyError } from '../types.ts';
import { blobToMap, mapToBlob } from './blob.ts';
import { canonicalJson, parseJson } from './json.ts';
import { APP_VERSION } from './app-version.ts';

export interface ModelRecord {
  id: number; sha256: string; path: string | null; name: string; preset: string | null; featureLayer: string | null;
  info: Record<string, unknown>; createdAt: string;
}

export interface RunRecord {
  id: number; modelId: number; method: string; settings: Record<string, unknown>; seed: number; appVersion: string; createdAt: string;
}

/** An explanation as stored, without its maps (for listings). */
export interface ExplanationSummary {
  id: number; imageId: number; runId: number; method: string; modelId: number; imageSha256: string | null;
  targetClass: number; scoreKind: ScoreKind; mapWidth: number; mapHeight: number; evaluations: number; millis: number;
  extras: Record<string, unknown>; createdAt: string;
  /** Made from an earlier content of the file (a rescan found it changed): not a result for the image as it is. */
  outdated: boolean;
}

export interface StoredExplanation extends ExplanationSummary {
  map: Map2D;
  native: Map2D | null;
  settings: Record<string, unknown>;
  seed: number;
}

export interface TopKEntry { classIndex: number; probability: number; logit: number }
export interface PredictionRecord { imageId: number; modelId: number; topClass: number; topProbability: number; topK: TopKEntry[] }

export interface MetricInput {
  explanationId: number; name: string; value: number | null; curve?: unknown; randomValue?: number | null;
  seed?: number; settings?: Record<string, unknown>;
  /** The evaluation protocol it was computed under (engine/protocol.ts PROTOCOL_VERSION); null: before the protocol. */
  protocol?: string | null;
}
export interface MetricRecord extends Required<Omit<MetricInput, 'curve'>> { id: number; curve: unknown; createdAt: string }

interface ModelRow { id: number; sha256: string; path: string | null; name: string; preset: string | null; feature_layer: string | null; info: string; created_at: string }
const toModel = (r: ModelRow): ModelRecord => ({
  id: r.id, sha256: r.sha256, path: r.path, name: r.name, preset: r.preset, featureLayer: r.feature_layer,
  info: parseJson(r.info, {}), createdAt: r.created_at,
});

export class ModelsRepo {
  constructor(private db: Database.Database) {}

  /** The row for a loaded model (by content hash), created or refreshed from its info. */
  ensure(info: ModelInfo): ModelRecord {
    const featureLayer = info.head.found ? info.head.featureTensor : null;
    this.db.prepare(`INSERT INTO models (sha256, path, name, preset, feature_layer, info) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT(sha256) DO UPDATE SET path = excluded.path, name = excluded.name, preset = excluded.preset,
        feature_layer = excluded.feature_layer, info = excluded.info`)
      .run(info.sha256, info.path, info.name, info.preset.name, featureLayer, canonicalJson(info));
    return this.bySha(info.sha256)!;
  }

  get(id: number): ModelRecord | undefined {
    const r = this.db.prepare('SELECT * FROM models WHERE id = ?').get(id) as ModelRow | undefined;
    return r && toModel(r);
  }

  bySha(sha256: string): ModelRecord | undefined {
    const r = this.db.prepare('SELECT * FROM models WHERE sha256 = ?').get(sha256) as ModelRow | undefined;
    return r && toModel(r);
  }

  list(): ModelRecord[] {
    return (this.db.prepare('SELECT * FROM models ORDER BY id').all() as ModelRow[]).map(toModel);
  }
}

interface RunRow { id: number; model_id: number; method: string; settings: string; seed: number; app_version: string; created_at: string }
const toRun = (r: RunRow): RunRecord => ({
  id: r.id, modelId: r.model_id, method: r.method, settings: parseJson(r.settings, {}), seed: r.seed, appVersion: r.app_version, createdAt: r.created_at,
});

/** What identifies a run (the runs table's unique key); appVersion defaults to this app's. */
export interface RunKey { modelId: number; method: string; settings: Record<string, unknown>; seed: number; appVersion?: string }

/** The key's column values, settings in canonical JSON. */
const keyOf = (x: RunKey) => [x.modelId, x.method, canonicalJson(x.settings), x.seed, x.appVersion ?? APP_VERSION] as const;

export class RunsRepo {
  constructor(private db: Database.Database) {}

  /** The run for this model, method, settings and seed (same ones: same run; by default of this app version), created if new. */
  ensure(x: RunKey): RunRecord {
    this.db.prepare(`INSERT INTO runs (model_id, method, settings, seed, app_version) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(model_id, method, settings, seed, app_version) DO NOTHING`).run(...keyOf(x));
    return this.find(x)!;
  }

  /** The run ensure would return, if it exists already (e.g. to skip maps a job would make again). */
  find(x: RunKey): RunRecord | undefined {
    const r = this.db.prepare('SELECT * FROM runs WHERE model_id = ? AND method = ? AND settings = ? AND seed = ? AND app_version = ?')
      .get(...keyOf(x)) as RunRow | undefined;
    return r && toRun(r);
  }

  get(id: number): RunRecord | undefined {
    const r = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    return r && toRun(r);
  }

  list(filter: { modelId?: number; method?: string } = {}): RunRecord[] {
    return (this.db.prepare(`SELECT * FROM runs WHERE (@modelId IS NULL OR model_id = @modelId) AND (@method IS NULL OR method = @method) ORDER BY id`)
      .all({ modelId: filter.modelId ?? null, method: filter.method ?? null }) as RunRow[]).map(toRun);
  }
}

interface ExplanationRow {
  id: number; image_id: number; run_id: number; method: string; model_id: number; image_sha256: string | null; target_class: number;
  score_kind: ScoreKind; map_width: number; map_height: number; evaluations: number; millis: number; extras: string; created_at: string;
  map?: Buffer; native_width?: number | null; native_height?: number | null; native?: Buffer | null; settings?: string; seed?: number;
  outdated: number;
}
const toSummary = (r: ExplanationRow): ExplanationSummary => ({
  id: r.id, imageId: r.image_id, runId: r.run_id, method: r.method, modelId: r.model_id, imageSha256: r.image_sha256,
  targetClass: r.target_class, scoreKind: r.score_kind, mapWidth: r.map_width, mapHeight: r.map_height,
  evaluations: r.evaluations, millis: r.millis, extras: parseJson(r.extras, {}), createdAt: r.created_at, outdated: r.outdated === 1,
});
const SUMMARY_COLS = `e.id, e.image_id, e.run_id, r.method, r.model_id, e.image_sha256, e.target_class, e.score_kind, e.map_width,
  e.map_height, e.evaluations, e.millis, e.extras, e.created_at,
  (e.image_sha256 IS NOT NULL AND e.image_sha256 IS NOT (SELECT sha256 FROM images WHERE id = e.image_id)) AS outdated`;

export class ExplanationsRepo {
  constructor(private db: Database.Database) {}

  /** Stores an explanation; storing the same (run, image, target) again replaces it (same id). */
  save(x: { imageId: number; runId: number; imageSha256?: string | null; explanation: Explanation }): number {
    const e = x.explanation;
    const row = this.db.prepare(`INSERT INTO explanations (image_id, run_id, image_sha256, target_class, score_kind, map_width, map_height, map,
        native_width, native_height, native, extras, evaluations, millis)
      VALUES (@imageId, @runId, @sha, @targetClass, @scoreKind, @mw, @mh, @map, @nw, @nh, @native, @extras, @evaluations, @millis)
      ON CONFLICT(run_id, image_id, target_class, score_kind) DO UPDATE SET image_sha256 = excluded.image_sha256,
        map_width = excluded.map_width, map_height = excluded.map_height, map = excluded.map, native_width = excluded.native_width,
        native_height = excluded.native_height, native = excluded.native, extras = excluded.extras,
        evaluations = excluded.evaluations, millis = excluded.millis, created_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
      RETURNING id`).get({
      imageId: x.imageId, runId: x.runId, sha: x.imageSha256 ?? null, targetClass: e.target.classIndex, scoreKind: e.target.score,
      mw: e.map.width, mh: e.map.height, map: mapToBlob(e.map),
      nw: e.native?.width ?? null, nh: e.native?.height ?? null, native: e.native ? mapToBlob(e.native) : null,
      extras: canonicalJson(e.extras ?? {}), evaluations: e.evaluations, millis: e.millis,
    }) as { id: number };
    return row.id;
  }

  get(id: number): StoredExplanation | undefined {
    const r = this.db.prepare(`SELECT ${SUMMARY_COLS}, e.map, e.native_width, e.native_height, e.native, r.settings, r.seed
      FROM explanations e JOIN runs r ON r.id = e.run_id WHERE e.id = ?`).get(id) as ExplanationRow | undefined;
    if (!r) return undefined;
    return {
      ...toSummary(r),
      map: blobToMap(r.map!, r.map_width, r.map_height),
      native: r.native ? blobToMap(r.native, r.native_width!, r.native_height!) : null,
      settings: parseJson(r.settings, {}), seed: r.seed!,
    };
  }

  /** Explanations (without maps) of an image, a run, a method or a model; outdated ones only when asked for. */
  list(filter: { imageId?: number; runId?: number; method?: string; modelId?: number; limit?: number; afterId?: number; includeOutdated?: boolean } = {}): ExplanationSummary[] {
    return (this.db.prepare(`SELECT ${SUMMARY_COLS} FROM explanations e JOIN runs r ON r.id = e.run_id
      WHERE (@imageId IS NULL OR e.image_id = @imageId) AND (@runId IS NULL OR e.run_id = @runId)
        AND (@method IS NULL OR r.method = @method) AND (@modelId IS NULL OR r.model_id = @modelId) AND e.id > @afterId
        AND (@all = 1 OR e.image_sha256 IS NULL OR e.image_sha256 = (SELECT sha256 FROM images WHERE id = e.image_id))
      ORDER BY e.id LIMIT @limit`).all({
      all: filter.includeOutdated ? 1 : 0,
      imageId: filter.imageId ?? null, runId: filter.runId ?? null, method: filter.method ?? null, modelId: filter.modelId ?? null,
      afterId: filter.afterId ?? 0, limit: filter.limit ?? -1,
    }) as ExplanationRow[]).map(toSummary);
  }

  count(filter: { runId?: number } = {}): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM explanations WHERE (@runId IS NULL OR run_id = @runId)')
      .get({ runId: filter.runId ?? null }) as { n: number }).n;
  }
}

export class PredictionsRepo {
  constructor(private db: Database.Database) {}

  save(x: { imageId: number; modelId: number; topK: TopKEntry[] }): void {
    if (x.topK.length === 0) throw new SaliencyError('a prediction needs at least one class', 'BAD_PREDICTION');
    this.db.prepare(`INSERT INTO predictions (image_id, model_id, top_class, top_probability, top_k) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(image_id, model_id) DO UPDATE SET top_class = excluded.top_class, top_probability = excluded.top_probability,
        top_k = excluded.top_k, created_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')`)
      .run(x.imageId, x.modelId, x.topK[0].classIndex, x.topK[0].probability, JSON.stringify(x.topK));
  }

  get(imageId: number, modelId: number): PredictionRecord | undefined {
    const r = this.db.prepare('SELECT * FROM predictions WHERE image_id = ? AND model_id = ?').get(imageId, modelId) as
      { image_id: number; model_id: number; top_class: number; top_probability: number; top_k: string } | undefined;
    return r && { imageId: r.image_id, modelId: r.model_id, topClass: r.top_class, topProbability: r.top_probability, topK: JSON.parse(r.top_k) };
  }
}

interface MetricRow {
  id: number; explanation_id: number; name: string; value: number | null; curve: string | null; random_value: number | null; seed: number; settings: string;
  protocol: string | null; created_at: string;
}

export class MetricsRepo {
  constructor(private db: Database.Database) {}

  /** Stores a metric value; the same (explanation, name, seed, settings) again replaces it (protocol included). */
  save(m: MetricInput): number {
    return (this.db.prepare(`INSERT INTO metrics (explanation_id, name, value, curve, random_value, seed, settings, protocol) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(explanation_id, name, seed, settings) DO UPDATE SET value = excluded.value, curve = excluded.curve,
        random_value = excluded.random_value, protocol = excluded.protocol, created_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') RETURNING id`)
      .get(m.explanationId, m.name, m.value, m.curve === undefined ? null : canonicalJson(m.curve), m.randomValue ?? null, m.seed ?? 0,
        canonicalJson(m.settings ?? {}), m.protocol ?? null) as { id: number }).id;
  }

  list(filter: { explanationId?: number; name?: string } = {}): MetricRecord[] {
    return (this.db.prepare(`SELECT * FROM metrics WHERE (@e IS NULL OR explanation_id = @e) AND (@n IS NULL OR name = @n) ORDER BY id`)
      .all({ e: filter.explanationId ?? null, n: filter.name ?? null }) as MetricRow[]).map((r) => ({
      id: r.id, explanationId: r.explanation_id, name: r.name, value: r.value, curve: parseJson(r.curve, null),
      randomValue: r.random_value, seed: r.seed, settings: parseJson(r.settings, {}), protocol: r.protocol, createdAt: r.created_at,
    }));
  }
}
