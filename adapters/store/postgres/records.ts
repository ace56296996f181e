/**
 * Tables records and quarantined_records: labelled training data, and the records taken out of
 * every training window by source.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { TrainingWindow } from '../../../core/spec.ts';
import type { LabelledRecord, SourceSummary } from '../types.ts';
import type { RecordStore } from '../store.ts';
import { copyRow } from './copy-text.ts';
import { lockModels, transaction, type Queryable } from './db.ts';

type RecordRow = { id: number } & LabelledRecord;

const RECORD = 'SELECT id, features, label, source FROM records';

/** Records per piece of COPY data: fewer, larger writes to the socket, the import never held twice as text. */
const COPY_CHUNK = 1000;

export class PostgresRecords implements RecordStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly now: () => Date,
  ) {}

  /**
   * One COPY in one transaction, under the model's write lock: ids follow the records' order, and
   * a row Postgres refuses (a NUL character, a missing label) refuses the whole import.
   */
  async addRecords(model: string, records: LabelledRecord[]): Promise<number> {
    const createdAt = this.now().toISOString();
    await transaction(this.pool, async (client) => {
      await lockModels(client, [model]);
      if (records.length === 0) return;
      await pipeline(
        Readable.from(copyData(model, records, createdAt)),
        client.query(copyFrom('COPY records (model, features, label, source, created_at) FROM STDIN')),
      );
    });
    return records.length;
  }

  async readRecords(model: string, window: TrainingWindow, at: { asOf?: string; championTrainedThrough?: number } = {}) {
    const since = (days: number) => new Date((at.asOf ? Date.parse(at.asOf) : this.now().getTime()) - days * 86_400_000).toISOString();
    if (window.kind === 'lastRows')
      return newestFirstReversed(this.pool, `${RECORD} WHERE model = $1 ORDER BY id DESC LIMIT $2`, [model, window.rows]);
    const filter =
      window.kind === 'lastDays'
        ? { where: 'AND created_at >= $2', params: [since(window.days)] }
        : window.kind === 'sinceChampion'
          ? { where: 'AND id > $2', params: [at.championTrainedThrough ?? 0] }
          : { where: '', params: [] };
    return (await this.pool.query<RecordRow>(`${RECORD} WHERE model = $1 ${filter.where} ORDER BY id`, [model, ...filter.params])).rows;
  }

  async referenceRecords(model: string, filter: { throughId?: number; source?: string }, limit: number) {
    return newestFirstReversed(
      this.pool,
      `${RECORD} WHERE model = $1 AND id <= $2 AND ($3::text IS NULL OR source = $3) ORDER BY id DESC LIMIT $4`,
      [model, filter.throughId ?? Number.MAX_SAFE_INTEGER, filter.source ?? null, limit],
    );
  }

  async maxRecordId(model: string): Promise<number> {
    return (await this.pool.query('SELECT coalesce(max(id), 0) AS id FROM records WHERE model = $1', [model])).rows[0].id;
  }

  async countRecordsSince(model: string, afterId: number): Promise<number> {
    return (await this.pool.query('SELECT count(*) AS n FROM records WHERE model = $1 AND id > $2', [model, afterId])).rows[0].n;
  }

  // ---- by source, and quarantine ----------------------------------------------------------------

  async recordsBySource(model: string): Promise<SourceSummary[]> {
    const { rows } = await this.pool.query<SourceSummary>(
      `SELECT source, count(*) FILTER (WHERE NOT quarantined) AS records, count(*) FILTER (WHERE quarantined) AS quarantined,
              min(id) AS "firstId", max(id) AS "lastId", min(created_at) AS "firstAt", max(created_at) AS "lastAt"
       FROM (SELECT id, source, created_at, false AS quarantined FROM records WHERE model = $1
             UNION ALL SELECT id, source, created_at, true FROM quarantined_records WHERE model = $1) AS all_records
       GROUP BY source ORDER BY "firstId"`,
      [model],
    );
    return rows;
  }

  /** Moves the records into quarantined_records, ids kept; the link from their feedback moves with them (feedback_id). */
  async quarantineSource(model: string, source: string, reason: string): Promise<number> {
    return transaction(this.pool, async (client) => {
      await lockModels(client, [model]);
      const moved = await client.query(
        `INSERT INTO quarantined_records (id, model, features, label, source, created_at, feedback_id, quarantined_at, reason)
         SELECT r.id, r.model, r.features, r.label, r.source, r.created_at, f.id, $1::timestamptz, $2::text
         FROM records r LEFT JOIN feedback f ON f.record_id = r.id WHERE r.model = $3 AND r.source = $4`,
        [this.now().toISOString(), reason, model, source],
      );
      await client.query(
        `UPDATE feedback SET record_id = NULL
         WHERE record_id IN (SELECT id FROM quarantined_records WHERE model = $1 AND source = $2)`,
        [model, source],
      );
      await client.query('DELETE FROM records WHERE model = $1 AND source = $2', [model, source]);
      return moved.rowCount ?? 0;
    });
  }

  async restoreSource(model: string, source: string): Promise<number> {
    return transaction(this.pool, async (client) => {
      await lockModels(client, [model]);
      const restored = await client.query(
        `INSERT INTO records (id, model, features, label, source, created_at)
         SELECT id, model, features, label, source, created_at FROM quarantined_records WHERE model = $1 AND source = $2`,
        [model, source],
      );
      await client.query(
        `UPDATE feedback f SET record_id = q.id FROM quarantined_records q
         WHERE q.feedback_id = f.id AND q.model = $1 AND q.source = $2`,
        [model, source],
      );
      await client.query('DELETE FROM quarantined_records WHERE model = $1 AND source = $2', [model, source]);
      return restored.rowCount ?? 0;
    });
  }
}

/** A query's rows (newest first, to take the last N) in ascending id order. */
async function newestFirstReversed(db: Queryable, sql: string, params: unknown[]): Promise<RecordRow[]> {
  return (await db.query<RecordRow>(sql, params)).rows.reverse();
}

/** The records as COPY text, COPY_CHUNK rows a piece; features as JSON.stringify spells them (as the SQLite store keeps them). */
function* copyData(model: string, records: LabelledRecord[], createdAt: string): Generator<string> {
  for (let i = 0; i < records.length; i += COPY_CHUNK) {
    let piece = '';
    for (const r of records.slice(i, i + COPY_CHUNK))
      piece += copyRow([model, JSON.stringify(r.features) as string | undefined, r.label, r.source, createdAt]);
    yield piece;
  }
}
