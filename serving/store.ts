/**
 * The serving log in one SQLite file: labelled training records, every prediction served,
 * delayed ground truth, and which versions each model serves. The model server writes it
 * while Temporal activities read it (and append records) from other processes, hence WAL
 * (readers never block the writer), a busy timeout (writers queue instead of failing) and
 * `BEGIN IMMEDIATE` for every read-then-write transaction.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TrainingWindow } from '../core/spec.ts';
import { FeedbackConflictError, UnknownLabelError, UnknownPredictionError } from './errors.ts';

export interface DeploymentState {
  champion: { version: string };
  canary?: { version: string; weight: number };
  updatedAt: string;
  reason: string;
}

export type Role = 'champion' | 'canary';
export type Features = Record<string, unknown>;

export interface LabelledRecord {
  features: Features;
  label: string;
  source: string;
}

export interface PredictionLog {
  id: string;
  model: string;
  version: string;
  role: Role;
  features: Features;
  label: string;
  confidence: number;
  probabilities: Record<string, number>;
}

export interface LabelledPrediction {
  feedbackId: number;
  version: string;
  role: Role;
  predicted: string;
  truth: string;
}

export interface StoreOptions {
  /** Time source for created_at columns; tests pin it to make "since" windows exact. */
  now?: () => Date;
}

// AUTOINCREMENT so an id is never handed out twice: consumers keep "everything after id N"
// watermarks (records for retraining, feedback for monitoring) that must stay meaningful.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  model TEXT NOT NULL,
  features TEXT NOT NULL,
  label TEXT NOT NULL,
  source TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_model ON records (model, id);

CREATE TABLE IF NOT EXISTS predictions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  model TEXT NOT NULL,
  version TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('champion', 'canary')),
  features TEXT NOT NULL,
  label TEXT NOT NULL,
  confidence REAL NOT NULL,
  probabilities TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS predictions_by_model ON predictions (model, seq);
CREATE INDEX IF NOT EXISTS predictions_by_time ON predictions (model, created_at);

CREATE TABLE IF NOT EXISTS feedback (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  prediction_id TEXT NOT NULL UNIQUE REFERENCES predictions (id),
  model TEXT NOT NULL,
  label TEXT NOT NULL,
  record_id INTEGER NOT NULL REFERENCES records (id),
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_by_model ON feedback (model, id);

CREATE TABLE IF NOT EXISTS deployments (
  model TEXT PRIMARY KEY,
  state TEXT NOT NULL
);
`;

interface PredictionRow {
  model: string;
  features: string;
  probabilities: string;
}

export class Store {
  private readonly statements;

  private constructor(
    private readonly db: Database.Database,
    private readonly now: () => Date,
  ) {
    this.statements = {
      insertRecord: db.prepare(
        'INSERT INTO records (model, features, label, source, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      allRecords: db.prepare('SELECT id, features, label, source FROM records WHERE model = ? ORDER BY id'),
      lastRecords: db.prepare(
        'SELECT * FROM (SELECT id, features, label, source FROM records WHERE model = ? ORDER BY id DESC LIMIT ?) ORDER BY id',
      ),
      maxRecordId: db.prepare('SELECT coalesce(max(id), 0) AS id FROM records WHERE model = ?').pluck(),
      countRecordsSince: db.prepare('SELECT count(*) FROM records WHERE model = ? AND id > ?').pluck(),
      insertPrediction: db.prepare(
        `INSERT INTO predictions (id, model, version, role, features, label, confidence, probabilities, created_at)
         VALUES (@id, @model, @version, @role, @features, @label, @confidence, @probabilities, @createdAt)`,
      ),
      prediction: db.prepare('SELECT model, features, probabilities FROM predictions WHERE id = ?'),
      feedbackFor: db.prepare('SELECT id, label FROM feedback WHERE prediction_id = ?'),
      insertFeedback: db.prepare(
        'INSERT INTO feedback (prediction_id, model, label, record_id, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      recentPredictions: db.prepare(
        `SELECT * FROM (SELECT seq, features, label, confidence, version FROM predictions
                        WHERE model = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq`,
      ),
      labelledSince: db.prepare(
        `SELECT f.id AS feedbackId, p.version, p.role, p.label AS predicted, f.label AS truth
         FROM feedback f JOIN predictions p ON p.id = f.prediction_id
         WHERE f.model = ? AND f.id > ? ORDER BY f.id`,
      ),
      maxFeedbackId: db.prepare('SELECT coalesce(max(id), 0) FROM feedback WHERE model = ?').pluck(),
      liveAccuracy: db.prepare(
        `SELECT p.version, count(*) AS n, sum(p.label = f.label) AS correct
         FROM predictions p JOIN feedback f ON f.prediction_id = p.id
         WHERE p.model = ? AND p.created_at >= ? GROUP BY p.version`,
      ),
      deployment: db.prepare('SELECT state FROM deployments WHERE model = ?').pluck(),
      upsertDeployment: db.prepare(
        'INSERT INTO deployments (model, state) VALUES (?, ?) ON CONFLICT (model) DO UPDATE SET state = excluded.state',
      ),
      deployments: db.prepare('SELECT model, state FROM deployments ORDER BY model'),
    };
  }

  static open(path: string, options: StoreOptions = {}): Store {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    // busy_timeout first: switching to WAL and creating the schema take locks that another
    // process opening the same file may hold at that moment.
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.transaction(() => db.exec(SCHEMA)).immediate();
    return new Store(db, options.now ?? (() => new Date()));
  }

  close(): void {
    this.db.close();
  }

  // ---- labelled training data ---------------------------------------------------------------

  addRecords(model: string, records: LabelledRecord[]): number {
    const createdAt = this.now().toISOString();
    this.db
      .transaction(() => {
        for (const r of records) this.statements.insertRecord.run(model, JSON.stringify(r.features), r.label, r.source, createdAt);
      })
      .immediate();
    return records.length;
  }

  /** In ascending id order, i.e. the order they arrived. */
  readRecords(model: string, window: TrainingWindow): Array<{ id: number } & LabelledRecord> {
    const rows = (
      window.kind === 'all' ? this.statements.allRecords.all(model) : this.statements.lastRecords.all(model, window.rows)
    ) as Array<{ id: number; features: string; label: string; source: string }>;
    return rows.map((r) => ({ id: r.id, features: JSON.parse(r.features), label: r.label, source: r.source }));
  }

  /** 0 when the model has no records. */
  maxRecordId(model: string): number {
    return this.statements.maxRecordId.get(model) as number;
  }

  countRecordsSince(model: string, afterId: number): number {
    return this.statements.countRecordsSince.get(model, afterId) as number;
  }

  // ---- predictions and feedback --------------------------------------------------------------

  logPredictions(rows: PredictionLog[]): void {
    const createdAt = this.now().toISOString();
    this.db
      .transaction(() => {
        for (const r of rows) {
          this.statements.insertPrediction.run({
            ...r,
            features: JSON.stringify(r.features),
            probabilities: JSON.stringify(r.probabilities),
            createdAt,
          });
        }
      })
      .immediate();
  }

  /**
   * Delayed ground truth. Also appends a record (source 'feedback') so labelled production
   * data becomes training data. The same feedback twice is idempotent (returns the first
   * feedback id); a different label for a labelled prediction is a FeedbackConflictError.
   * With `model`, a prediction of another model counts as unknown.
   */
  addFeedback(predictionId: string, label: string, model?: string): number {
    return this.addFeedbackMany([{ predictionId, label }], model)[0];
  }

  /** All or nothing: the first bad item rejects the whole batch. Returns feedback ids in order. */
  addFeedbackMany(items: Array<{ predictionId: string; label: string }>, model?: string): number[] {
    return this.db.transaction(() => items.map((item) => this.recordFeedback(item.predictionId, item.label, model))).immediate();
  }

  private recordFeedback(predictionId: string, label: string, model: string | undefined): number {
    const prediction = this.statements.prediction.get(predictionId) as PredictionRow | undefined;
    if (!prediction || (model !== undefined && prediction.model !== model)) throw new UnknownPredictionError(predictionId, model);
    const existing = this.statements.feedbackFor.get(predictionId) as { id: number; label: string } | undefined;
    if (existing) {
      if (existing.label === label) return existing.id;
      throw new FeedbackConflictError(predictionId, existing.label, label);
    }
    // The prediction's probabilities name every class its model can output.
    const classes = Object.keys(JSON.parse(prediction.probabilities));
    if (!classes.includes(label)) throw new UnknownLabelError(predictionId, label, classes);
    const createdAt = this.now().toISOString();
    const recordId = this.statements.insertRecord.run(prediction.model, prediction.features, label, 'feedback', createdAt).lastInsertRowid;
    return Number(this.statements.insertFeedback.run(predictionId, prediction.model, label, recordId, createdAt).lastInsertRowid);
  }

  /** The `limit` most recent predictions, oldest first. */
  recentPredictions(model: string, limit: number): Array<{ features: Features; label: string; confidence: number; version: string }> {
    const rows = this.statements.recentPredictions.all(model, limit) as Array<{
      features: string;
      label: string;
      confidence: number;
      version: string;
    }>;
    return rows.map((r) => ({ features: JSON.parse(r.features), label: r.label, confidence: r.confidence, version: r.version }));
  }

  /** Labelled predictions whose feedback id > afterFeedbackId, in feedback order. */
  labelledSince(model: string, afterFeedbackId: number): LabelledPrediction[] {
    return this.statements.labelledSince.all(model, afterFeedbackId) as LabelledPrediction[];
  }

  /** 0 when the model has no feedback. */
  maxFeedbackId(model: string): number {
    return this.statements.maxFeedbackId.get(model) as number;
  }

  /** Per version: labelled predictions made at or after `sinceIso`, and how many were right. */
  liveAccuracy(model: string, sinceIso: string): Record<string, { n: number; correct: number }> {
    const since = new Date(sinceIso);
    if (Number.isNaN(since.getTime())) throw new RangeError(`"${sinceIso}" is not an ISO time`);
    // Stored times are all toISOString() output, so normalising makes text order time order.
    const rows = this.statements.liveAccuracy.all(model, since.toISOString()) as Array<{ version: string; n: number; correct: number }>;
    return Object.fromEntries(rows.map((r) => [r.version, { n: r.n, correct: r.correct }]));
  }

  // ---- deployments ----------------------------------------------------------------------------

  getDeployment(model: string): DeploymentState | undefined {
    const state = this.statements.deployment.get(model) as string | undefined;
    return state === undefined ? undefined : JSON.parse(state);
  }

  setDeployment(model: string, state: DeploymentState): void {
    this.statements.upsertDeployment.run(model, JSON.stringify(state));
  }

  listDeployments(): Array<{ model: string } & DeploymentState> {
    const rows = this.statements.deployments.all() as Array<{ model: string; state: string }>;
    return rows.map((r) => ({ model: r.model, ...JSON.parse(r.state) }));
  }
}
