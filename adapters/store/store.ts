/**
 * The serving log's contract: labelled training records, every prediction served, delayed ground
 * truth, which versions each model serves, the alert ledger and API keys. The model server
 * writes it while Temporal activities read it (and append records) from other processes, so
 * every implementation must make each method that reads then writes one atomic transaction,
 * isolated from the other processes' writes (SQLite: BEGIN IMMEDIATE).
 *
 * One interface per table group, so a caller that needs one group can say so; `Store` is all of
 * them. Implementations: SQLite (sqlite/, the embedded default) and Postgres (postgres/, one
 * database for processes on several machines), picked by `openStore` in index.ts from the location.
 *
 * Every method returns a Promise, so one interface serves an in-process engine (SQLite, whose
 * better-sqlite3 answers synchronously: its methods resolve at once) and a networked one
 * (Postgres). What every implementation keeps:
 * - `claimAlert`'s `decide` is synchronous: it runs inside the transaction, on rows the store
 *   has already read (Postgres: under an advisory lock per model and kind, so two senders can't
 *   both squeeze under a rate limit);
 * - the same errors (core/errors.ts), rejected rather than thrown, and the rules in
 *   feedback-rules.ts, which are not SQL;
 * - ids that are never reused (records' and feedback's id, predictions' seq: consumers keep
 *   "everything after N" watermarks), i.e. sequences, not max(id) + 1 (Postgres's may skip the
 *   ids of a rolled-back transaction); and a model's ids visible in their order, so a reader
 *   past N never misses a row committed later below N (SQLite has one writer at a time;
 *   Postgres, one per model: postgres/db.ts lockModels).
 */
import type {
  AlertClaim,
  AlertLedgerEntry,
  AlertSuppression,
  ApiKeyInfo,
  DeploymentState,
  ExportedPrediction,
  FeedbackEvent,
  FeedbackInput,
  Features,
  LabelledPrediction,
  LabelledRecord,
  LabelQueueItem,
  LabelQueueQuery,
  LabelQueueStrategy,
  LabelQueueSummary,
  LiveErrors,
  LoggedPrediction,
  LogSince,
  LogWrite,
  LogWriteResult,
  PredictionLog,
  SourceSummary,
} from './types.ts';
import type { TrainingWindow } from '../../core/spec.ts';
import type { ShadowPairCounts } from '../../core/shadow.ts';

/** Labelled training records, and records quarantined by source. */
export interface RecordStore {
  /** Appends records (one transaction); returns how many. */
  addRecords(model: string, records: LabelledRecord[]): Promise<number>;
  /**
   * The records of a training window, in ascending id order (the order they arrived). `asOf`
   * anchors 'lastDays' (default now); `championTrainedThrough` is the last record id the champion
   * learned from, for 'sinceChampion' (absent: every record).
   */
  readRecords(
    model: string,
    window: TrainingWindow,
    at?: { asOf?: string; championTrainedThrough?: number },
  ): Promise<Array<{ id: number } & LabelledRecord>>;
  /**
   * The most recent `limit` records with an id at most `throughId` and from `source` (each
   * filter when given), in ascending id order: the older data the evaluation gates judge on.
   */
  referenceRecords(
    model: string,
    filter: { throughId?: number; source?: string },
    limit: number,
  ): Promise<Array<{ id: number } & LabelledRecord>>;
  /** 0 when the model has no records. */
  maxRecordId(model: string): Promise<number>;
  countRecordsSince(model: string, afterId: number): Promise<number>;
  /** Per source (an import's file, 'feedback', ...): the model's records in service and in quarantine. */
  recordsBySource(model: string): Promise<SourceSummary[]>;
  /**
   * Takes the model's records from `source` out of every training window, in one transaction, so
   * nothing that reads records needs to know about quarantine. Ids are kept (never reused), so
   * `restoreSource` puts them back as they were. Feedback that had become one of these records
   * keeps its label for monitoring. Returns how many records moved.
   */
  quarantineSource(model: string, source: string, reason: string): Promise<number>;
  /** Undoes quarantineSource: the records return with their ids, and their feedback links. Returns how many. */
  restoreSource(model: string, source: string): Promise<number>;
}

/** Every prediction served, and the feedback (delayed ground truth) on them. */
export interface PredictionLogStore {
  /** Logs the predictions in one transaction. */
  logPredictions(rows: PredictionLog[]): Promise<void>;
  /**
   * Delayed ground truth. Also appends a record (source 'feedback:<sender>') so labelled
   * production data becomes training data. The same feedback twice is idempotent (returns the
   * first feedback id); a different label for a labelled prediction is a FeedbackConflictError.
   * With `model`, a prediction of another model counts as unknown (UnknownPredictionError), as a
   * shadow prediction always does. A label of the wrong type is a LabelTypeError, a class the
   * model lacks an UnknownLabelError.
   * `sender`: the API key's name, or 'anonymous' (the default).
   */
  addFeedback(predictionId: string, feedback: string | number | FeedbackInput, model?: string, sender?: string): Promise<number>;
  /** All or nothing: the first bad item rejects the whole batch. Returns feedback ids in order. */
  addFeedbackMany(items: Array<{ predictionId: string } & FeedbackInput>, model?: string, sender?: string): Promise<number[]>;
  /**
   * Group commit: many requests' writes in one transaction, so the model server pays for one
   * commit per few milliseconds rather than one per request. Each write succeeds or fails alone
   * (SQLite: a savepoint each): a refused feedback batch (UnknownPredictionError, ...) is undone
   * and reported in its result while the others commit. A failure of the transaction itself
   * (disk full, lock timeout) throws, and nothing of it is stored.
   */
  writeLog(writes: LogWrite[]): Promise<LogWriteResult[]>;
  /** Feedback with id > afterFeedbackId, in feedback order, with its prediction. */
  feedbackSince(model: string, afterFeedbackId: number): Promise<FeedbackEvent[]>;
  /** 0 when the model has no predictions. */
  maxPredictionSeq(model: string): Promise<number>;
  /** Served predictions only (not shadow ones), like predictionsSince and recentPredictions: what monitoring sees. */
  countPredictionsSince(model: string, afterSeq: number): Promise<number>;
  /** The most recent `limit` predictions with seq > afterSeq, oldest first, and the highest seq among them. */
  predictionsSince(model: string, afterSeq: number, limit: number): Promise<{ rows: LoggedPrediction[]; maxSeq: number }>;
  /** The `limit` most recent predictions, oldest first. */
  recentPredictions(
    model: string,
    limit: number,
  ): Promise<Array<{ features: Features; label: string; confidence: number | null; version: string }>>;
  /** Labelled predictions whose feedback id > afterFeedbackId, in feedback order. */
  labelledSince(model: string, afterFeedbackId: number): Promise<LabelledPrediction[]>;
  /** 0 when the model has no feedback. */
  maxFeedbackId(model: string): Promise<number>;
  /** Per version: labelled predictions made at or after `sinceIso`, and how many were right. RangeError for a bad time. */
  liveAccuracy(model: string, sinceIso: string): Promise<Record<string, { n: number; correct: number }>>;
  /**
   * liveAccuracy for a regression model: per version, its predictions made at or after `sinceIso`
   * whose true value is known (feedback with a label; accepted counts as error 0), with their mean
   * absolute and root mean squared error. An override without a value says only that the
   * prediction was wrong, not by how much: it is left out. `squaredErrors` are the moments the
   * canary's sequential test on squared errors needs (core/sequential/difference-of-means.ts).
   */
  liveErrors(model: string, sinceIso: string): Promise<Record<string, LiveErrors>>;
  /**
   * Every logged prediction of the model (shadow ones too) matching `since`, in seq order, with
   * its feedback; read lazily, a page at a time, so memory does not grow with the log. Rows
   * committed while the caller iterates are included when their seq is not yet passed.
   */
  exportLog(model: string, since: LogSince): AsyncIterable<ExportedPrediction>;
  /** The feature names and classes that appear in exportLog's rows, sorted (a CSV header's columns). */
  exportColumns(model: string, since: LogSince): Promise<{ features: string[]; classes: string[] }>;
}

/** Which versions each model serves. */
export interface DeploymentStore {
  getDeployment(model: string): Promise<DeploymentState | undefined>;
  setDeployment(model: string, state: DeploymentState): Promise<void>;
  /** Every model's deployment, by model name. */
  listDeployments(): Promise<Array<{ model: string } & DeploymentState>>;
  /**
   * Tells `onChange` soon after any process's setDeployment commits: with the model's name, or
   * with none when changes may have been missed (a lost connection). Resolves once listening;
   * the function it returns stops. An engine that cannot push (SQLite) never calls `onChange`:
   * its readers poll listDeployments.
   */
  watchDeployments(onChange: (model?: string) => void): Promise<() => Promise<void>>;
}

/** One row per alert, keyed by the idempotency key its workflow gave it. */
export interface AlertLedger {
  /**
   * Admits an alert once. In one transaction (so two senders can't both squeeze under a rate
   * limit): the existing entry for `claim.id` when there is one, a retry's view of its first
   * attempt; otherwise `decide` sees the admitted alerts of the same model and kind from the
   * last `lookbackMs` and the store's clock, and its verdict is recorded as a new entry.
   */
  claimAlert(
    claim: AlertClaim,
    lookbackMs: number,
    decide: (history: AlertLedgerEntry[], now: number) => AlertSuppression | undefined,
  ): Promise<AlertLedgerEntry>;
  getAlert(id: string): Promise<AlertLedgerEntry | undefined>;
  /** Records that `channel` took the alert; recording it twice is harmless. RangeError for an unknown alert. */
  recordAlertDelivery(id: string, channel: string): Promise<void>;
}

/**
 * API keys for predict and feedback, per model; only a key's hash is stored. A model with any
 * key, revoked or not, requires one: revoking the last key locks the model rather than opening it.
 */
export interface ApiKeyStore {
  /** Stores a new key's hash under `name`; false when the model already has a key of that name (even revoked). */
  addApiKey(model: string, name: string, hash: string): Promise<boolean>;
  /** The key after revoking it (revoking twice keeps the first time); undefined when there is no such key. */
  revokeApiKey(model: string, name: string): Promise<ApiKeyInfo | undefined>;
  listApiKeys(model: string): Promise<ApiKeyInfo[]>;
  /** Whether predict and feedback for `model` need a key: it has (or had) one. */
  requiresApiKey(model: string): Promise<boolean>;
  /** The name of the model's unrevoked key with this hash. */
  apiKeyName(model: string, hash: string): Promise<string | undefined>;
}

export interface Store
  extends RecordStore, PredictionLogStore, DeploymentStore, AlertLedger, ApiKeyStore, ShadowComparisonStore, LabelQueueStore {
  close(): Promise<void>;
}

/**
 * Which pairs a shadow comparison counts: shadow predictions made at or after `fromTime` with
 * seq in (`afterSeq`, `throughSeq`] (agreement), and of those made at or after `fromTime`, the
 * ones whose served twin got feedback with id in (`afterFeedbackId`, `throughFeedbackId`] (live
 * scores: labels arrive after their rows). Bounds left out are open.
 */
export interface ShadowSince {
  fromTime?: string;
  afterSeq?: number;
  throughSeq?: number;
  afterFeedbackId?: number;
  throughFeedbackId?: number;
}

/** A shadow version's predictions against the champion's on the same inputs (core/shadow.ts). */
export interface ShadowComparisonStore {
  /** Zero counts when the shadow logged nothing. RangeError for a bad time. */
  shadowPairCounts(model: string, shadowVersion: string, since: ShadowSince): Promise<ShadowPairCounts>;
}

/**
 * The predictions most worth labelling, and a note of which were offered, so that feedback on them
 * counts as the queue's (PredictionLogStore.writeLog reports it as LogWriteResult.offered).
 */
export interface LabelQueueStore {
  /**
   * Served predictions (not shadow ones) without feedback, matching `query.since`, ranked by
   * `query.strategy` (disagreement: with their shadow twins), at most `query.limit`. RangeError
   * for a bad time.
   */
  labelQueue(model: string, query: LabelQueueQuery): Promise<LabelQueueItem[]>;
  /** Served predictions of `versions` without feedback, matching `since`, newest first, at most `limit`. */
  unlabelledPredictions(model: string, versions: string[], since: LogSince, limit: number): Promise<LabelQueueItem[]>;
  /** Notes that the predictions were offered (one transaction; a prediction's first offer is kept). */
  recordLabelQueueOffers(model: string, strategy: LabelQueueStrategy, predictionIds: string[]): Promise<void>;
  labelQueueSummary(model: string): Promise<LabelQueueSummary>;
}
