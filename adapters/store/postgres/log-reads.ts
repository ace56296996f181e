/**
 * What monitoring and the canary read from tables predictions and feedback: everything after a
 * watermark (a seq or a feedback id, on the (model, seq) and (model, id) indexes) and live scores
 * since a time (on (model, created_at)), so a cycle's cost follows the new rows, not the log.
 * Exports and the CSV header's columns are in log-export.ts.
 */
import type pg from 'pg';
import { feedbackEvent, type FeedbackRow } from '../feedback-rules.ts';
import type { FeedbackEvent, Features, LabelledPrediction, LiveErrors, LoggedPrediction } from '../types.ts';
import { isoTime } from './db.ts';

/**
 * The queries, by method; $1 is the model, $2 the watermark (a seq, a feedback id or an ISO
 * time), $3 a limit. Exported so a test can EXPLAIN them against a large log.
 */
export const MONITORING_SQL = {
  feedbackSince: `SELECT f.id AS "feedbackId", f.kind, f.label, p.version, p.role, p.label AS predicted, p.probabilities, p.features
    FROM feedback f JOIN predictions p ON p.id = f.prediction_id
    WHERE f.model = $1 AND f.id > $2 ORDER BY f.id`,
  maxPredictionSeq: 'SELECT coalesce(max(seq), 0) AS seq FROM predictions WHERE model = $1',
  // Shadow predictions repeat served inputs: counted in, they would skew monitoring's drift tests.
  countPredictionsSince: `SELECT count(*) AS n FROM predictions WHERE model = $1 AND seq > $2 AND role <> 'shadow'`,
  predictionsSince: `SELECT seq, version, role, features, label, probabilities FROM predictions
    WHERE model = $1 AND seq > $2 AND role <> 'shadow' ORDER BY seq DESC LIMIT $3`,
  recentPredictions: `SELECT features, label, confidence, version FROM predictions
    WHERE model = $1 AND role <> 'shadow' ORDER BY seq DESC LIMIT $2`,
  labelledSince: `SELECT f.id AS "feedbackId", p.version, p.role, p.label AS predicted, f.label AS truth
    FROM feedback f JOIN predictions p ON p.id = f.prediction_id
    WHERE f.model = $1 AND f.id > $2 AND f.label IS NOT NULL ORDER BY f.id`,
  maxFeedbackId: 'SELECT coalesce(max(id), 0) AS id FROM feedback WHERE model = $1',
  liveAccuracy: `SELECT p.version, count(*) AS n, count(*) FILTER (WHERE p.label = f.label) AS correct
    FROM predictions p JOIN feedback f ON f.prediction_id = p.id
    WHERE p.model = $1 AND p.created_at >= $2 GROUP BY p.version`,
  // Labels of regression predictions and their feedback are the text of numbers (String(n)).
  liveErrors: `SELECT version, count(*) AS n, avg(abs(error)) AS mae, avg(error * error) AS mse, avg(error * error * error * error) AS se2
    FROM (SELECT p.version, f.label::float8 - p.label::float8 AS error
          FROM predictions p JOIN feedback f ON f.prediction_id = p.id
          WHERE p.model = $1 AND p.created_at >= $2 AND p.task = 'regression' AND f.label IS NOT NULL) AS errors
    GROUP BY version`,
};

export class PostgresLogReads {
  constructor(private readonly pool: pg.Pool) {}

  async feedbackSince(model: string, afterFeedbackId: number): Promise<FeedbackEvent[]> {
    return (await this.pool.query<FeedbackRow>(MONITORING_SQL.feedbackSince, [model, afterFeedbackId])).rows.map(feedbackEvent);
  }

  async maxPredictionSeq(model: string): Promise<number> {
    return (await this.pool.query(MONITORING_SQL.maxPredictionSeq, [model])).rows[0].seq;
  }

  async countPredictionsSince(model: string, afterSeq: number): Promise<number> {
    const { rows } = await this.pool.query(MONITORING_SQL.countPredictionsSince, [model, afterSeq]);
    return rows[0].n;
  }

  async predictionsSince(model: string, afterSeq: number, limit: number): Promise<{ rows: LoggedPrediction[]; maxSeq: number }> {
    const { rows } = await this.pool.query<LoggedPrediction>(MONITORING_SQL.predictionsSince, [model, afterSeq, limit]);
    rows.reverse();
    return { rows, maxSeq: rows.length ? rows[rows.length - 1].seq : afterSeq };
  }

  async recentPredictions(model: string, limit: number) {
    const { rows } = await this.pool.query<{ features: Features; label: string; confidence: number | null; version: string }>(
      MONITORING_SQL.recentPredictions,
      [model, limit],
    );
    return rows.reverse();
  }

  async labelledSince(model: string, afterFeedbackId: number): Promise<LabelledPrediction[]> {
    const { rows } = await this.pool.query<LabelledPrediction>(MONITORING_SQL.labelledSince, [model, afterFeedbackId]);
    return rows;
  }

  async maxFeedbackId(model: string): Promise<number> {
    return (await this.pool.query(MONITORING_SQL.maxFeedbackId, [model])).rows[0].id;
  }

  async liveAccuracy(model: string, sinceIso: string): Promise<Record<string, { n: number; correct: number }>> {
    const { rows } = await this.pool.query<{ version: string; n: number; correct: number }>(MONITORING_SQL.liveAccuracy, [
      model,
      isoTime(sinceIso),
    ]);
    return Object.fromEntries(rows.map((r) => [r.version, { n: r.n, correct: r.correct }]));
  }

  async liveErrors(model: string, sinceIso: string): Promise<Record<string, LiveErrors>> {
    const { rows } = await this.pool.query<{ version: string; n: number; mae: number; mse: number; se2: number }>(
      MONITORING_SQL.liveErrors,
      [model, isoTime(sinceIso)],
    );
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
}
