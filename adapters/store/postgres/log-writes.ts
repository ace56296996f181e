/**
 * Writes to tables predictions and feedback: predictions logged, feedback (delayed ground truth),
 * and the model server's group commit of both. A feedback with a label also becomes a training
 * record, in the same transaction. Every transaction here holds the write lock of the models it
 * writes (db.ts lockModels), so a model's seqs and ids become visible in order.
 */
import type pg from 'pg';
import { FeedbackConflictError, LabelTypeError, UnknownLabelError, UnknownPredictionError } from '../../../core/errors.ts';
import { ANONYMOUS, describeFeedback, feedbackSource, storedLabel } from '../feedback-rules.ts';
import type { FeedbackInput, FeedbackKind, LogWrite, LogWriteResult, PredictionLog, Role, Task } from '../types.ts';
import { lockModels, savepoint, transaction, TransactionBrokenError } from './db.ts';

type FeedbackItem = { predictionId: string } & FeedbackInput;

/** Rows per INSERT: one round trip per chunk, with arrays of values bounded whatever the batch's size. */
const INSERT_CHUNK = 1000;

export class PostgresLogWrites {
  constructor(
    private readonly pool: pg.Pool,
    private readonly now: () => Date,
  ) {}

  async logPredictions(rows: PredictionLog[]): Promise<void> {
    if (rows.length === 0) return;
    await transaction(this.pool, async (client) => {
      await lockModels(
        client,
        rows.map((r) => r.model),
      );
      await this.insertPredictions(client, rows);
    });
  }

  async writeLog(writes: LogWrite[]): Promise<LogWriteResult[]> {
    return transaction(this.pool, async (client) => {
      await lockModels(client, await modelsWritten(client, writes));
      const predictionWrites = writes.flatMap((w) => (w.kind === 'predictions' ? [w.rows] : []));
      // A prediction is refused only when an invariant breaks (a duplicate id), so all of them go
      // in at once; only if that fails is each write tried alone, to refuse just its own.
      const together =
        predictionWrites.length > 1 &&
        (await savepoint(client, () => this.insertPredictions(client, predictionWrites.flat())).then(
          () => true,
          (err) => rethrowIfBroken(err, false),
        ));
      const results: LogWriteResult[] = [];
      for (const write of writes) {
        try {
          if (write.kind === 'predictions') {
            if (!together) await savepoint(client, () => this.insertPredictions(client, write.rows));
            results.push({ ok: true, ids: [] });
          } else {
            const ids = await savepoint(client, () =>
              this.recordFeedbackItems(client, write.items, write.model, write.sender ?? ANONYMOUS),
            );
            const offered = await client.query('SELECT count(*) AS n FROM label_queue_offers WHERE prediction_id = ANY($1::text[])', [
              write.items.map((item) => item.predictionId),
            ]);
            results.push({ ok: true, ids, offered: offered.rows[0].n });
          }
        } catch (error) {
          results.push({ ok: false, error: rethrowIfBroken(error, error) });
        }
      }
      return results;
    });
  }

  async addFeedback(predictionId: string, feedback: string | number | FeedbackInput, model?: string, sender = ANONYMOUS): Promise<number> {
    const item = typeof feedback === 'object' ? { predictionId, ...feedback } : { predictionId, label: feedback };
    return (await this.addFeedbackMany([item], model, sender))[0];
  }

  async addFeedbackMany(items: FeedbackItem[], model?: string, sender = ANONYMOUS): Promise<number[]> {
    return transaction(this.pool, async (client) => {
      await lockModels(client, await modelsWritten(client, [{ kind: 'feedback', items, model }]));
      return this.recordFeedbackItems(client, items, model, sender);
    });
  }

  private async recordFeedbackItems(client: pg.PoolClient, items: FeedbackItem[], model: string | undefined, sender: string) {
    const ids: number[] = [];
    for (const item of items) ids.push(await this.recordFeedback(client, item, model, sender));
    return ids;
  }

  private async recordFeedback(client: pg.PoolClient, item: FeedbackItem, model: string | undefined, sender: string): Promise<number> {
    const { predictionId } = item;
    const kind = item.kind ?? 'label';
    const { rows } = await client.query<FeedbackTarget>(
      `SELECT p.model, p.role, p.task, p.label, p.probabilities, f.id AS "feedbackId", f.kind AS "feedbackKind", f.label AS "feedbackLabel"
       FROM predictions p LEFT JOIN feedback f ON f.prediction_id = p.id WHERE p.id = $1`,
      [predictionId],
    );
    const prediction = rows[0];
    // A shadow prediction was never answered to anyone, so nobody can have feedback on it.
    if (!prediction || prediction.role === 'shadow' || (model !== undefined && prediction.model !== model))
      throw new UnknownPredictionError(predictionId, model);
    // The prediction's probabilities name every class its model can output ({} for regression).
    const classes = Object.keys(prediction.probabilities);
    // Accepting a prediction says its label was the truth (a regression model's: its predicted value).
    const label = kind === 'accepted' ? prediction.label : storedLabel(predictionId, prediction.task, classes, item.label);
    if (kind === 'label' && label === undefined) {
      if (prediction.task === 'regression') throw new LabelTypeError(predictionId, undefined, { task: 'regression' });
      throw new UnknownLabelError(predictionId, '(none)', classes);
    }
    if (prediction.feedbackId !== null) {
      if (prediction.feedbackKind === kind && prediction.feedbackLabel === (label ?? null)) return prediction.feedbackId;
      throw new FeedbackConflictError(
        predictionId,
        describeFeedback(prediction.feedbackKind!, prediction.feedbackLabel),
        describeFeedback(kind, label ?? null),
      );
    }
    if (label !== undefined && prediction.task !== 'regression' && !classes.includes(label))
      throw new UnknownLabelError(predictionId, label, classes);
    // The record (when there is a label) and the feedback pointing at it, in one statement.
    const inserted = await client.query<{ id: number }>(
      `WITH record AS (
         INSERT INTO records (model, features, label, source, created_at)
         SELECT model, features, $3::text, $4::text, $6::timestamptz FROM predictions WHERE id = $1 AND $3::text IS NOT NULL RETURNING id)
       INSERT INTO feedback (prediction_id, model, kind, label, record_id, created_at, source)
       VALUES ($1, $2, $5, $3, (SELECT id FROM record), $6, $7) RETURNING id`,
      [predictionId, prediction.model, label ?? null, feedbackSource(sender), kind, this.now().toISOString(), sender],
    );
    return inserted.rows[0].id;
  }

  /** Multi-row inserts from arrays of values, in the rows' order (seqs follow it). */
  private async insertPredictions(client: pg.PoolClient, rows: PredictionLog[]): Promise<void> {
    const createdAt = this.now().toISOString();
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const chunk = rows.slice(i, i + INSERT_CHUNK);
      await client.query(
        `INSERT INTO predictions (id, model, version, role, task, features, label, confidence, probabilities, shadow_of, created_at)
         SELECT r.id, r.model, r.version, r.role, r.task, r.features::json, r.label, r.confidence, r.probabilities::json, r.shadow_of, $1::timestamptz
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::float8[], $10::text[], $11::text[])
           WITH ORDINALITY AS r (id, model, version, role, task, features, label, confidence, probabilities, shadow_of, n)
         ORDER BY r.n`,
        [
          createdAt,
          chunk.map((r) => r.id),
          chunk.map((r) => r.model),
          chunk.map((r) => r.version),
          chunk.map((r) => r.role),
          chunk.map((r) => r.task ?? 'classification'),
          chunk.map((r) => JSON.stringify(r.features)),
          chunk.map((r) => r.label),
          chunk.map((r) => r.confidence),
          chunk.map((r) => JSON.stringify(r.probabilities)),
          chunk.map((r) => r.shadowOf ?? null),
        ],
      );
    }
  }
}

interface FeedbackTarget {
  model: string;
  role: Role;
  task: Task;
  label: string;
  probabilities: Record<string, number>;
  feedbackId: number | null;
  feedbackKind: FeedbackKind | null;
  feedbackLabel: string | null;
}

/** The models whose rows the writes add: the predictions', and the models of the predictions given feedback. */
async function modelsWritten(client: pg.PoolClient, writes: LogWrite[]): Promise<string[]> {
  const models = writes.flatMap((w) => (w.kind === 'predictions' ? w.rows.map((r) => r.model) : w.model === undefined ? [] : [w.model]));
  const predictionIds = writes.flatMap((w) => (w.kind === 'feedback' ? w.items.map((item) => item.predictionId) : []));
  if (predictionIds.length === 0) return models;
  const { rows } = await client.query<{ model: string }>('SELECT DISTINCT model FROM predictions WHERE id = ANY($1::text[])', [
    predictionIds,
  ]);
  return [...models, ...rows.map((r) => r.model)];
}

/** A broken transaction fails the whole batch; any other error is one write's. */
function rethrowIfBroken<T>(err: unknown, otherwise: T): T {
  if (err instanceof TransactionBrokenError) throw err;
  return otherwise;
}
