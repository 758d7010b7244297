// The store: one SQLite file holding libraries, images, models, runs, explanations, predictions, metrics,
// ratings, annotations, ensemble weight sets, reports and batch jobs. openStore() is the entry point; every
// table is reached through a small typed repository (store.images.page(...), store.explanations.save(...)).
import path from 'node:path';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { openDatabase, type OpenOptions } from './db.ts';
import { CACHE_MARKER, cacheDirFor, resolveDbPath } from './paths.ts';
import { ImagesRepo, LibrariesRepo } from './images-repo.ts';
import { ExplanationsRepo, MetricsRepo, ModelsRepo, PredictionsRepo, RunsRepo } from './results-repo.ts';
import { AnnotationsRepo, RatingsRepo, ReportsRepo, WeightSetsRepo } from './feedback-repo.ts';
import { JobsRepo } from './jobs-repo.ts';
import { SaliencyError } from '../types.ts';
import { sqliteProblem } from './db-errors.ts';

export interface StoreOptions extends OpenOptions {
  /** Where caches (thumbnails) go; default: a folder beside the database file. */
  cacheDir?: string;
}

export class Store {
  readonly libraries: LibrariesRepo;
  readonly images: ImagesRepo;
  readonly models: ModelsRepo;
  readonly runs: RunsRepo;
  readonly explanations: ExplanationsRepo;
  readonly predictions: PredictionsRepo;
  readonly metrics: MetricsRepo;
  readonly ratings: RatingsRepo;
  readonly annotations: AnnotationsRepo;
  readonly weightSets: WeightSetsRepo;
  readonly reports: ReportsRepo;
  readonly jobs: JobsRepo;

  constructor(readonly db: Database.Database, readonly path: string, readonly cacheDir: string) {
    this.libraries = new LibrariesRepo(db);
    this.images = new ImagesRepo(db);
    this.models = new ModelsRepo(db);
    this.runs = new RunsRepo(db);
    this.explanations = new ExplanationsRepo(db);
    this.predictions = new PredictionsRepo(db);
    this.metrics = new MetricsRepo(db);
    this.ratings = new RatingsRepo(db);
    this.annotations = new AnnotationsRepo(db);
    this.weightSets = new WeightSetsRepo(db);
    this.reports = new ReportsRepo(db);
    this.jobs = new JobsRepo(db);
  }

  /** Runs fn in one transaction (BEGIN IMMEDIATE: the write lock is taken up front, so it cannot fail half-way on a lock). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** The thumbnail file of an image's content (it may not be made yet; see library/thumbnails.ts). */
  thumbnailPath(sha256: string): string {
    return path.join(this.cacheDir, 'thumbnails', sha256.slice(0, 2), `${sha256}.webp`);
  }

  /** Creates the cache folder (marked, so scans skip it) and returns it. */
  ensureCacheDir(): string {
    if (!existsSync(path.join(this.cacheDir, CACHE_MARKER))) {
      mkdirSync(this.cacheDir, { recursive: true });
      writeFileSync(path.join(this.cacheDir, CACHE_MARKER), 'Saliency Studio cache (thumbnails); safe to delete.\n');
    }
    return this.cacheDir;
  }

  /** 'ok' or SQLite's list of problems. */
  integrityCheck(): string {
    return (this.db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('\n');
  }

  schemaVersion(): number {
    return (this.db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number }).v;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Opens (creating and migrating if needed) the database at file, else $SALIENCY_DB, else the user data folder. */
export function openStore(file?: string, opts: StoreOptions = {}): Store {
  const dbPath = resolveDbPath(file);
  if (opts.readonly && !existsSync(dbPath)) throw new SaliencyError(`database ${dbPath} does not exist`, 'NOT_FOUND');
  let db: Database.Database;
  try {
    db = openDatabase(dbPath, opts);
  } catch (e) {
    // A corrupt, foreign or read-only file: one line naming it, whatever step of opening found out.
    if (e instanceof SaliencyError) throw e;
    throw new SaliencyError(`database ${dbPath}: ${sqliteProblem(e) ?? String((e as Error).message).split('\n')[0]}`, 'DB_OPEN');
  }
  return new Store(db, dbPath, opts.cacheDir ?? cacheDirFor(dbPath));
}
