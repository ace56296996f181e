/**
 * The SQLite store's shadow comparison reads the rows it counts, not the log: planned on a log
 * of 20,000 predictions (a fifth of them shadows, feedback on a third of the served ones,
 * ANALYZEd), the comparison since a time starts from the shadows by (model, created_at), the one
 * between cursors from the shadows by (model, seq) or the feedback by id; neither scans a table.
 * (Before, one statement served both, and its labelled count since a time walked the feedback
 * from id 0: the whole log.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from '../../adapters/store/index.ts';
import { shadowCountsSql } from '../../adapters/store/sqlite/shadow-comparison.ts';
import { tempDir } from '../helpers/services.ts';

const LOG = 20_000;

test('shadow comparisons search predictions by time or by seq, never the whole log', async () => {
  const file = join(tempDir('perennial-sqlite-indexes-'), 'store.db');
  await (await openStore(file)).close(); // the schema
  const db = new Database(file);
  const series = `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${LOG})`;
  db.exec(`${series} INSERT INTO predictions (id, model, version, role, shadow_of, task, features, label, confidence, probabilities, created_at)
    SELECT 'p' || i, 'm', CASE WHEN i % 5 = 0 THEN '2' ELSE '1' END, CASE WHEN i % 5 = 0 THEN 'shadow' ELSE 'champion' END,
           CASE WHEN i % 5 = 0 THEN 'p' || (i - 1) END, 'classification', '{}', 'a', 0.9, '{}',
           strftime('%Y-%m-%dT%H:%M:%fZ', 1735689600 + i, 'unixepoch') FROM s`);
  db.exec(`INSERT INTO feedback (prediction_id, model, label, created_at)
    SELECT id, model, 'a', created_at FROM predictions WHERE seq % 3 = 0 AND role <> 'shadow'`);
  db.exec('ANALYZE');

  // As the store binds them: since a time, the cursors' bounds wide open; between cursors, no time ('').
  const recent = new Date(Date.UTC(2025, 0, 1) + (LOG - 100) * 1000).toISOString();
  const sinceTime = { fromTime: recent, afterSeq: 0, afterFeedbackId: 0 };
  const betweenCursors = { fromTime: '', afterSeq: LOG - 100, afterFeedbackId: LOG / 5 };
  const plan = (sql: string, bounds: object) =>
    (
      db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all({ model: 'm', shadowVersion: '2', throughSeq: 1e15, throughFeedbackId: 1e15, ...bounds }) as Array<{ detail: string }>
    ).map((r) => r.detail);
  for (const [variant, withCursors, firstStep, bounds] of [
    ['since a time', false, /^SEARCH s USING INDEX predictions_by_time /, sinceTime],
    // The shadows by seq, or the twins' feedback by id: both bounded by the cursors.
    ['between cursors', true, /^SEARCH (s USING INDEX predictions_by_model|f USING INTEGER PRIMARY KEY) /, betweenCursors],
  ] as const) {
    const sql = shadowCountsSql(withCursors);
    for (const [count, text] of Object.entries(sql)) {
      const steps = plan(text, bounds);
      const what = `${variant}, ${count}: ${steps.join('; ')}`;
      assert.ok(!steps.some((s) => /^SCAN (predictions|feedback|s|c|f)\b/.test(s)), `a scan of a whole table (${what})`);
      assert.match(steps[0], firstStep, `the first rows read are not the new ones (${what})`);
      console.log(what);
    }
  }
  db.close();
});
