/** The prediction log exported: every logged prediction with its feedback, a page at a time, and the CSV header's columns. */
import type pg from 'pg';
import type { ExportedPrediction, FeedbackKind, LogSince } from '../types.ts';
import { optionalTime } from './db.ts';

/** Rows per exportLog page: bounds the memory an export holds, whatever the log's size. */
const EXPORT_PAGE = 500;

type ExportRow = Omit<ExportedPrediction, 'feedback'> & {
  feedbackKind: FeedbackKind | null;
  feedbackLabel: string | null;
  feedbackSource: string | null;
  feedbackAt: string | null;
};

// An open time bound ($3 null) is folded away when the query is planned with its values.
const SINCE = `p.model = $1 AND p.seq > $2 AND ($3::timestamptz IS NULL OR p.created_at >= $3)`;

/** A page of the export: $1 model, $2 after seq, $3 from time or null, $4 the page's size. Exported for a test to EXPLAIN. */
export const EXPORT_PAGE_SQL = `SELECT p.seq, p.id, p.created_at AS "createdAt", p.version, p.role, p.task, p.features, p.label,
    p.confidence, p.probabilities, p.shadow_of AS "shadowOf", f.kind AS "feedbackKind", f.label AS "feedbackLabel",
    f.source AS "feedbackSource", f.created_at AS "feedbackAt"
  FROM predictions p LEFT JOIN feedback f ON f.prediction_id = p.id
  WHERE ${SINCE} ORDER BY p.seq LIMIT $4`;

export class PostgresLogExport {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Pages by seq (keyset: "seq > the last one read", on the (model, seq) index), each page one
   * query, so no connection or snapshot is held while the caller is slow; a page costs the same
   * at the end of the log as at its start, which OFFSET would not.
   */
  async *exportLog(model: string, since: LogSince): AsyncIterable<ExportedPrediction> {
    const fromTime = optionalTime(since.fromTime);
    let afterSeq = since.afterSeq ?? 0;
    for (;;) {
      const { rows } = await this.pool.query<ExportRow>(EXPORT_PAGE_SQL, [model, afterSeq, fromTime, EXPORT_PAGE]);
      for (const row of rows) yield exported(row);
      if (rows.length < EXPORT_PAGE) return;
      afterSeq = rows[rows.length - 1].seq;
    }
  }

  async exportColumns(model: string, since: LogSince): Promise<{ features: string[]; classes: string[] }> {
    const params = [model, since.afterSeq ?? 0, optionalTime(since.fromTime)];
    // Sorted bytewise (COLLATE "C"), as the SQLite store sorts them, whatever the server's locale.
    const keys = async (column: 'features' | 'probabilities') =>
      (
        await this.pool.query<{ key: string }>(
          `SELECT DISTINCT k COLLATE "C" AS key FROM predictions p, json_object_keys(p.${column}) AS k WHERE ${SINCE} ORDER BY key`,
          params,
        )
      ).rows.map((r) => r.key);
    return { features: await keys('features'), classes: await keys('probabilities') };
  }
}

function exported(r: ExportRow): ExportedPrediction {
  const { feedbackKind, feedbackLabel, feedbackSource, feedbackAt, ...prediction } = r;
  return {
    ...prediction,
    feedback: feedbackKind === null ? null : { kind: feedbackKind, label: feedbackLabel, source: feedbackSource!, createdAt: feedbackAt! },
  };
}
