/**
 * The schema, and the versioned steps that bring a file written by an older Perennial to it; run
 * once at open (`migrate`), in one immediate transaction, so two processes opening the same file
 * at once migrate it once.
 *
 * SCHEMA is the current schema, all CREATE ... IF NOT EXISTS, executed at every open: a new table
 * or index needs only a line there. A change to an existing table (a column, a relaxed
 * constraint) needs a step in MIGRATIONS with the next version. The file's version is SQLite's
 * `PRAGMA user_version`; a step runs when the file's version is below the step's.
 *
 * Files written before versions existed say 0, whatever their shape, so steps 1-3 also look at
 * the columns and do nothing to a file that already has them. Steps from 4 on can trust the
 * version.
 */
import type Database from 'better-sqlite3';
import { ANONYMOUS } from '../feedback-rules.ts';

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
// shadow_of: a shadow prediction's served twin (the prediction made from the same input).
const PREDICTION_COLUMNS = `(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  model TEXT NOT NULL,
  version TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('champion', 'canary', 'shadow')),
  shadow_of TEXT CHECK ((shadow_of IS NULL) = (role != 'shadow')),
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
CREATE INDEX IF NOT EXISTS predictions_by_twin ON predictions (shadow_of) WHERE shadow_of IS NOT NULL;

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

-- The predictions the label queue offered for labelling (Store.offerForLabelling), so feedback on
-- them is counted as the queue's; strategy is the first offer's.
CREATE TABLE IF NOT EXISTS label_queue_offers (
  prediction_id TEXT PRIMARY KEY REFERENCES predictions (id),
  model TEXT NOT NULL,
  strategy TEXT NOT NULL CHECK (strategy IN ('confidence', 'disagreement')),
  offered_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS label_queue_offers_by_model ON label_queue_offers (model);
`;

interface Migration {
  version: number;
  /** Changes the file; true when it rebuilt a table, whose rows' foreign keys are then checked. */
  up(db: Database.Database): boolean;
}

/** In version order; the last one's version is the schema's. */
const MIGRATIONS: Migration[] = [
  { version: 1, up: migrateFeedbackKinds },
  { version: 2, up: migratePredictionTasks },
  { version: 3, up: migrateFeedbackSources },
  { version: 4, up: migrateShadowPredictions },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Brings the file at `path` (open as `db`) to SCHEMA_VERSION; a file already there only re-runs SCHEMA. */
export function migrate(db: Database.Database, path: string): void {
  // Off while migrating: rebuilding predictions drops a table that feedback references
  // (SQLite's procedure for schema changes ALTER TABLE cannot make); checked before commit.
  db.pragma('foreign_keys = OFF');
  db.transaction(() => {
    const from = db.pragma('user_version', { simple: true }) as number;
    const rebuilt = MIGRATIONS.filter((m) => m.version > from)
      .map((m) => m.up(db))
      .includes(true);
    db.exec(SCHEMA);
    const broken = rebuilt ? (db.pragma('foreign_key_check') as unknown[]) : [];
    if (broken.length)
      throw new Error(`${path}: ${broken.length} rows break foreign keys after migrating: ${JSON.stringify(broken.slice(0, 3))}`);
    if (from < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
  db.pragma('foreign_keys = ON');
}

const columnsOf = (db: Database.Database, table: string) =>
  db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table) as string[];

/**
 * Version 1. Logs created before feedback had kinds required a label on every row. Rebuild the
 * table with nullable label and record_id (SQLite cannot relax NOT NULL in place), keeping ids.
 */
function migrateFeedbackKinds(db: Database.Database): boolean {
  const columns = columnsOf(db, 'feedback');
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

/**
 * Version 2. Logs created before regression models have no predictions.task and a NOT NULL
 * confidence. Rebuild the table (SQLite cannot relax NOT NULL in place); every earlier
 * prediction is a classifier's.
 */
function migratePredictionTasks(db: Database.Database): boolean {
  const columns = columnsOf(db, 'predictions');
  if (columns.length === 0 || columns.includes('task')) return false;
  rebuildPredictions(db, "seq, id, model, version, role, 'classification', features, label, confidence, probabilities, created_at");
  return true;
}

/** Version 3. Logs created before API keys have no feedback.source: all their feedback was anonymous. */
function migrateFeedbackSources(db: Database.Database): boolean {
  const columns = columnsOf(db, 'feedback');
  if (columns.length === 0 || columns.includes('source')) return false;
  db.exec(`ALTER TABLE feedback ADD COLUMN source TEXT NOT NULL DEFAULT '${ANONYMOUS}'`);
  return false; // adding a column rebuilds nothing
}

/**
 * Version 4. Logs created before shadow deployments refuse role 'shadow' and have no shadow_of.
 * Rebuild the table (SQLite cannot change a CHECK in place). A file that step 2 rebuilt already
 * has the new columns.
 */
function migrateShadowPredictions(db: Database.Database): boolean {
  const columns = columnsOf(db, 'predictions');
  if (columns.length === 0 || columns.includes('shadow_of')) return false;
  rebuildPredictions(db, 'seq, id, model, version, role, task, features, label, confidence, probabilities, created_at');
  return true;
}

/**
 * Replaces predictions by a table of PREDICTION_COLUMNS filled from `select` (the old table's
 * values for seq, id, model, version, role, task, features, label, confidence, probabilities,
 * created_at), keeping seq, ids and the AUTOINCREMENT counter. Runs with foreign keys off:
 * feedback references the table, and refers to the rebuilt one by name afterwards.
 */
function rebuildPredictions(db: Database.Database, select: string): void {
  const counter = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'predictions'").pluck().get() as number | undefined;
  db.exec(`
    CREATE TABLE predictions_rebuilt ${PREDICTION_COLUMNS};
    INSERT INTO predictions_rebuilt (seq, id, model, version, role, task, features, label, confidence, probabilities, created_at)
      SELECT ${select} FROM predictions;
    DROP TABLE predictions;
    ALTER TABLE predictions_rebuilt RENAME TO predictions;
  `);
  if (counter !== undefined) {
    const kept = db.prepare("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'predictions'").run(counter).changes;
    if (!kept) db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('predictions', ?)").run(counter);
  }
}
