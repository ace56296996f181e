/**
 * The Store on one SQLite file (better-sqlite3, synchronous), composed of one object per table
 * group. The model server writes the file while Temporal activities read it (and append records)
 * from other processes, hence WAL (readers never block the writer), a busy timeout (writers
 * queue instead of failing) and `BEGIN IMMEDIATE` for every read-then-write transaction.
 * The table groups stay synchronous; this class's methods are `async` to meet the Store
 * interface, so they do their work at once and an error becomes a rejection.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TrainingWindow } from '../../../core/spec.ts';
import type {
  AlertClaim,
  AlertLedgerEntry,
  AlertSuppression,
  DeploymentState,
  FeedbackInput,
  LabelledRecord,
  LabelQueueQuery,
  LabelQueueStrategy,
  LogSince,
  LogWrite,
  PredictionLog,
  StoreOptions,
} from '../types.ts';
import type { ShadowSince, Store } from '../store.ts';
import { migrate } from './migrations.ts';
import { SqliteRecords } from './records.ts';
import { SqlitePredictionLog } from './predictions.ts';
import { SqliteDeployments } from './deployments.ts';
import { SqliteAlertLedger } from './alerts.ts';
import { SqliteApiKeys } from './api-keys.ts';
import { SqliteShadowComparison } from './shadow-comparison.ts';
import { SqliteLabelQueue } from './label-queue.ts';

/** Opens (creating it and its folder if need be) and migrates the file at `path`, or ':memory:'. */
export function openSqliteStore(path: string, options: StoreOptions = {}): Store {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  // busy_timeout first: switching to WAL and creating the schema take locks that another
  // process opening the same file may hold at that moment.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  migrate(db, path);
  return new SqliteStore(db, options.now ?? (() => new Date()));
}

class SqliteStore implements Store {
  private readonly records: SqliteRecords;
  private readonly predictions: SqlitePredictionLog;
  private readonly deployments: SqliteDeployments;
  private readonly alerts: SqliteAlertLedger;
  private readonly apiKeys: SqliteApiKeys;
  private readonly shadows: SqliteShadowComparison;
  private readonly queue: SqliteLabelQueue;

  constructor(
    private readonly db: Database.Database,
    now: () => Date,
  ) {
    this.records = new SqliteRecords(db, now);
    this.predictions = new SqlitePredictionLog(db, now, this.records);
    this.deployments = new SqliteDeployments(db);
    this.alerts = new SqliteAlertLedger(db, now);
    this.apiKeys = new SqliteApiKeys(db, now);
    this.shadows = new SqliteShadowComparison(db);
    this.queue = new SqliteLabelQueue(db, now);
  }

  async close(): Promise<void> {
    this.db.close();
  }

  // ---- records, and quarantine ------------------------------------------------------------------

  async addRecords(model: string, records: LabelledRecord[]) {
    return this.records.addRecords(model, records);
  }
  async readRecords(model: string, window: TrainingWindow, at?: { asOf?: string; championTrainedThrough?: number }) {
    return this.records.readRecords(model, window, at);
  }
  async referenceRecords(model: string, filter: { throughId?: number; source?: string }, limit: number) {
    return this.records.referenceRecords(model, filter, limit);
  }
  async maxRecordId(model: string) {
    return this.records.maxRecordId(model);
  }
  async countRecordsSince(model: string, afterId: number) {
    return this.records.countRecordsSince(model, afterId);
  }
  async recordsBySource(model: string) {
    return this.records.recordsBySource(model);
  }
  async quarantineSource(model: string, source: string, reason: string) {
    return this.records.quarantineSource(model, source, reason);
  }
  async restoreSource(model: string, source: string) {
    return this.records.restoreSource(model, source);
  }

  // ---- predictions and feedback -----------------------------------------------------------------

  async logPredictions(rows: PredictionLog[]) {
    this.predictions.logPredictions(rows);
  }
  async writeLog(writes: LogWrite[]) {
    return this.predictions.writeLog(writes);
  }
  async addFeedback(predictionId: string, feedback: string | number | FeedbackInput, model?: string, sender?: string) {
    return this.predictions.addFeedback(predictionId, feedback, model, sender);
  }
  async addFeedbackMany(items: Array<{ predictionId: string } & FeedbackInput>, model?: string, sender?: string) {
    return this.predictions.addFeedbackMany(items, model, sender);
  }
  async feedbackSince(model: string, afterFeedbackId: number) {
    return this.predictions.feedbackSince(model, afterFeedbackId);
  }
  async maxPredictionSeq(model: string) {
    return this.predictions.maxPredictionSeq(model);
  }
  async countPredictionsSince(model: string, afterSeq: number) {
    return this.predictions.countPredictionsSince(model, afterSeq);
  }
  async predictionsSince(model: string, afterSeq: number, limit: number) {
    return this.predictions.predictionsSince(model, afterSeq, limit);
  }
  async recentPredictions(model: string, limit: number) {
    return this.predictions.recentPredictions(model, limit);
  }
  async labelledSince(model: string, afterFeedbackId: number) {
    return this.predictions.labelledSince(model, afterFeedbackId);
  }
  async maxFeedbackId(model: string) {
    return this.predictions.maxFeedbackId(model);
  }
  async liveAccuracy(model: string, sinceIso: string) {
    return this.predictions.liveAccuracy(model, sinceIso);
  }
  async liveErrors(model: string, sinceIso: string) {
    return this.predictions.liveErrors(model, sinceIso);
  }
  // An async generator over the synchronous pages: still read lazily, a page at a time.
  async *exportLog(model: string, since: LogSince) {
    yield* this.predictions.exportLog(model, since);
  }
  async exportColumns(model: string, since: LogSince) {
    return this.predictions.exportColumns(model, since);
  }

  // ---- deployments ------------------------------------------------------------------------------

  async getDeployment(model: string) {
    return this.deployments.getDeployment(model);
  }
  async setDeployment(model: string, state: DeploymentState) {
    this.deployments.setDeployment(model, state);
  }
  async listDeployments() {
    return this.deployments.listDeployments();
  }
  async watchDeployments() {
    return this.deployments.watchDeployments();
  }

  // ---- alert ledger -----------------------------------------------------------------------------

  async claimAlert(
    claim: AlertClaim,
    lookbackMs: number,
    decide: (history: AlertLedgerEntry[], now: number) => AlertSuppression | undefined,
  ) {
    return this.alerts.claimAlert(claim, lookbackMs, decide);
  }
  async getAlert(id: string) {
    return this.alerts.getAlert(id);
  }
  async recordAlertDelivery(id: string, channel: string) {
    this.alerts.recordAlertDelivery(id, channel);
  }

  // ---- API keys ---------------------------------------------------------------------------------

  async addApiKey(model: string, name: string, hash: string) {
    return this.apiKeys.addApiKey(model, name, hash);
  }
  async revokeApiKey(model: string, name: string) {
    return this.apiKeys.revokeApiKey(model, name);
  }
  async listApiKeys(model: string) {
    return this.apiKeys.listApiKeys(model);
  }
  async requiresApiKey(model: string) {
    return this.apiKeys.requiresApiKey(model);
  }
  async apiKeyName(model: string, hash: string) {
    return this.apiKeys.apiKeyName(model, hash);
  }

  // ---- shadow comparison ------------------------------------------------------------------------

  async shadowPairCounts(model: string, shadowVersion: string, since: ShadowSince) {
    return this.shadows.shadowPairCounts(model, shadowVersion, since);
  }

  // ---- label queue ------------------------------------------------------------------------------

  async labelQueue(model: string, query: LabelQueueQuery) {
    return this.queue.labelQueue(model, query);
  }
  async unlabelledPredictions(model: string, versions: string[], since: LogSince, limit: number) {
    return this.queue.unlabelledPredictions(model, versions, since, limit);
  }
  async recordLabelQueueOffers(model: string, strategy: LabelQueueStrategy, predictionIds: string[]) {
    this.queue.recordLabelQueueOffers(model, strategy, predictionIds);
  }
  async labelQueueSummary(model: string) {
    return this.queue.labelQueueSummary(model);
  }
}
