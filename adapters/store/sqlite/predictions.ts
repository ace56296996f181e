/**
 * Tables predictions and feedback: every prediction served, and the delayed ground truth on
 * them. A feedback with a label also becomes a training record (through SqliteRecords), in the
 * same transaction.
 */
import type Database from 'better-sqlite3';
import { FeedbackConflictError, LabelTypeError, UnknownLabelError, UnknownPredictionError } from '../../../core/errors.ts';
import { ANONYMOUS, describeFeedback, feedbackEvent, feedbackSource, storedLabel, type FeedbackRow } from '../feedback-rules.ts';
import type {
  ExportedPrediction,
  FeedbackEvent,
  FeedbackInput,
  Features,
  LabelledPrediction,
  LiveErrors,
  LoggedPrediction,
  LogSince,
  LogWrite,
  LogWriteResult,
  PredictionLog,
  Role,
  Task,
} from '../types.ts';
import type { PredictionLogStore } from '../store.ts';
import type { Synchronous } from './synchronous.ts';
import type { SqliteRecords } from './records.ts';
import { exported, type ExportRow } from './export-rows.ts';

/** Rows per exportLog page: bounds the memory an export holds, whatever the log's size. */
const EXPORT_PAGE = 500;

interface PredictionRow {
  model: string;
  role: Role;
  task: Task;
  features: string;
  probabilities: string;
}

export class SqlitePredictionLog implements Synchronous<PredictionLogStore> {
  private readonly statements;
  // Made once: better-sqlite3 builds a wrapper per db.transaction() call, and these run per commit.
  private readonly transactions;

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => Date,
    private readonly records: SqliteRecords,
  ) {
    this.statements = {
      insertPrediction: db.prepare(insertPredictionsSql(1)),
      insertPredictionChunk: db.prepare(insertPredictionsSql(INSERT_CHUNK)),
      prediction: db.prepare('SELECT model, role, task, features, probabilities FROM predictions WHERE id = ?'),
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
      // Shadow predictions repeat served inputs: counted in, they would skew monitoring's drift tests.
      countPredictionsSince: db.prepare(`SELECT count(*) FROM predictions WHERE model = ? AND seq > ? AND role != 'shadow'`).pluck(),
      predictionsSince: db.prepare(
        `SELECT * FROM (SELECT seq, version, role, features, label, probabilities FROM predictions
                        WHERE model = ? AND seq > ? AND role != 'shadow' ORDER BY seq DESC LIMIT ?) ORDER BY seq`,
      ),
      recentPredictions: db.prepare(
        `SELECT * FROM (SELECT seq, features, label, confidence, version FROM predictions
                        WHERE model = ? AND role != 'shadow' ORDER BY seq DESC LIMIT ?) ORDER BY seq`,
      ),
      exportPage: db.prepare(
        `SELECT p.seq, p.id, p.created_at AS createdAt, p.version, p.role, p.task, p.features, p.label, p.confidence,
                p.probabilities, p.shadow_of AS shadowOf, f.kind AS feedbackKind, f.label AS feedbackLabel,
                f.source AS feedbackSource, f.created_at AS feedbackAt
         FROM predictions p LEFT JOIN feedback f ON f.prediction_id = p.id
         WHERE p.model = @model AND p.seq > @afterSeq AND p.created_at >= @fromTime ORDER BY p.seq LIMIT @limit`,
      ),
      exportFeatures: db
        .prepare(
          `SELECT DISTINCT j.key FROM predictions p, json_each(p.features) j
         WHERE p.model = @model AND p.seq > @afterSeq AND p.created_at >= @fromTime ORDER BY j.key`,
        )
        .pluck(),
      exportClasses: db
        .prepare(
          `SELECT DISTINCT j.key FROM predictions p, json_each(p.probabilities) j
         WHERE p.model = @model AND p.seq > @afterSeq AND p.created_at >= @fromTime ORDER BY j.key`,
        )
        .pluck(),
      labelledSince: db.prepare(
        `SELECT f.id AS feedbackId, p.version, p.role, p.label AS predicted, f.label AS truth
         FROM feedback f JOIN predictions p ON p.id = f.prediction_id
         WHERE f.model = ? AND f.id > ? AND f.label IS NOT NULL ORDER BY f.id`,
      ),
      maxFeedbackId: db.prepare('SELECT coalesce(max(id), 0) FROM feedback WHERE model = ?').pluck(),
      // Of a JSON array of prediction ids: how many the label queue offered (SqliteLabelQueue).
      countOffered: db.prepare('SELECT count(*) FROM label_queue_offers WHERE prediction_id IN (SELECT value FROM json_each(?))').pluck(),
      liveAccuracy: db.prepare(
        `SELECT p.version, count(*) AS n, sum(coalesce(p.label = f.label, 0)) AS correct
         FROM predictions p JOIN feedback f ON f.prediction_id = p.id
         WHERE p.model = ? AND p.created_at >= ? GROUP BY p.version`,
      ),
      // Labels of regression predictions and their feedback are the text of numbers (String(n)).
      liveErrors: db.prepare(
        `SELECT version, count(*) AS n, avg(abs(error)) AS mae, avg(error * error) AS mse, avg(error * error * error * error) AS se2
         FROM (SELECT p.version, CAST(f.label AS REAL) - CAST(p.label AS REAL) AS error
               FROM predictions p JOIN feedback f ON f.prediction_id = p.id
               WHERE p.model = ? AND p.created_at >= ? AND p.task = 'regression' AND f.label IS NOT NULL)
         GROUP BY version`,
      ),
    };
    this.transactions = {
      writeLog: db.transaction((writes: LogWrite[]) => this.writeLogTransaction(writes)),
      insertPredictions: db.transaction((rows: PredictionLog[]) => this.insertPredictions(rows)),
    };
  }

  logPredictions(rows: PredictionLog[]): void {
    this.transactions.insertPredictions.immediate(rows);
  }

  writeLog(writes: LogWrite[]): LogWriteResult[] {
    return this.transactions.writeLog.immediate(writes);
  }

  private writeLogTransaction(writes: LogWrite[]): LogWriteResult[] {
    const predictions = writes.flatMap((w) => (w.kind === 'predictions' ? [w.rows] : []));
    // A prediction is refused only when an invariant breaks (a duplicate id), so all of them
    // go in at once; only if that throws is each write tried alone, to refuse just its own.
    const together = predictions.length > 1 && this.tryInsertPredictions(predictions.flat());
    return writes.map((write): LogWriteResult => {
      try {
        // Nested in this transaction, each write is a savepoint: undone alone when it throws.
        if (write.kind === 'predictions') {
          if (!together) this.transactions.insertPredictions(write.rows);
          return { ok: true, ids: [] };
        }
        const ids = this.addFeedbackMany(write.items, write.model, write.sender);
        const offered = this.statements.countOffered.get(JSON.stringify(write.items.map((item) => item.predictionId))) as number;
        return { ok: true, ids, offered };
      } catch (error) {
        return { ok: false, error };
      }
    });
  }

  private tryInsertPredictions(rows: PredictionLog[]): boolean {
    try {
      this.transactions.insertPredictions(rows);
      return true;
    } catch {
      return false;
    }
  }

  /** INSERT_CHUNK rows per statement: one call into SQLite per chunk rather than per row. */
  private insertPredictions(rows: PredictionLog[]): void {
    const createdAt = this.now().toISOString();
    let i = 0;
    for (; i + INSERT_CHUNK <= rows.length; i += INSERT_CHUNK)
      this.statements.insertPredictionChunk.run(rows.slice(i, i + INSERT_CHUNK).flatMap((r) => predictionValues(r, createdAt)));
    for (; i < rows.length; i++) this.statements.insertPrediction.run(predictionValues(rows[i], createdAt));
  }

  addFeedback(predictionId: string, feedback: string | number | FeedbackInput, model?: string, sender = ANONYMOUS): number {
    return this.addFeedbackMany(
      [typeof feedback === 'object' ? { predictionId, ...feedback } : { predictionId, label: feedback }],
      model,
      sender,
    )[0];
  }

  addFeedbackMany(items: Array<{ predictionId: string } & FeedbackInput>, model?: string, sender = ANONYMOUS): number[] {
    return this.db.transaction(() => items.map((item) => this.recordFeedback(item, model, sender))).immediate();
  }

  private recordFeedback(item: { predictionId: string } & FeedbackInput, model: string | undefined, sender: string): number {
    const { predictionId } = item;
    const kind = item.kind ?? 'label';
    const prediction = this.statements.prediction.get(predictionId) as PredictionRow | undefined;
    // A shadow prediction was never answered to anyone, so nobody can have feedback on it.
    if (!prediction || prediction.role === 'shadow' || (model !== undefined && prediction.model !== model))
      throw new UnknownPredictionError(predictionId, model);
    // The prediction's probabilities name every class its model can output ({} for regression).
    const classes = Object.keys(JSON.parse(prediction.probabilities));
    // Accepting a prediction says its label was the truth (a regression model's: its predicted value).
    const label =
      kind === 'accepted'
        ? (this.statements.predictionLabel.get(predictionId) as string)
        : storedLabel(predictionId, prediction.task, classes, item.label);
    if (kind === 'label' && label === undefined) {
      if (prediction.task === 'regression') throw new LabelTypeError(predictionId, undefined, { task: 'regression' });
      throw new UnknownLabelError(predictionId, '(none)', classes);
    }
    const existing = this.statements.feedbackFor.get(predictionId) as { id: number; kind: string; label: string | null } | undefined;
    if (existing) {
      if (existing.kind === kind && existing.label === (label ?? null)) return existing.id;
      throw new FeedbackConflictError(predictionId, describeFeedback(existing.kind, existing.label), describeFeedback(kind, label ?? null));
    }
    const createdAt = this.now().toISOString();
    let recordId: number | null = null;
    if (label !== undefined) {
      if (prediction.task !== 'regression' && !classes.includes(label)) throw new UnknownLabelError(predictionId, label, classes);
      recordId = this.records.insert(prediction.model, prediction.features, label, feedbackSource(sender), createdAt);
    }
    return Number(
      this.statements.insertFeedback.run(predictionId, prediction.model, kind, label ?? null, recordId, createdAt, sender).lastInsertRowid,
    );
  }

  feedbackSince(model: string, afterFeedbackId: number): FeedbackEvent[] {
    const rows = this.statements.feedbackSince.all(model, afterFeedbackId) as Array<
      Omit<FeedbackRow, 'probabilities' | 'features'> & { probabilities: string; features: string }
    >;
    return rows.map((r) => feedbackEvent({ ...r, probabilities: JSON.parse(r.probabilities), features: JSON.parse(r.features) }));
  }

  maxPredictionSeq(model: string): number {
    return this.statements.maxPredictionSeq.get(model) as number;
  }

  countPredictionsSince(model: string, afterSeq: number): number {
    return this.statements.countPredictionsSince.get(model, afterSeq) as number;
  }

  predictionsSince(model: string, afterSeq: number, limit: number): { rows: LoggedPrediction[]; maxSeq: number } {
    const rows = this.statements.predictionsSince.all(model, afterSeq, limit) as Array<{
      seq: number;
      version: string;
      role: Role;
      features: string;
      label: string;
      probabilities: string;
    }>;
    return {
      rows: rows.map((r) => ({
        seq: r.seq,
        version: r.version,
        role: r.role,
        features: JSON.parse(r.features),
        label: r.label,
        probabilities: JSON.parse(r.probabilities),
      })),
      maxSeq: rows.length ? rows[rows.length - 1].seq : afterSeq,
    };
  }

  recentPredictions(
    model: string,
    limit: number,
  ): Array<{ features: Features; label: string; confidence: number | null; version: string }> {
    const rows = this.statements.recentPredictions.all(model, limit) as Array<{
      features: string;
      label: string;
      confidence: number | null;
      version: string;
    }>;
    return rows.map((r) => ({ features: JSON.parse(r.features), label: r.label, confidence: r.confidence, version: r.version }));
  }

  labelledSince(model: string, afterFeedbackId: number): LabelledPrediction[] {
    return this.statements.labelledSince.all(model, afterFeedbackId) as LabelledPrediction[];
  }

  maxFeedbackId(model: string): number {
    return this.statements.maxFeedbackId.get(model) as number;
  }

  liveAccuracy(model: string, sinceIso: string): Record<string, { n: number; correct: number }> {
    // Stored times are all toISOString() output, so normalising makes text order time order.
    const rows = this.statements.liveAccuracy.all(model, isoTime(sinceIso)) as Array<{ version: string; n: number; correct: number }>;
    return Object.fromEntries(rows.map((r) => [r.version, { n: r.n, correct: r.correct }]));
  }

  liveErrors(model: string, sinceIso: string): Record<string, LiveErrors> {
    const rows = this.statements.liveErrors.all(model, isoTime(sinceIso)) as Array<{
      version: string;
      n: number;
      mae: number;
      mse: number;
      se2: number;
    }>;
    return Object.fromEntries(
      rows.map((r) => [
        r.version,
        // m2 = Σ(se - mean)² = n·(mean of se² - mean²); rounding may take it a hair below 0.
        {
          n: r.n,
          mae: r.mae,
          rmse: Math.sqrt(r.mse),
          squaredErrors: { n: r.n, mean: r.mse, m2: Math.max(0, r.n * (r.se2 - r.mse * r.mse)) },
        },
      ]),
    );
  }

  /**
   * Pages by seq rather than one `.iterate()` cursor: while a cursor is open better-sqlite3
   * refuses every write on the connection, so a slow reader of an export would stop the server
   * from logging predictions. Each page is read whole, and the connection is free between pages.
   */
  *exportLog(model: string, since: LogSince): Iterable<ExportedPrediction> {
    const fromTime = since.fromTime === undefined ? '' : isoTime(since.fromTime);
    let afterSeq = since.afterSeq ?? 0;
    for (;;) {
      const page = this.statements.exportPage.all({ model, afterSeq, fromTime, limit: EXPORT_PAGE }) as ExportRow[];
      for (const row of page) yield exported(row);
      if (page.length < EXPORT_PAGE) return;
      afterSeq = page[page.length - 1].seq;
    }
  }

  exportColumns(model: string, since: LogSince): { features: string[]; classes: string[] } {
    const filter = { model, afterSeq: since.afterSeq ?? 0, fromTime: since.fromTime === undefined ? '' : isoTime(since.fromTime) };
    return {
      features: this.statements.exportFeatures.all(filter) as string[],
      classes: this.statements.exportClasses.all(filter) as string[],
    };
  }
}

/** Rows per multi-row INSERT (11 values each: far below SQLite's 32,766 variables per statement). */
const INSERT_CHUNK = 32;

const PREDICTION_COLUMNS = 'id, model, version, role, task, features, label, confidence, probabilities, created_at, shadow_of';

function insertPredictionsSql(rows: number): string {
  return `INSERT INTO predictions (${PREDICTION_COLUMNS}) VALUES ${Array(rows).fill('(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`;
}

/** A row's values in PREDICTION_COLUMNS order. */
function predictionValues(r: PredictionLog, createdAt: string): unknown[] {
  return [
    r.id,
    r.model,
    r.version,
    r.role,
    r.task ?? 'classification',
    JSON.stringify(r.features),
    r.label,
    r.confidence,
    JSON.stringify(r.probabilities),
    createdAt,
    r.shadowOf ?? null,
  ];
}

/** `iso` as toISOString() spells it; RangeError when it is not a time. */
function isoTime(iso: string): string {
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) throw new RangeError(`"${iso}" is not an ISO time`);
  return time.toISOString();
}
