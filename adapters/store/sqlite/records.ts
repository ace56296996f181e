/**
 * Tables records and quarantined_records: labelled training data, and the records taken out of
 * every training window by source.
 */
import type Database from 'better-sqlite3';
import type { TrainingWindow } from '../../../core/spec.ts';
import type { LabelledRecord, SourceSummary } from '../types.ts';
import type { RecordStore } from '../store.ts';
import type { Synchronous } from './synchronous.ts';

type RecordRow = { id: number; features: string; label: string; source: string };

export class SqliteRecords implements Synchronous<RecordStore> {
  private readonly statements;

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => Date,
  ) {
    this.statements = {
      insertRecord: db.prepare('INSERT INTO records (model, features, label, source, created_at) VALUES (?, ?, ?, ?, ?)'),
      allRecords: db.prepare('SELECT id, features, label, source FROM records WHERE model = ? ORDER BY id'),
      recordsAfter: db.prepare('SELECT id, features, label, source FROM records WHERE model = ? AND id > ? ORDER BY id'),
      // Stored times are all toISOString() output, so text order is time order.
      recordsCreatedSince: db.prepare('SELECT id, features, label, source FROM records WHERE model = ? AND created_at >= ? ORDER BY id'),
      lastRecords: db.prepare(
        'SELECT * FROM (SELECT id, features, label, source FROM records WHERE model = ? ORDER BY id DESC LIMIT ?) ORDER BY id',
      ),
      referenceRecords: db.prepare(
        `SELECT * FROM (SELECT id, features, label, source FROM records
           WHERE model = ? AND id <= ? AND (? IS NULL OR source = ?) ORDER BY id DESC LIMIT ?) ORDER BY id`,
      ),
      maxRecordId: db.prepare('SELECT coalesce(max(id), 0) AS id FROM records WHERE model = ?').pluck(),
      countRecordsSince: db.prepare('SELECT count(*) FROM records WHERE model = ? AND id > ?').pluck(),
    };
  }

  /**
   * Inserts one record whose features are already JSON, inside the caller's transaction; its id.
   * Feedback with a label becomes a record this way (SqlitePredictionLog).
   */
  insert(model: string, featuresJson: string, label: string, source: string, createdAt: string): number {
    return Number(this.statements.insertRecord.run(model, featuresJson, label, source, createdAt).lastInsertRowid);
  }

  addRecords(model: string, records: LabelledRecord[]): number {
    const createdAt = this.now().toISOString();
    this.db
      .transaction(() => {
        for (const r of records) this.statements.insertRecord.run(model, JSON.stringify(r.features), r.label, r.source, createdAt);
      })
      .immediate();
    return records.length;
  }

  readRecords(
    model: string,
    window: TrainingWindow,
    at: { asOf?: string; championTrainedThrough?: number } = {},
  ): Array<{ id: number } & LabelledRecord> {
    const s = this.statements;
    const since = (days: number) => new Date((at.asOf ? Date.parse(at.asOf) : this.now().getTime()) - days * 86_400_000).toISOString();
    const rows = (
      window.kind === 'lastRows'
        ? s.lastRecords.all(model, window.rows)
        : window.kind === 'lastDays'
          ? s.recordsCreatedSince.all(model, since(window.days))
          : window.kind === 'sinceChampion'
            ? s.recordsAfter.all(model, at.championTrainedThrough ?? 0)
            : s.allRecords.all(model)
    ) as RecordRow[];
    return rows.map((r) => ({ id: r.id, features: JSON.parse(r.features), label: r.label, source: r.source }));
  }

  referenceRecords(model: string, filter: { throughId?: number; source?: string }, limit: number): Array<{ id: number } & LabelledRecord> {
    const source = filter.source ?? null;
    const rows = this.statements.referenceRecords.all(
      model,
      filter.throughId ?? Number.MAX_SAFE_INTEGER,
      source,
      source,
      limit,
    ) as RecordRow[];
    return rows.map((r) => ({ id: r.id, features: JSON.parse(r.features), label: r.label, source: r.source }));
  }

  maxRecordId(model: string): number {
    return this.statements.maxRecordId.get(model) as number;
  }

  countRecordsSince(model: string, afterId: number): number {
    return this.statements.countRecordsSince.get(model, afterId) as number;
  }

  // ---- by source, and quarantine ----------------------------------------------------------------

  recordsBySource(model: string): SourceSummary[] {
    const rows = this.db
      .prepare(
        `SELECT source, sum(quarantined = 0) AS records, sum(quarantined) AS quarantined, min(id) AS firstId, max(id) AS lastId,
                min(created_at) AS firstAt, max(created_at) AS lastAt
         FROM (SELECT id, source, created_at, 0 AS quarantined FROM records WHERE model = ?
               UNION ALL SELECT id, source, created_at, 1 FROM quarantined_records WHERE model = ?)
         GROUP BY source ORDER BY firstId`,
      )
      .all(model, model) as SourceSummary[];
    return rows;
  }

  /**
   * Moves the records out of the records table into quarantined_records, ids kept (never reused:
   * AUTOINCREMENT). The link from feedback to such a record moves with it (feedback_id).
   */
  quarantineSource(model: string, source: string, reason: string): number {
    return this.db
      .transaction(() => {
        const quarantinedAt = this.now().toISOString();
        const moved = this.db
          .prepare(
            `INSERT INTO quarantined_records (id, model, features, label, source, created_at, feedback_id, quarantined_at, reason)
             SELECT r.id, r.model, r.features, r.label, r.source, r.created_at, f.id, ?, ? FROM records r LEFT JOIN feedback f ON f.record_id = r.id
             WHERE r.model = ? AND r.source = ?`,
          )
          .run(quarantinedAt, reason, model, source).changes;
        this.db
          .prepare(
            'UPDATE feedback SET record_id = NULL WHERE record_id IN (SELECT id FROM quarantined_records WHERE model = ? AND source = ?)',
          )
          .run(model, source);
        this.db.prepare('DELETE FROM records WHERE model = ? AND source = ?').run(model, source);
        return moved;
      })
      .immediate();
  }

  restoreSource(model: string, source: string): number {
    return this.db
      .transaction(() => {
        const restored = this.db
          .prepare(
            `INSERT INTO records (id, model, features, label, source, created_at)
             SELECT id, model, features, label, source, created_at FROM quarantined_records WHERE model = ? AND source = ?`,
          )
          .run(model, source).changes;
        this.db
          .prepare(
            'UPDATE feedback SET record_id = (SELECT q.id FROM quarantined_records q WHERE q.feedback_id = feedback.id) WHERE id IN (SELECT feedback_id FROM quarantined_records WHERE model = ? AND source = ?)',
          )
          .run(model, source);
        this.db.prepare('DELETE FROM quarantined_records WHERE model = ? AND source = ?').run(model, source);
        return restored;
      })
      .immediate();
  }
}
