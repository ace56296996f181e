/**
 * The Store on a Postgres database (the `pg` client and a pool), composed of one object per
 * table group like the SQLite store. Several processes (model-server replicas, workers, the CLI)
 * share the database: what SQLite gets from one writer at a time, this store gets from
 * transactions, advisory locks (claimAlert; a model's log writes, db.ts lockModels) and
 * single-statement writes.
 */
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
import type pg from 'pg';
import { createPool, redactedUrl } from './db.ts';
import { migrate } from './migrations.ts';
import { PostgresRecords } from './records.ts';
import { PostgresLogWrites } from './log-writes.ts';
import { PostgresLogReads } from './log-reads.ts';
import { PostgresLogExport } from './log-export.ts';
import { PostgresDeployments } from './deployments.ts';
import { PostgresAlertLedger } from './alerts.ts';
import { PostgresApiKeys } from './api-keys.ts';
import { PostgresShadowComparison } from './shadow-comparison.ts';
import { PostgresLabelQueue } from './label-queue.ts';

/**
 * Connects to the database at `url` (postgres://user:password@host:port/database) and brings its
 * schema up to date. `options.synchronous` is SQLite's: a Postgres commit's durability is the
 * server's setting (synchronous_commit).
 */
export async function openPostgresStore(url: string, options: StoreOptions = {}): Promise<Store> {
  const pool = createPool(url);
  try {
    await migrate(pool);
  } catch (err) {
    await pool.end();
    throw new Error(`could not open the Postgres store at ${redactedUrl(url)}: ${(err as Error).message}`, { cause: err });
  }
  return new PostgresStore(pool, options.now ?? (() => new Date()));
}

class PostgresStore implements Store {
  private readonly records: PostgresRecords;
  private readonly writes: PostgresLogWrites;
  private readonly reads: PostgresLogReads;
  private readonly exports: PostgresLogExport;
  private readonly deployments: PostgresDeployments;
  private readonly alerts: PostgresAlertLedger;
  private readonly apiKeys: PostgresApiKeys;
  private readonly shadows: PostgresShadowComparison;
  private readonly queue: PostgresLabelQueue;

  constructor(
    private readonly pool: pg.Pool,
    now: () => Date,
  ) {
    this.records = new PostgresRecords(pool, now);
    this.writes = new PostgresLogWrites(pool, now);
    this.reads = new PostgresLogReads(pool);
    this.exports = new PostgresLogExport(pool);
    this.deployments = new PostgresDeployments(pool);
    this.alerts = new PostgresAlertLedger(pool, now);
    this.apiKeys = new PostgresApiKeys(pool, now);
    this.shadows = new PostgresShadowComparison(pool);
    this.queue = new PostgresLabelQueue(pool, now);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  // ---- records, and quarantine ------------------------------------------------------------------

  addRecords(model: string, records: LabelledRecord[]) {
    return this.records.addRecords(model, records);
  }
  readRecords(model: string, window: TrainingWindow, at?: { asOf?: string; championTrainedThrough?: number }) {
    return this.records.readRecords(model, window, at);
  }
  referenceRecords(model: string, filter: { throughId?: number; source?: string }, limit: number) {
    return this.records.referenceRecords(model, filter, limit);
  }
  maxRecordId(model: string) {
    return this.records.maxRecordId(model);
  }
  countRecordsSince(model: string, afterId: number) {
    return this.records.countRecordsSince(model, afterId);
  }
  recordsBySource(model: string) {
    return this.records.recordsBySource(model);
  }
  quarantineSource(model: string, source: string, reason: string) {
    return this.records.quarantineSource(model, source, reason);
  }
  restoreSource(model: string, source: string) {
    return this.records.restoreSource(model, source);
  }

  // ---- predictions and feedback -----------------------------------------------------------------

  logPredictions(rows: PredictionLog[]) {
    return this.writes.logPredictions(rows);
  }
  writeLog(writes: LogWrite[]) {
    return this.writes.writeLog(writes);
  }
  addFeedback(predictionId: string, feedback: string | number | FeedbackInput, model?: string, sender?: string) {
    return this.writes.addFeedback(predictionId, feedback, model, sender);
  }
  addFeedbackMany(items: Array<{ predictionId: string } & FeedbackInput>, model?: string, sender?: string) {
    return this.writes.addFeedbackMany(items, model, sender);
  }
  feedbackSince(model: string, afterFeedbackId: number) {
    return this.reads.feedbackSince(model, afterFeedbackId);
  }
  maxPredictionSeq(model: string) {
    return this.reads.maxPredictionSeq(model);
  }
  countPredictionsSince(model: string, afterSeq: number) {
    return this.reads.countPredictionsSince(model, afterSeq);
  }
  predictionsSince(model: string, afterSeq: number, limit: number) {
    return this.reads.predictionsSince(model, afterSeq, limit);
  }
  recentPredictions(model: string, limit: number) {
    return this.reads.recentPredictions(model, limit);
  }
  labelledSince(model: string, afterFeedbackId: number) {
    return this.reads.labelledSince(model, afterFeedbackId);
  }
  maxFeedbackId(model: string) {
    return this.reads.maxFeedbackId(model);
  }
  liveAccuracy(model: string, sinceIso: string) {
    return this.reads.liveAccuracy(model, sinceIso);
  }
  liveErrors(model: string, sinceIso: string) {
    return this.reads.liveErrors(model, sinceIso);
  }
  exportLog(model: string, since: LogSince) {
    return this.exports.exportLog(model, since);
  }
  exportColumns(model: string, since: LogSince) {
    return this.exports.exportColumns(model, since);
  }

  // ---- deployments ------------------------------------------------------------------------------

  getDeployment(model: string) {
    return this.deployments.getDeployment(model);
  }
  setDeployment(model: string, state: DeploymentState) {
    return this.deployments.setDeployment(model, state);
  }
  listDeployments() {
    return this.deployments.listDeployments();
  }
  watchDeployments(onChange: (model?: string) => void) {
    return this.deployments.watchDeployments(onChange);
  }

  // ---- alert ledger -----------------------------------------------------------------------------

  claimAlert(claim: AlertClaim, lookbackMs: number, decide: (history: AlertLedgerEntry[], now: number) => AlertSuppression | undefined) {
    return this.alerts.claimAlert(claim, lookbackMs, decide);
  }
  getAlert(id: string) {
    return this.alerts.getAlert(id);
  }
  recordAlertDelivery(id: string, channel: string) {
    return this.alerts.recordAlertDelivery(id, channel);
  }

  // ---- API keys ---------------------------------------------------------------------------------

  addApiKey(model: string, name: string, hash: string) {
    return this.apiKeys.addApiKey(model, name, hash);
  }
  revokeApiKey(model: string, name: string) {
    return this.apiKeys.revokeApiKey(model, name);
  }
  listApiKeys(model: string) {
    return this.apiKeys.listApiKeys(model);
  }
  requiresApiKey(model: string) {
    return this.apiKeys.requiresApiKey(model);
  }
  apiKeyName(model: string, hash: string) {
    return this.apiKeys.apiKeyName(model, hash);
  }

  // ---- shadow comparison ------------------------------------------------------------------------

  shadowPairCounts(model: string, shadowVersion: string, since: ShadowSince) {
    return this.shadows.shadowPairCounts(model, shadowVersion, since);
  }

  // ---- label queue ------------------------------------------------------------------------------

  labelQueue(model: string, query: LabelQueueQuery) {
    return this.queue.labelQueue(model, query);
  }
  unlabelledPredictions(model: string, versions: string[], since: LogSince, limit: number) {
    return this.queue.unlabelledPredictions(model, versions, since, limit);
  }
  recordLabelQueueOffers(model: string, strategy: LabelQueueStrategy, predictionIds: string[]) {
    return this.queue.recordLabelQueueOffers(model, strategy, predictionIds);
  }
  labelQueueSummary(model: string) {
    return this.queue.labelQueueSummary(model);
  }
}
