// The database schema as an ordered list of migrations. A database records the versions applied in
// schema_version; opening it applies the missing ones, each in its own transaction. Never edit a released
// migration: append a new one.
import type Database from 'better-sqlite3';
import { SaliencyError } from '../types.ts';

export interface Migration { version: number; name: string; sql: string }

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE libraries (
  id INTEGER PRIMARY KEY,
  root TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  labels_source TEXT NOT NULL DEFAULT 'auto',  -- 'auto' (ImageNet wnid in the file or folder name) | 'none'
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  scanned_at TEXT
);
CREATE TABLE images (
  id INTEGER PRIMARY KEY,
  library_id INTEGER NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
  rel_path TEXT NOT NULL,
  sha256 TEXT,
  bytes INTEGER NOT NULL,
  mtime_ms INTEGER NOT NULL,
  width INTEGER,
  height INTEGER,
  true_class INTEGER,
  error TEXT,                         -- why the file could not be read or decoded, else NULL
  missing INTEGER NOT NULL DEFAULT 0, -- 1 when the file vanished (kept: results and ratings refer to it)
  added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  UNIQUE (library_id, rel_path)
);
CREATE INDEX images_sha256 ON images(sha256);
CREATE INDEX images_true_class ON images(library_id, true_class);

CREATE TABLE models (
  id INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL UNIQUE,
  path TEXT,
  name TEXT NOT NULL,
  preset TEXT,
  feature_layer TEXT,
  info TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
  method TEXT NOT NULL,
  settings TEXT NOT NULL,     -- canonical JSON (sorted keys): the same settings give the same run
  seed INTEGER NOT NULL,
  app_version TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  UNIQUE (model_id, method, settings, seed, app_version)
);
CREATE INDEX runs_method ON runs(method);

CREATE TABLE explanations (
  id INTEGER PRIMARY KEY,
  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  image_sha256 TEXT,          -- the content that was explained (a rescan may find the file changed)
  target_class INTEGER NOT NULL,
  score_kind TEXT NOT NULL CHECK (score_kind IN ('logit', 'probability')),
  map_width INTEGER NOT NULL,
  map_height INTEGER NOT NULL,
  map BLOB NOT NULL,          -- float32 little-endian, row-major, map_width x map_height
  native_width INTEGER,
  native_height INTEGER,
  native BLOB,
  extras TEXT NOT NULL DEFAULT '{}',
  evaluations INTEGER NOT NULL DEFAULT 0,
  millis REAL NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  UNIQUE (run_id, image_id, target_class, score_kind)
);
CREATE INDEX explanations_image ON explanations(image_id);

CREATE TABLE predictions (
  id INTEGER PRIMARY KEY,
  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
  top_class INTEGER NOT NULL,
  top_probability REAL NOT NULL,
  top_k TEXT NOT NULL,        -- JSON [{classIndex, probability, logit}]
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  UNIQUE (image_id, model_id)
);
CREATE INDEX predictions_model_class ON predictions(model_id, top_class);

CREATE TABLE metrics (
  id INTEGER PRIMARY KEY,
  explanation_id INTEGER NOT NULL REFERENCES explanations(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  value REAL,
  curve TEXT,                 -- JSON, e.g. {"x":[...],"y":[...]}
  random_value REAL,          -- the same metric for a random map (control)
  seed INTEGER NOT NULL DEFAULT 0,
  settings TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  UNIQUE (explanation_id, name, seed, settings)
);
CREATE INDEX metrics_name ON metrics(name);

CREATE TABLE ratings (
  id INTEGER PRIMARY KEY,
  rater TEXT NOT NULL,
  explanation_id INTEGER NOT NULL REFERENCES explanations(id) ON DELETE CASCADE,
  likert INTEGER NOT NULL CHECK (likert BETWEEN 1 AND 5),
  comment TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  UNIQUE (rater, explanation_id)
);
CREATE INDEX ratings_explanation ON ratings(explanation_id);
CREATE TABLE pairwise_choices (
  id INTEGER PRIMARY KEY,
  rater TEXT NOT NULL,
  explanation_a INTEGER NOT NULL REFERENCES explanations(id) ON DELETE CASCADE,
  explanation_b INTEGER NOT NULL REFERENCES explanations(id) ON DELETE CASCADE,
  winner TEXT NOT NULL CHECK (winner IN ('a', 'b', 'tie')),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  CHECK (explanation_a <> explanation_b)
);

CREATE TABLE annotations (
  id INTEGER PRIMARY KEY,
  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('box', 'mask', 'caption', 'concepts')),
  data TEXT NOT NULL DEFAULT '{}',  -- JSON: boxes, caption text, concept words, mask shape
  blob BLOB,                        -- mask pixels
  author TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE INDEX annotations_image ON annotations(image_id, kind);

CREATE TABLE weight_sets (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL CHECK (source IN ('metrics', 'ratings', 'manual', 'learned')),
  weights TEXT NOT NULL,      -- JSON {method: weight}
  provenance TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);

CREATE TABLE reports (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  path TEXT NOT NULL,
  made_from TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);

CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL DEFAULT 'explain',
  library_id INTEGER REFERENCES libraries(id) ON DELETE SET NULL,
  model_id INTEGER NOT NULL REFERENCES models(id),
  model_path TEXT NOT NULL,
  params TEXT NOT NULL,       -- JSON: methods, score kind, seed, settings
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'paused', 'cancelled', 'done')),
  pid INTEGER,                -- process running it (a 'running' job whose process is gone crashed)
  error TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE job_items (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  method TEXT NOT NULL,       -- method spec as given, e.g. 'gradcam' or 'gradcam:probability'
  run_id INTEGER NOT NULL REFERENCES runs(id),
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'error')),
  explanation_id INTEGER REFERENCES explanations(id) ON DELETE SET NULL,
  error TEXT,
  millis REAL,
  updated_at TEXT,
  UNIQUE (job_id, image_id, method)
);
CREATE INDEX job_items_status ON job_items(job_id, status);
`,
  },
  {
    version: 2,
    name: 'ensemble job items: run_id is null until the ensemble is built',
    // SQLite cannot drop NOT NULL in place: the table is rebuilt (nothing references job_items).
    sql: `
CREATE TABLE job_items_v2 (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  method TEXT NOT NULL,       -- method spec as given, e.g. 'gradcam' or 'gradcam:probability', or 'ensemble:<combiner>'
  run_id INTEGER REFERENCES runs(id), -- null for an ensemble item: its run depends on the members (see explanation_id)
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'error')),
  explanation_id INTEGER REFERENCES explanations(id) ON DELETE SET NULL,
  error TEXT,
  millis REAL,
  updated_at TEXT,
  UNIQUE (job_id, image_id, method)
);
INSERT INTO job_items_v2 (id, job_id, image_id, method, run_id, status, explanation_id, error, millis, updated_at)
  SELECT id, job_id, image_id, method, run_id, status, explanation_id, error, millis, updated_at FROM job_items;
DROP TABLE job_items;
ALTER TABLE job_items_v2 RENAME TO job_items;
CREATE INDEX job_items_status ON job_items(job_id, status);
`,
  },
  {
    version: 3,
    name: 'libraries: concept class groups (from an imported captions file) for the concept explanations',
    sql: 'ALTER TABLE libraries ADD COLUMN concept_groups TEXT; -- JSON {"<class name>": [index or [from, to], ...]} or NULL',
  },
  {
    version: 4,
    name: 'metrics: the evaluation protocol a value was computed under (docs/protocol.md); NULL = before the protocol',
    sql: "ALTER TABLE metrics ADD COLUMN protocol TEXT; -- e.g. 'sal-1'; NULL: 'pre-protocol' (curves followed the map's own score kind)",
  },
  {
    version: 5,
    name: 'model_costs: measured milliseconds per model evaluation of a model on a machine (the cost planner, jobs/plan.ts)',
    sql: `
CREATE TABLE model_costs (
  model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
  machine TEXT NOT NULL,      -- CPU model x logical cores, provider and threads (jobs/plan.ts machineKey)
  batch_size INTEGER NOT NULL,
  ms_per_evaluation REAL NOT NULL,
  measured_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  PRIMARY KEY (model_id, machine, batch_size)
);`,
  },
  {
    version: 6,
    name: 'job_items: claims, so several processes running one job split its images (jobs-repo.ts claimImage)',
    sql: `
ALTER TABLE job_items ADD COLUMN claimed_by TEXT; -- '<pid>@<host>' of the runner doing (or that did) the item; NULL: free
ALTER TABLE job_items ADD COLUMN claimed_at TEXT; -- refreshed by the holder while it works; an old one is taken over
CREATE INDEX job_items_claims ON job_items(job_id, status, claimed_by);`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export function migrate(db: Database.Database): { from: number; to: number } {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))`);
  const current = (db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null }).v ?? 0;
  if (current > SCHEMA_VERSION) {
    throw new SaliencyError(`the database has schema version ${current}, newer than this app's ${SCHEMA_VERSION}: update the app`, 'DB_TOO_NEW');
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    // IMMEDIATE: two processes opening a fresh file at once do not both migrate.
    db.transaction(() => {
      const again = (db.prepare('SELECT 1 FROM schema_version WHERE version = ?').get(m.version));
      if (again) return;
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_version (version, name) VALUES (?, ?)').run(m.version, m.name);
    }).immediate();
  }
  return { from: current, to: SCHEMA_VERSION };
}
