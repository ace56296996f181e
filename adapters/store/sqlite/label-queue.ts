/**
 * The label queue: the served predictions without feedback that are most worth labelling (the
 * model server ranks a canary's itself: serving/canary-disagreement.ts), and table
 * label_queue_offers, which remembers which were offered so that feedback on them can be counted
 * as the queue's (SqlitePredictionLog reports it with each feedback write).
 */
import type Database from 'better-sqlite3';
import type { LabelQueueItem, LabelQueueQuery, LabelQueueStrategy, LabelQueueSummary, LogSince } from '../types.ts';
import type { LabelQueueStore } from '../store.ts';
import type { Synchronous } from './synchronous.ts';
import type { ExportRow } from './export-rows.ts';

/** A served prediction as the export reads it, and (disagreement) its twin's answer. */
interface QueueRow extends Pick<
  ExportRow,
  'seq' | 'createdAt' | 'version' | 'role' | 'task' | 'features' | 'label' | 'confidence' | 'probabilities'
> {
  predictionId: string;
  otherId?: string;
  otherVersion?: string;
  otherLabel?: string;
  otherConfidence?: number | null;
  otherProbabilities?: string;
  disagreement?: number;
}

const SERVED = `p.seq AS seq, p.id AS predictionId, p.created_at AS createdAt, p.version, p.role, p.task, p.features, p.label,
  p.confidence, p.probabilities`;

/** Served, unlabelled, and within `since` (bounds left open: afterSeq 0, fromTime ''). */
const CANDIDATE = `p.model = @model AND p.role != 'shadow' AND p.seq > @afterSeq AND p.created_at >= @fromTime
  AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.prediction_id = p.id)`;

const QUERIES: Record<LabelQueueStrategy, string> = {
  // A regression model has no confidence: the route refuses this strategy for one.
  confidence: `SELECT ${SERVED} FROM predictions p
    WHERE ${CANDIDATE} AND p.task = 'classification'
    ORDER BY p.confidence, p.seq DESC LIMIT @limit`,
  // Total variation distance over the classes both name; regression labels are the text of numbers.
  disagreement: `SELECT ${SERVED}, s.id AS otherId, s.version AS otherVersion, s.label AS otherLabel,
      s.confidence AS otherConfidence, s.probabilities AS otherProbabilities,
      CASE WHEN p.task = 'regression' THEN abs(CAST(p.label AS REAL) - CAST(s.label AS REAL))
           ELSE (SELECT coalesce(0.5 * sum(abs(a.value - b.value)), 0)
                 FROM json_each(p.probabilities) a JOIN json_each(s.probabilities) b ON b.key = a.key) END AS disagreement
    FROM predictions s JOIN predictions p ON p.id = s.shadow_of
    WHERE s.model = @model AND s.role = 'shadow' AND ${CANDIDATE}
    ORDER BY (p.task = 'classification' AND p.label != s.label) DESC, disagreement DESC, p.seq DESC LIMIT @limit`,
};

export class SqliteLabelQueue implements Synchronous<LabelQueueStore> {
  private readonly statements;
  private readonly recordOffers;

  constructor(
    db: Database.Database,
    private readonly now: () => Date,
  ) {
    this.statements = {
      confidence: db.prepare(QUERIES.confidence),
      disagreement: db.prepare(QUERIES.disagreement),
      unlabelled: db.prepare(
        `SELECT ${SERVED} FROM predictions p
         WHERE ${CANDIDATE} AND p.version IN (SELECT value FROM json_each(@versions)) ORDER BY p.seq DESC LIMIT @limit`,
      ),
      insertOffer: db.prepare(
        'INSERT INTO label_queue_offers (prediction_id, model, strategy, offered_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      summary: db.prepare(
        `SELECT count(*) AS offered, count(f.id) AS labelled
         FROM label_queue_offers o LEFT JOIN feedback f ON f.prediction_id = o.prediction_id WHERE o.model = ?`,
      ),
    };
    this.recordOffers = db.transaction((model: string, strategy: LabelQueueStrategy, predictionIds: string[]) => {
      const offeredAt = this.now().toISOString();
      for (const id of predictionIds) this.statements.insertOffer.run(id, model, strategy, offeredAt);
    });
  }

  labelQueue(model: string, query: LabelQueueQuery): LabelQueueItem[] {
    const rows = this.statements[query.strategy].all({ ...bounds(model, query.since), limit: query.limit }) as QueueRow[];
    return rows.map(item);
  }

  unlabelledPredictions(model: string, versions: string[], since: LogSince, limit: number): LabelQueueItem[] {
    const rows = this.statements.unlabelled.all({ ...bounds(model, since), versions: JSON.stringify(versions), limit }) as QueueRow[];
    return rows.map(item);
  }

  recordLabelQueueOffers(model: string, strategy: LabelQueueStrategy, predictionIds: string[]): void {
    this.recordOffers.immediate(model, strategy, predictionIds);
  }

  labelQueueSummary(model: string): LabelQueueSummary {
    return this.statements.summary.get(model) as LabelQueueSummary;
  }
}

/** The CANDIDATE bounds of a query: seq and time bounds left open are 0 and ''. */
function bounds(model: string, since: LogSince) {
  return { model, afterSeq: since.afterSeq ?? 0, fromTime: since.fromTime === undefined ? '' : isoTime(since.fromTime) };
}

function item(row: QueueRow): LabelQueueItem {
  const { features, probabilities, otherId, otherVersion, otherLabel, otherConfidence, otherProbabilities, disagreement, ...served } = row;
  const parsed = { ...served, features: JSON.parse(features), probabilities: JSON.parse(probabilities) };
  if (otherId === undefined) return parsed;
  return {
    ...parsed,
    other: {
      predictionId: otherId,
      version: otherVersion!,
      role: 'shadow',
      label: otherLabel!,
      confidence: otherConfidence ?? null,
      probabilities: JSON.parse(otherProbabilities!),
    },
    disagreement: disagreement!,
  };
}

/** `iso` as toISOString() spells it (stored times are, so text order is time order); RangeError when it is not a time. */
function isoTime(iso: string): string {
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) throw new RangeError(`"${iso}" is not an ISO time`);
  return time.toISOString();
}
