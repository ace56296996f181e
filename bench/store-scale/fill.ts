/**
 * Grows a model's prediction log to a given size inside the database server itself (no rows
 * through the Store, which would take hours at 10 million): predictions made a second apart in
 * 2025, every fifth a shadow twin of the served prediction before it, feedback (a label) on a
 * third of the served ones, and a training record per feedback. `grow` adds the rows from the
 * log's current size up to `total`, in slices of a million, so a log is grown to 1M, measured,
 * then grown on to 10M. Both engines get the same rows.
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';

export const MODEL = 'scale';
export const SHADOW_VERSION = '2';
const SLICE = 1_000_000;
/** The old log's first second; prediction i is made i seconds later. */
const EPOCH_SECONDS = Date.parse('2025-01-01T00:00:00Z') / 1000;

export interface LogFiller {
  grow(from: number, to: number): Promise<void>;
  maxRecordId(): Promise<number>;
  /** The database's size on disk, in bytes. */
  bytes(): Promise<number>;
}

// Prediction i: 'old-i'; i % 5 = 0 is the shadow of i - 1. Feedback on served i with i % 3 = 0
// (its label is the predicted one on two in three), and a record for each.
export function postgresFiller(db: pg.Pool): LogFiller {
  return {
    async grow(from, to) {
      for (let lo = from; lo < to; lo += SLICE) {
        const range = [lo + 1, Math.min(lo + SLICE, to)];
        await db.query(
          `INSERT INTO predictions (id, model, version, role, shadow_of, task, features, label, confidence, probabilities, created_at)
           SELECT 'old-' || i, '${MODEL}', CASE WHEN i % 5 = 0 THEN '${SHADOW_VERSION}' ELSE '1' END,
                  CASE WHEN i % 5 = 0 THEN 'shadow' ELSE 'champion' END, CASE WHEN i % 5 = 0 THEN 'old-' || (i - 1) END,
                  'classification', json_build_object('x', i % 100, 'y', i % 7), CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END,
                  0.9, '{"a": 0.9, "b": 0.1}', to_timestamp(${EPOCH_SECONDS} + i)
           FROM generate_series($1::bigint, $2::bigint) AS i`,
          range,
        );
        await db.query(
          `INSERT INTO records (model, features, label, source, created_at)
           SELECT '${MODEL}', json_build_object('x', i % 100, 'y', i % 7), CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END, 'feedback', to_timestamp(${EPOCH_SECONDS} + i)
           FROM generate_series($1::bigint, $2::bigint) AS i WHERE i % 3 = 0 AND i % 5 <> 0`,
          range,
        );
        await db.query(
          `INSERT INTO feedback (prediction_id, model, kind, label, created_at)
           SELECT 'old-' || i, '${MODEL}', 'label', CASE WHEN i % 9 = 0 THEN 'c' WHEN i % 2 = 0 THEN 'a' ELSE 'b' END, to_timestamp(${EPOCH_SECONDS} + i)
           FROM generate_series($1::bigint, $2::bigint) AS i WHERE i % 3 = 0 AND i % 5 <> 0`,
          range,
        );
      }
      // As autovacuum would leave a long-lived log: statistics, and a visibility map for index-only
      // reads. Without it the first cycle after a fill pays for the fill (hint bits, a vacuum racing).
      await db.query('VACUUM ANALYZE');
    },
    async maxRecordId() {
      return Number((await db.query('SELECT coalesce(max(id), 0) AS n FROM records')).rows[0].n);
    },
    async bytes() {
      return Number((await db.query('SELECT pg_database_size(current_database()) AS n')).rows[0].n);
    },
  };
}

export function sqliteFiller(db: Database.Database, fileBytes: () => number): LogFiller {
  const iso = `strftime('%Y-%m-%dT%H:%M:%fZ', ${EPOCH_SECONDS} + i, 'unixepoch')`;
  const series = 'WITH RECURSIVE s(i) AS (SELECT @lo UNION ALL SELECT i + 1 FROM s WHERE i < @hi)';
  const predictions = db.prepare(
    `${series} INSERT INTO predictions (id, model, version, role, shadow_of, task, features, label, confidence, probabilities, created_at)
     SELECT 'old-' || i, '${MODEL}', CASE WHEN i % 5 = 0 THEN '${SHADOW_VERSION}' ELSE '1' END,
            CASE WHEN i % 5 = 0 THEN 'shadow' ELSE 'champion' END, CASE WHEN i % 5 = 0 THEN 'old-' || (i - 1) END,
            'classification', json_object('x', i % 100, 'y', i % 7), CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END,
            0.9, '{"a":0.9,"b":0.1}', ${iso}
     FROM s`,
  );
  const records = db.prepare(
    `${series} INSERT INTO records (model, features, label, source, created_at)
     SELECT '${MODEL}', json_object('x', i % 100, 'y', i % 7), CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END, 'feedback', ${iso}
     FROM s WHERE i % 3 = 0 AND i % 5 <> 0`,
  );
  const feedback = db.prepare(
    `${series} INSERT INTO feedback (prediction_id, model, kind, label, created_at)
     SELECT 'old-' || i, '${MODEL}', 'label', CASE WHEN i % 9 = 0 THEN 'c' WHEN i % 2 = 0 THEN 'a' ELSE 'b' END, ${iso}
     FROM s WHERE i % 3 = 0 AND i % 5 <> 0`,
  );
  return {
    async grow(from, to) {
      for (let lo = from; lo < to; lo += SLICE) {
        const range = { lo: lo + 1, hi: Math.min(lo + SLICE, to) };
        db.transaction(() => {
          predictions.run(range);
          records.run(range);
          feedback.run(range);
        })();
      }
      db.exec('ANALYZE');
    },
    async maxRecordId() {
      return db.prepare('SELECT coalesce(max(id), 0) FROM records').pluck().get() as number;
    },
    async bytes() {
      db.pragma('wal_checkpoint(TRUNCATE)');
      return fileBytes();
    },
  };
}
