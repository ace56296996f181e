/**
 * The label queue: the served predictions without feedback that are most worth labelling, and
 * table label_queue_offers, which remembers which were offered so that feedback on them can be
 * counted as the queue's (PostgresLogWrites reports it with each feedback write).
 */
import type pg from 'pg';
import type { LabelQueueItem, LabelQueueQuery, LabelQueueStrategy, LabelQueueSummary, LogSince } from '../types.ts';
import type { LabelQueueStore } from '../store.ts';
import { optionalTime } from './db.ts';

/** A served prediction, and (disagreement) its twin's answer. */
type QueueRow = Omit<LabelQueueItem, 'other'> & {
  otherId?: string;
  otherVersion?: string;
  otherLabel?: string;
  otherConfidence?: number | null;
  otherProbabilities?: Record<string, number>;
};

const SERVED = `p.seq, p.id AS "predictionId", p.created_at AS "createdAt", p.version, p.role, p.task, p.features, p.label,
  p.confidence, p.probabilities`;

/** Served, unlabelled, and within `since` ($1 model, $2 after seq, $3 from time or null). */
const CANDIDATE = `p.model = $1 AND p.role <> 'shadow' AND p.seq > $2 AND ($3::timestamptz IS NULL OR p.created_at >= $3)
  AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.prediction_id = p.id)`;

const QUERIES: Record<LabelQueueStrategy, string> = {
  // A regression model has no confidence: the route refuses this strategy for one.
  confidence: `SELECT ${SERVED} FROM predictions p
    WHERE ${CANDIDATE} AND p.task = 'classification'
    ORDER BY p.confidence, p.seq DESC LIMIT $4`,
  // Total variation distance over the classes both name; regression labels are the text of numbers.
  disagreement: `SELECT ${SERVED}, s.id AS "otherId", s.version AS "otherVersion", s.label AS "otherLabel",
      s.confidence AS "otherConfidence", s.probabilities AS "otherProbabilities",
      CASE WHEN p.task = 'regression' THEN abs(p.label::float8 - s.label::float8)
           ELSE (SELECT coalesce(0.5 * sum(abs(a.value::float8 - b.value::float8)), 0)
                 FROM json_each_text(p.probabilities) a JOIN json_each_text(s.probabilities) b ON b.key = a.key) END AS disagreement
    FROM predictions s JOIN predictions p ON p.id = s.shadow_of
    WHERE s.model = $1 AND s.role = 'shadow' AND ${CANDIDATE}
    ORDER BY (p.task = 'classification' AND p.label <> s.label) DESC, disagreement DESC, p.seq DESC LIMIT $4`,
};

export class PostgresLabelQueue implements LabelQueueStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly now: () => Date,
  ) {}

  async labelQueue(model: string, query: LabelQueueQuery): Promise<LabelQueueItem[]> {
    const { rows } = await this.pool.query<QueueRow>(QUERIES[query.strategy], [...bounds(model, query.since), query.limit]);
    return rows.map(item);
  }

  async unlabelledPredictions(model: string, versions: string[], since: LogSince, limit: number): Promise<LabelQueueItem[]> {
    const { rows } = await this.pool.query<QueueRow>(
      `SELECT ${SERVED} FROM predictions p WHERE ${CANDIDATE} AND p.version = ANY($4::text[]) ORDER BY p.seq DESC LIMIT $5`,
      [...bounds(model, since), versions, limit],
    );
    return rows.map(item);
  }

  /** One statement, so one transaction; a prediction offered before keeps its first offer. */
  async recordLabelQueueOffers(model: string, strategy: LabelQueueStrategy, predictionIds: string[]): Promise<void> {
    await this.pool.query(
      `INSERT INTO label_queue_offers (prediction_id, model, strategy, offered_at)
       SELECT id, $1::text, $2::text, $3::timestamptz FROM unnest($4::text[]) WITH ORDINALITY AS offer (id, n) ORDER BY n
       ON CONFLICT DO NOTHING`,
      [model, strategy, this.now().toISOString(), predictionIds],
    );
  }

  async labelQueueSummary(model: string): Promise<LabelQueueSummary> {
    const { rows } = await this.pool.query<LabelQueueSummary>(
      `SELECT count(*) AS offered, count(f.id) AS labelled
       FROM label_queue_offers o LEFT JOIN feedback f ON f.prediction_id = o.prediction_id WHERE o.model = $1`,
      [model],
    );
    return rows[0];
  }
}

/** $1-$3 of CANDIDATE: an open seq bound is 0, an open time bound null. */
const bounds = (model: string, since: LogSince) => [model, since.afterSeq ?? 0, optionalTime(since.fromTime)];

function item(row: QueueRow): LabelQueueItem {
  const { otherId, otherVersion, otherLabel, otherConfidence, otherProbabilities, disagreement, ...served } = row;
  if (otherId === undefined) return served;
  return {
    ...served,
    other: {
      predictionId: otherId,
      version: otherVersion!,
      role: 'shadow',
      label: otherLabel!,
      confidence: otherConfidence ?? null,
      probabilities: otherProbabilities!,
    },
    disagreement: disagreement!,
  };
}
