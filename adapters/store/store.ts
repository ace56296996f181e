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
import type { TrainingWindow } from '../../core/spec.ts';
import { parseNumeric } from '../../core/validation.ts';
import { FeedbackConflictError, LabelTypeError, UnknownLabelError, UnknownPredictionError } from '../../core/errors.ts';

export interface DeploymentState {
  champion: { version: string };
  canary?: { version: string; weight: number };
  updatedAt: string;
  reason: string;
}

export type Role = 'champion' | 'canary';
export type Features = Record<string, unknown>;
/** What the predicting model does (ml/bundle.ts Predictor.task); stored with every prediction. */
export type Task = 'classification' | 'regression';

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
  /** Default 'classification'. */
  task?: Task;
  features: Features;
  /** The predicted class; a regression model's predicted number as text (String(value)). */
  label: string;
  /** The predicted class's probability; null for a regression model, which has none. */
  confidence: number | null;
  /** {} for a regression model. */
  probabilities: Record<string, number>;
}

export interface LabelledPrediction {
  feedbackId: number;
  version: string;
  role: Role;
  predicted: string;
  truth: string;
}

export type FeedbackKind = 'label' | 'accepted' | 'overridden';

/** What a user said about a prediction: its true label, that it was right, or that it was wrong. */
export interface FeedbackInput {
  kind?: FeedbackKind;
  /**
   * Required for 'label'; optional for 'overridden'; ignored for 'accepted'. A classifier's class
   * (a string); a regression model's true value, a finite number or numeric string, stored as the
   * text of the number (String(Number(label))) like every label.
   */
  label?: string | number;
}

export interface FeedbackEvent {
  feedbackId: number;
  version: string;
  role: Role;
  predicted: string;
  feedback: { kind: 'label'; label: string } | { kind: 'accepted' } | { kind: 'overridden'; label?: string };
  probabilities: Record<string, number>;
  features: Features;
}

export interface LoggedPrediction {
  seq: number;
  version: string;
  role: Role;
  features: Features;
  label: string;
  probabilities: Record<string, number>;
}

/** A source's records of one model: in service (records) and quarantined. */
export interface SourceSummary {
  source: string;
  records: number;
  quarantined: number;
  firstId: number;
  lastId: number;
  firstAt: string;
  lastAt: string;
}

export interface StoreOptions {
  /** Time source for created_at columns; tests pin it to make "since" windows exact. */
  now?: () => Date;
}

// AUTOINCREMENT so an id is never handed out twice: consumers keep "everything after id N"
// watermarks (records for retraining, feedback for monitoring) that must stay meaningful.
const FEEDBACK_COLUMNS = `(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  prediction_id TEXT NOT NULL UNIQUE REFERENCES predictions (id),
  model TEXT NOT NULL,
  kind TEXT NOT NULL DEFAULT 'label' CHECK (kind IN ('label', 'accepted', 'overridden')),
  label TEXT,
  record_id INTEGER REFERENCES records (id),
  created_at TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT 'anonymous'
)`;

// seq: AUTOINCREMENT for the same reason (monitoring reads "predictions after seq N").
const PREDICTION_COLUMNS = `(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  model TEXT NOT NULL,
  version TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('champion', 'canary')),
  task TEXT NOT NULL DEFAULT 'classification' CHECK (task IN ('classification', 'regression')),
  features TEXT NOT NULL,
  label TEXT NOT NULL,
  confidence REAL CHECK (confidence IS NOT NULL OR task = 'regression'),
  probabilities TEXT NOT NULL,
  created_at TEXT NOT NULL
)`;

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

-- task 'regression': label is the predicted number as text, probabilities '{}', confidence NULL.
CREATE TABLE IF NOT EXISTS predictions ${PREDICTION_COLUMNS};
CREATE INDEX IF NOT EXISTS predictions_by_model ON predictions (model, seq);
CREATE INDEX IF NOT EXISTS predictions_by_time ON predictions (model, created_at);

-- kind 'label': the true label; 'accepted': the prediction was right (label = the predicted one);
-- 'overridden': it was wrong, with the right label when the user gave one. A feedback with a
-- label also becomes a labelled record (record_id) for the next training.
CREATE TABLE IF NOT EXISTS feedback ${FEEDBACK_COLUMNS};
CREATE INDEX IF NOT EXISTS feedback_by_model ON feedback (model, id);

CREATE TABLE IF NOT EXISTS deployments (
  model TEXT PRIMARY KEY,
  state TEXT NOT NULL
);

-- The alert ledger: one row per alert, keyed by the idempotency key its workflow gave it.
-- Admitted alerts (suppressed IS NULL) feed the rate limit and dedup; delivered is a JSON
-- array of the channels that took it, so a retry only tries the others.
CREATE TABLE IF NOT EXISTS alerts (
  id TEXT PRIMARY KEY,
  model TEXT NOT NULL,
  kind TEXT NOT NULL,
  dedup_key TEXT,
  suppressed TEXT,
  delivered TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_by_model_kind ON alerts (model, kind, created_at);

-- Records taken out of every training window by source (Store.quarantineSource), ids kept so
-- restoreSource puts them back as they were; feedback_id is the feedback that made the record.
CREATE TABLE IF NOT EXISTS quarantined_records (
  id INTEGER PRIMARY KEY,
  model TEXT NOT NULL,
  features TEXT NOT NULL,
  label TEXT NOT NULL,
  source TEXT NOT NULL,
  created_at TEXT NOT NULL,
  feedback_id INTEGER,
  quarantined_at TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS quarantined_records_by_source ON quarantined_records (model, source);

-- API keys for predict and feedback, per model. Only the SHA-256 of a key is kept (keys are 256
-- random bits, so a plain hash cannot be brute-forced). A model with any row here, revoked or
-- not, requires a key: revoking the last key locks the model rather than opening it.
CREATE TABLE IF NOT EXISTS api_keys (
  model TEXT NOT NULL,
  name TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  revoked_at TEXT,
  PRIMARY KEY (model, name)
);
`;

export interface AlertClaim {
  /** The idempotency key: the same id is the same alert, however often it is sent. */
  id: string;
  model: string;
  kind: string;
  dedupKey?: string;
}

export interface AlertSuppression {
  reason: string;
  detail: string;
}

export interface AlertLedgerEntry extends AlertClaim {
  /** ms since the epoch, from the store's clock. */
  at: number;
  suppressed?: AlertSuppression;
  delivered: string[];
}

interface AlertRow {
  id: string;
  model: string;
  kind: string;
  dedup_key: string | null;
  suppressed: string | null;
  delivered: string;
  created_at: string;
}

function alertEntry(row: AlertRow): AlertLedgerEntry {
  return {
    id: row.id,
    model: row.model,
    kind: row.kind,
    ...(row.dedup_key === null ? {} : { dedupKey: row.dedup_key }),
    at: Date.parse(row.created_at),
    ...(row.suppressed === null ? {} : { suppressed: JSON.parse(row.suppressed) }),
    delivered: JSON.parse(row.delivered),
  };
}

export interface ApiKeyInfo {
  name: string;
  createdAt: string;
  revokedAt?: string;
}

/** Who sent feedback: the name of the API key it came with, or 'anonymous'. */
export const ANONYMOUS = 'anonymous';
const FEEDBACK_SOURCE_PREFIX = 'feedback:';

/**
 * Records made from feedback have source 'feedback:<sender>' (before API keys: 'feedback', which
 * was anonymous). The sender of such a record; undefined for an imported record.
 */
export function feedbackSender(recordSource: string): string | undefined {
  if (recordSource === 'feedback') return ANONYMOUS;
  return recordSource.startsWith(FEEDBACK_SOURCE_PREFIX) ? recordSource.slice(FEEDBACK_SOURCE_PREFIX.length) : undefined;
}

interface PredictionRow {
  model: string;
  task: Task;
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
      recordsAfter: db.prepare('SELECT id, features, label, source FROM records WHERE model = ? AND id > ? ORDER BY id'),
      // Stored times are all toISOString() output, so text order is time order.
      recordsCreatedSince: db.prepare('SELECT id, features, label, source FROM records WHERE model = ? AND created_at >= ? ORDER BY id'),
      lastRecords: db.prepare(
        'SELECT * FROM (SELECT id, features, label, source FROM records WHERE model = ? ORDER BY id DESC LIMIT ?) ORDER BY id',
      ),
      maxRecordId: db.prepare('SELECT coalesce(max(id), 0) AS id FROM records WHERE model = ?').pluck(),
      countRecordsSince: db.prepare('SELECT count(*) FROM records WHERE model = ? AND id > ?').pluck(),
      insertPrediction: db.prepare(
        `INSERT INTO predictions (id, model, version, role, task, features, label, confidence, probabilities, created_at)
         VALUES (@id, @model, @version, @role, @task, @features, @label, @confidence, @probabilities, @createdAt)`,
      ),
      prediction: db.prepare('SELECT model, task, features, probabilities FROM predictions WHERE id = ?'),
      feedbackFor: db.prepare('SELECT id, kind, label FROM feedback WHERE prediction_id = ?'),
      insertFeedback: db.prepare(
        'INSERT INTO feedback (prediction_id, model, kind, label, record_id, created_at, source) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      predictionLabel: db.prepare('SELECT label FROM predictions WHERE id = ?').pluck(),
      feedbackSince: db.prepare(
        `SELECT f.id AS feedbackId, f.kind, f.label, p.version, p.role, p.label AS predicted, p.probabilities, p.features
         FROM feedback f JOIN predictions p ON p.id = f.prediction_id
         WHERE f.model = ? AND f.id > ? ORDER BY f.id`,
      ),
      maxPredictionSeq: db.prepare('SELECT coalesce(max(seq), 0) FROM predictions WHERE model = ?').pluck(),
      countPredictionsSince: db.prepare('SELECT count(*) FROM predictions WHERE model = ? AND seq > ?').pluck(),
      predictionsSince: db.prepare(
        `SELECT * FROM (SELECT seq, version, role, features, label, probabilities FROM predictions
                        WHERE model = ? AND seq > ? ORDER BY seq DESC LIMIT ?) ORDER BY seq`,
      ),
      recentPredictions: db.prepare(
        `SELECT * FROM (SELECT seq, features, label, confidence, version FROM predictions
                        WHERE model = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq`,
      ),
      labelledSince: db.prepare(
        `SELECT f.id AS feedbackId, p.version, p.role, p.label AS predicted, f.label AS truth
         FROM feedback f JOIN predictions p ON p.id = f.prediction_id
         WHERE f.model = ? AND f.id > ? AND f.label IS NOT NULL ORDER BY f.id`,
      ),
      maxFeedbackId: db.prepare('SELECT coalesce(max(id), 0) FROM feedback WHERE model = ?').pluck(),
      liveAccuracy: db.prepare(
        `SELECT p.version, count(*) AS n, sum(coalesce(p.label = f.label, 0)) AS correct
         FROM predictions p JOIN feedback f ON f.prediction_id = p.id
         WHERE p.model = ? AND p.created_at >= ? GROUP BY p.version`,
      ),
      // Labels of regression predictions and their feedback are the text of numbers (String(n)).
      liveErrors: db.prepare(
        `SELECT p.version, count(*) AS n, avg(abs(CAST(f.label AS REAL) - CAST(p.label AS REAL))) AS mae,
                avg((CAST(f.label AS REAL) - CAST(p.label AS REAL)) * (CAST(f.label AS REAL) - CAST(p.label AS REAL))) AS mse
         FROM predictions p JOIN feedback f ON f.prediction_id = p.id
         WHERE p.model = ? AND p.created_at >= ? AND p.task = 'regression' AND f.label IS NOT NULL GROUP BY p.version`,
      ),
      deployment: db.prepare('SELECT state FROM deployments WHERE model = ?').pluck(),
      upsertDeployment: db.prepare(
        'INSERT INTO deployments (model, state) VALUES (?, ?) ON CONFLICT (model) DO UPDATE SET state = excluded.state',
      ),
      deployments: db.prepare('SELECT model, state FROM deployments ORDER BY model'),
      alert: db.prepare('SELECT * FROM alerts WHERE id = ?'),
      admittedAlertsSince: db.prepare(
        'SELECT * FROM alerts WHERE model = ? AND kind = ? AND suppressed IS NULL AND created_at > ? ORDER BY created_at',
      ),
      insertAlert: db.prepare(
        `INSERT INTO alerts (id, model, kind, dedup_key, suppressed, created_at)
         VALUES (@id, @model, @kind, @dedupKey, @suppressed, @createdAt)`,
      ),
      setAlertDelivered: db.prepare('UPDATE alerts SET delivered = ? WHERE id = ?'),
      insertApiKey: db.prepare('INSERT INTO api_keys (model, name, hash, created_at) VALUES (?, ?, ?, ?)'),
      apiKeyNamed: db.prepare('SELECT name, created_at AS createdAt, revoked_at AS revokedAt FROM api_keys WHERE model = ? AND name = ?'),
      revokeApiKey: db.prepare('UPDATE api_keys SET revoked_at = ? WHERE model = ? AND name = ? AND revoked_at IS NULL'),
      apiKeys: db.prepare('SELECT name, created_at AS createdAt, revoked_at AS revokedAt FROM api_keys WHERE model = ? ORDER BY created_at, name'),
      hasApiKeys: db.prepare('SELECT EXISTS (SELECT 1 FROM api_keys WHERE model = ?)').pluck(),
      activeApiKey: db.prepare('SELECT name FROM api_keys WHERE model = ? AND hash = ? AND revoked_at IS NULL').pluck(),
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
    // Off while migrating: rebuilding predictions drops a table that feedback references
    // (SQLite's procedure for schema changes ALTER TABLE cannot make); checked before commit.
    db.pragma('foreign_keys = OFF');
    db.transaction(() => {
      const migrated = [migrateFeedbackKinds(db), migratePredictionTasks(db)].includes(true);
      migrateFeedbackSources(db);
      db.exec(SCHEMA);
      const broken = migrated ? (db.pragma('foreign_key_check') as unknown[]) : [];
      if (broken.length) throw new Error(`${path}: ${broken.length} rows break foreign keys after migrating: ${JSON.stringify(broken.slice(0, 3))}`);
    }).immediate();
    db.pragma('foreign_keys = ON');
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

  /**
   * The records of a training window, in ascending id order (the order they arrived). `asOf`
   * anchors 'lastDays' (default now); `championTrainedThrough` is the last record id the champion
   * learned from, for 'sinceChampion' (absent: every record).
   */
  readRecords(model: string, window: TrainingWindow, at: { asOf?: string; championTrainedThrough?: number } = {}): Array<{ id: number } & LabelledRecord> {
    const s = this.statements;
    const since = (days: number) => new Date((at.asOf ? Date.parse(at.asOf) : this.now().getTime()) - days * 86_400_000).toISOString();
    const rows = (
      window.kind === 'lastRows'
        ? s.lastRecords.all(model, window.rows)
        : window.kind === 'lastDays'
          ? s.recordsCreatedSince.all(model, since(window.days))
          : window.kind === 'sinceChampion'
            ? s.recordsAfter.all(model, at.championTrainedThrough ?? 0)
            : s.allRecords.all(model)
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
            task: r.task ?? 'classification',
            features: JSON.stringify(r.features),
            probabilities: JSON.stringify(r.probabilities),
            createdAt,
          });
        }
      })
      .immediate();
  }

  /**
   * Delayed ground truth. Also appends a record (source 'feedback:<sender>') so labelled
   * production data becomes training data. The same feedback twice is idempotent (returns the
   * first feedback id); a different label for a labelled prediction is a FeedbackConflictError.
   * With `model`, a prediction of another model counts as unknown. `sender`: the API key's name,
   * or 'anonymous'.
   */
  addFeedback(predictionId: string, feedback: string | number | FeedbackInput, model?: string, sender = ANONYMOUS): number {
    return this.addFeedbackMany([typeof feedback === 'object' ? { predictionId, ...feedback } : { predictionId, label: feedback }], model, sender)[0];
  }

  /** All or nothing: the first bad item rejects the whole batch. Returns feedback ids in order. */
  addFeedbackMany(items: Array<{ predictionId: string } & FeedbackInput>, model?: string, sender = ANONYMOUS): number[] {
    return this.db.transaction(() => items.map((item) => this.recordFeedback(item, model, sender))).immediate();
  }

  private recordFeedback(item: { predictionId: string } & FeedbackInput, model: string | undefined, sender: string): number {
    const { predictionId } = item;
    const kind = item.kind ?? 'label';
    const prediction = this.statements.prediction.get(predictionId) as PredictionRow | undefined;
    if (!prediction || (model !== undefined && prediction.model !== model)) throw new UnknownPredictionError(predictionId, model);
    // Accepting a prediction says its label was the truth (a regression model's: its predicted value).
    const label = kind === 'accepted' ? (this.statements.predictionLabel.get(predictionId) as string) : storedLabel(predictionId, prediction, item.label);
    if (kind === 'label' && label === undefined) {
      if (prediction.task === 'regression') throw new LabelTypeError(predictionId, undefined, { task: 'regression' });
      throw new UnknownLabelError(predictionId, '(none)', Object.keys(JSON.parse(prediction.probabilities)));
    }
    const existing = this.statements.feedbackFor.get(predictionId) as { id: number; kind: string; label: string | null } | undefined;
    if (existing) {
      if (existing.kind === kind && existing.label === (label ?? null)) return existing.id;
      throw new FeedbackConflictError(predictionId, describeFeedback(existing.kind, existing.label), describeFeedback(kind, label ?? null));
    }
    const createdAt = this.now().toISOString();
    let recordId: number | null = null;
    if (label !== undefined) {
      if (prediction.task !== 'regression') {
        // The prediction's probabilities name every class its model can output.
        const classes = Object.keys(JSON.parse(prediction.probabilities));
        if (!classes.includes(label)) throw new UnknownLabelError(predictionId, label, classes);
      }
      const source = FEEDBACK_SOURCE_PREFIX + sender;
      recordId = Number(this.statements.insertRecord.run(prediction.model, prediction.features, label, source, createdAt).lastInsertRowid);
    }
    return Number(this.statements.insertFeedback.run(predictionId, prediction.model, kind, label ?? null, recordId, createdAt, sender).lastInsertRowid);
  }

  /** Feedback with id > afterFeedbackId, in feedback order, with its prediction. */
  feedbackSince(model: string, afterFeedbackId: number): FeedbackEvent[] {
    const rows = this.statements.feedbackSince.all(model, afterFeedbackId) as Array<{
      feedbackId: number;
      kind: FeedbackKind;
      label: string | null;
      version: string;
      role: Role;
      predicted: string;
      probabilities: string;
      features: string;
    }>;
    return rows.map((r) => ({
      feedbackId: r.feedbackId,
      version: r.version,
      role: r.role,
      predicted: r.predicted,
      feedback: r.kind === 'overridden' ? (r.label === null ? { kind: 'overridden' } : { kind: 'overridden', label: r.label }) : r.kind === 'accepted' ? { kind: 'accepted' } : { kind: 'label', label: r.label! },
      probabilities: JSON.parse(r.probabilities),
      features: JSON.parse(r.features),
    }));
  }

  /** 0 when the model has no predictions. */
  maxPredictionSeq(model: string): number {
    return this.statements.maxPredictionSeq.get(model) as number;
  }

  countPredictionsSince(model: string, afterSeq: number): number {
    return this.statements.countPredictionsSince.get(model, afterSeq) as number;
  }

  /** The most recent `limit` predictions with seq > afterSeq, oldest first, and the highest seq among them. */
  predictionsSince(model: string, afterSeq: number, limit: number): { rows: LoggedPrediction[]; maxSeq: number } {
    const rows = this.statements.predictionsSince.all(model, afterSeq, limit) as Array<{ seq: number; version: string; role: Role; features: string; label: string; probabilities: string }>;
    return {
      rows: rows.map((r) => ({ seq: r.seq, version: r.version, role: r.role, features: JSON.parse(r.features), label: r.label, probabilities: JSON.parse(r.probabilities) })),
      maxSeq: rows.length ? rows[rows.length - 1].seq : afterSeq,
    };
  }

  /** The `limit` most recent predictions, oldest first. */
  recentPredictions(model: string, limit: number): Array<{ features: Features; label: string; confidence: number | null; version: string }> {
    const rows = this.statements.recentPredictions.all(model, limit) as Array<{
      features: string;
      label: string;
      confidence: number | null;
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

  /**
   * liveAccuracy for a regression model: per version, its predictions made at or after `sinceIso`
   * whose true value is known (feedback with a label; accepted counts as error 0), with their mean
   * absolute and root mean squared error. An override without a value says only that the
   * prediction was wrong, not by how much: it is left out.
   */
  liveErrors(model: string, sinceIso: string): Record<string, { n: number; mae: number; rmse: number }> {
    const since = new Date(sinceIso);
    if (Number.isNaN(since.getTime())) throw new RangeError(`"${sinceIso}" is not an ISO time`);
    const rows = this.statements.liveErrors.all(model, since.toISOString()) as Array<{ version: string; n: number; mae: number; mse: number }>;
    return Object.fromEntries(rows.map((r) => [r.version, { n: r.n, mae: r.mae, rmse: Math.sqrt(r.mse) }]));
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

  // ---- API keys --------------------------------------------------------------------------------

  /** Stores a new key's hash under `name`; false when the model already has a key of that name (even revoked). */
  addApiKey(model: string, name: string, hash: string): boolean {
    return this.db
      .transaction(() => {
        if (this.statements.apiKeyNamed.get(model, name)) return false;
        this.statements.insertApiKey.run(model, name, hash, this.now().toISOString());
        return true;
      })
      .immediate();
  }

  /** The key after revoking it (revoking twice keeps the first time); undefined when there is no such key. */
  revokeApiKey(model: string, name: string): ApiKeyInfo | undefined {
    this.statements.revokeApiKey.run(this.now().toISOString(), model, name);
    return apiKeyInfo(this.statements.apiKeyNamed.get(model, name) as ApiKeyRow | undefined);
  }

  listApiKeys(model: string): ApiKeyInfo[] {
    return (this.statements.apiKeys.all(model) as ApiKeyRow[]).map((r) => apiKeyInfo(r)!);
  }

  /** Whether predict and feedback for `model` need a key: it has (or had) one. */
  requiresApiKey(model: string): boolean {
    return this.statements.hasApiKeys.get(model) === 1;
  }

  /** The name of the model's unrevoked key with this hash. */
  apiKeyName(model: string, hash: string): string | undefined {
    return this.statements.activeApiKey.get(model, hash) as string | undefined;
  }

  // ---- alert ledger ---------------------------------------------------------------------------

  /**
   * Admits an alert once. In one immediate transaction (so two senders can't both squeeze under
   * a rate limit): the existing entry for `claim.id` when there is one, a retry's view of its
   * first attempt; otherwise `decide` sees the admitted alerts of the same model and kind from
   * the last `lookbackMs` and the store's clock, and its verdict is recorded as a new entry.
   */
  claimAlert(
    claim: AlertClaim,
    lookbackMs: number,
    decide: (history: AlertLedgerEntry[], now: number) => AlertSuppression | undefined,
  ): AlertLedgerEntry {
    return this.db
      .transaction(() => {
        const existing = this.statements.alert.get(claim.id) as AlertRow | undefined;
        if (existing) return alertEntry(existing);
        const now = this.now();
        const since = new Date(now.getTime() - lookbackMs).toISOString();
        const history = (this.statements.admittedAlertsSince.all(claim.model, claim.kind, since) as AlertRow[]).map(alertEntry);
        const suppressed = decide(history, now.getTime());
        this.statements.insertAlert.run({
          id: claim.id,
          model: claim.model,
          kind: claim.kind,
          dedupKey: claim.dedupKey ?? null,
          suppressed: suppressed ? JSON.stringify(suppressed) : null,
          createdAt: now.toISOString(),
        });
        return alertEntry(this.statements.alert.get(claim.id) as AlertRow);
      })
      .immediate();
  }

  getAlert(id: string): AlertLedgerEntry | undefined {
    const row = this.statements.alert.get(id) as AlertRow | undefined;
    return row && alertEntry(row);
  }

  /** Records that `channel` took the alert; recording it twice is harmless. */
  recordAlertDelivery(id: string, channel: string): void {
    this.db
      .transaction(() => {
        const row = this.statements.alert.get(id) as AlertRow | undefined;
        if (!row) throw new RangeError(`no alert "${id}" in the ledger`);
        const delivered: string[] = JSON.parse(row.delivered);
        if (!delivered.includes(channel)) this.statements.setAlertDelivered.run(JSON.stringify([...delivered, channel]), id);
      })
      .immediate();
  }

  // ---- records by source, and quarantine ---------------------------------------------------------

  /** Per source (an import's file, 'feedback', ...): the model's records in service and in quarantine. */
  recordsBySource(model: string): SourceSummary[] {
    const rows = this.db
      .prepare(
        `SELECT source, sum(quarantined = 0) AS records, sum(quarantined) AS quarantined, min(id) AS firstId, max(id) AS lastId,
                min(created_at) AS firstAt, max(created_at) AS lastAt
         FROM (SELECT id, source, created_at, 0 AS quarantined FROM records WHERE model = ?
               UNION ALL SELECT id, source, created_at, 1 FROM quarantined_records WHERE model = ?)
         GROUP BY source ORDER BY firstId`,
      )
      .all(model, model) as SourceSummary[];
    return rows;
  }

  /**
   * Moves the model's records from `source` out of the records table into quarantined_records, in
   * one transaction, so no training window includes them and nothing that reads records needs to
   * know about quarantine. Ids are kept (never reused: AUTOINCREMENT), so `restoreSource` puts
   * them back as they were. Feedback that had become one of these records keeps its label for
   * monitoring; its link to the record moves with it. Returns how many records moved.
   */
  quarantineSource(model: string, source: string, reason: string): number {
    return this.db
      .transaction(() => {
        const quarantinedAt = this.now().toISOString();
        const moved = this.db
          .prepare(
            `INSERT INTO quarantined_records (id, model, features, label, source, created_at, feedback_id, quarantined_at, reason)
             SELECT r.id, r.model, r.features, r.label, r.source, r.created_at, f.id, ?, ? FROM records r LEFT JOIN feedback f ON f.record_id = r.id
             WHERE r.model = ? AND r.source = ?`,
          )
          .run(quarantinedAt, reason, model, source).changes;
        this.db.prepare('UPDATE feedback SET record_id = NULL WHERE record_id IN (SELECT id FROM quarantined_records WHERE model = ? AND source = ?)').run(model, source);
        this.db.prepare('DELETE FROM records WHERE model = ? AND source = ?').run(model, source);
        return moved;
      })
      .immediate();
  }

  /** Undoes quarantineSource: the records return with their ids, and their feedback links. Returns how many. */
  restoreSource(model: string, source: string): number {
    return this.db
      .transaction(() => {
        const restored = this.db
          .prepare(
            `INSERT INTO records (id, model, features, label, source, created_at)
             SELECT id, model, features, label, source, created_at FROM quarantined_records WHERE model = ? AND source = ?`,
          )
          .run(model, source).changes;
        this.db
          .prepare('UPDATE feedback SET record_id = (SELECT q.id FROM quarantined_records q WHERE q.feedback_id = feedback.id) WHERE id IN (SELECT feedback_id FROM quarantined_records WHERE model = ? AND source = ?)')
          .run(model, source);
        this.db.prepare('DELETE FROM quarantined_records WHERE model = ? AND source = ?').run(model, source);
        return restored;
      })
      .immediate();
  }
}

/**
 * A feedback label as the log keeps it: a classifier's class as given (a string; a JSON number is
 * refused rather than guessed to be a class name); a regression model's true value as the text of
 * the number, so 12.5, "12.50" and " 12.5" are one label to idempotency and to training.
 */
function storedLabel(predictionId: string, prediction: PredictionRow, label: string | number | undefined): string | undefined {
  if (label === undefined) return undefined;
  if (prediction.task === 'regression') {
    const parsed = parseNumeric(label);
    if (parsed.kind !== 'number') throw new LabelTypeError(predictionId, label, { task: 'regression' });
    return String(parsed.value);
  }
  if (typeof label !== 'string') throw new LabelTypeError(predictionId, label, { task: 'classification', classes: Object.keys(JSON.parse(prediction.probabilities)) });
  return label;
}

interface ApiKeyRow {
  name: string;
  createdAt: string;
  revokedAt: string | null;
}

function apiKeyInfo(row: ApiKeyRow | undefined): ApiKeyInfo | undefined {
  return row && { name: row.name, createdAt: row.createdAt, ...(row.revokedAt === null ? {} : { revokedAt: row.revokedAt }) };
}

const describeFeedback = (kind: string, label: string | null) => (kind === 'label' ? String(label) : label === null ? kind : `${kind}: ${label}`);

/**
 * Logs created before regression models have no predictions.task and a NOT NULL confidence. Rebuild
 * the table (SQLite cannot relax NOT NULL in place) keeping seq, ids and the AUTOINCREMENT counter;
 * every earlier prediction is a classifier's. Runs with foreign keys off: feedback references the
 * table, and refers to the rebuilt one by name afterwards. One copy of the log, once.
 */
function migratePredictionTasks(db: Database.Database): boolean {
  const columns = db.prepare("SELECT name FROM pragma_table_info('predictions')").pluck().all() as string[];
  if (columns.length === 0 || columns.includes('task')) return false;
  const counter = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'predictions'").pluck().get() as number | undefined;
  db.exec(`
    CREATE TABLE predictions_with_tasks ${PREDICTION_COLUMNS};
    INSERT INTO predictions_with_tasks (seq, id, model, version, role, task, features, label, confidence, probabilities, created_at)
      SELECT seq, id, model, version, role, 'classification', features, label, confidence, probabilities, created_at FROM predictions;
    DROP TABLE predictions;
    ALTER TABLE predictions_with_tasks RENAME TO predictions;
  `);
  if (counter !== undefined) {
    const kept = db.prepare("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'predictions'").run(counter).changes;
    if (!kept) db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('predictions', ?)").run(counter);
  }
  return true;
}

/**
 * Logs created before feedback had kinds required a label on every row. Rebuild the table with
 * nullable label and record_id (SQLite cannot relax NOT NULL in place), keeping ids.
 */
function migrateFeedbackKinds(db: Database.Database): boolean {
  const columns = db.prepare("SELECT name FROM pragma_table_info('feedback')").pluck().all() as string[];
  if (columns.length === 0 || columns.includes('kind')) return false;
  db.exec(`
    ALTER TABLE feedback RENAME TO feedback_before_kinds;
    CREATE TABLE feedback ${FEEDBACK_COLUMNS};
    INSERT INTO feedback (id, prediction_id, model, kind, label, record_id, created_at)
      SELECT id, prediction_id, model, 'label', label, record_id, created_at FROM feedback_before_kinds;
    DROP TABLE feedback_before_kinds;
  `);
  return true;
}

/** Logs created before API keys have no feedback.source: all their feedback was anonymous. */
function migrateFeedbackSources(db: Database.Database): void {
  const columns = db.prepare("SELECT name FROM pragma_table_info('feedback')").pluck().all() as string[];
  if (columns.length === 0 || columns.includes('source')) return;
  db.exec(`ALTER TABLE feedback ADD COLUMN source TEXT NOT NULL DEFAULT '${ANONYMOUS}'`);
}
