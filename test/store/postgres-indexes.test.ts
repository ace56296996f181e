/**
 * A monitoring cycle on Postgres reads what is new since its watermark, not the log: each
 * monitoring query, EXPLAIN ANALYZEd on a log of 250,000 predictions (a fifth of them shadows, feedback on a third of the others)
 * with 40 new ones, touches the new rows only: no sequential scan of predictions or feedback,
 * and its scans of them find (or filter out) a number of rows that follows the new rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { openStore, type PredictionLog } from '../../adapters/store/index.ts';
import { MONITORING_SQL } from '../../adapters/store/postgres/log-reads.ts';
import { SHADOW_SQL } from '../../adapters/store/postgres/shadow-comparison.ts';
import { EXPORT_PAGE_SQL } from '../../adapters/store/postgres/log-export.ts';
import { freshDatabaseUrl } from '../helpers/postgres.ts';

const OLD = 200_000;
const NEW = 40;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** Every scan of predictions or feedback in the plan, with the rows it read (kept or filtered out) over all its loops. */
function tableScans(node: PlanNode): Array<{ type: string; table: string; rowsRead: number }> {
  const own =
    node['Relation Name'] === 'predictions' || node['Relation Name'] === 'feedback'
      ? [
          {
            type: node['Node Type'],
            table: node['Relation Name'],
            rowsRead:
              (node['Actual Rows'] + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) *
              node['Actual Loops'],
          },
        ]
      : [];
  return [...own, ...(node.Plans ?? []).flatMap(tableScans)];
}

test('monitoring queries read the rows after the watermark, not the whole log', async () => {
  const url = await freshDatabaseUrl();
  let now = new Date('2026-01-01T00:00:00Z');
  const store = await openStore(url, { now: () => now });
  const db = new pg.Pool({ connectionString: url });
  // The old log, half of it another model's, made by the server itself (fast), then analyzed.
  await db.query(
    `INSERT INTO predictions (id, model, version, role, task, features, label, confidence, probabilities, created_at)
     SELECT 'old-' || i, CASE WHEN i % 2 = 0 THEN 'big' ELSE 'other' END, '1', 'champion', 'regression', '{"x": 1}', '3', NULL, '{}',
            '2025-01-01'::timestamptz + i * interval '1 second'
     FROM generate_series(1, $1::int) AS i`,
    [OLD],
  );
  // A shadow twin for every fourth of the model's predictions.
  await db.query(
    `INSERT INTO predictions (id, model, version, role, task, features, label, confidence, probabilities, created_at, shadow_of)
     SELECT id || '-shadow', model, '2', 'shadow', task, features, '2', NULL, '{}', created_at, id FROM predictions WHERE model = 'big' AND seq % 4 = 0`,
  );
  await db.query(`INSERT INTO feedback (prediction_id, model, kind, label, created_at)
                  SELECT id, model, 'label', '4', created_at FROM predictions WHERE seq % 3 = 0 AND role <> 'shadow'`);
  await db.query('ANALYZE');
  const seqWatermark = await store.maxPredictionSeq('big');
  const feedbackWatermark = await store.maxFeedbackId('big');

  // The new rows, through the store: served predictions, their shadows, feedback on half.
  now = new Date('2026-01-02T00:00:00Z');
  const row = (id: string, extra: Partial<PredictionLog> = {}): PredictionLog => ({
    id,
    model: 'big',
    version: '1',
    role: 'champion',
    task: 'regression',
    features: { x: 2 },
    label: '5',
    confidence: null,
    probabilities: {},
    ...extra,
  });
  const served = Array.from({ length: NEW / 2 }, (_, i) => row(`new-${i}`));
  await store.logPredictions([...served, ...served.map((p) => row(`${p.id}-shadow`, { role: 'shadow', version: '2', shadowOf: p.id }))]);
  for (const p of served.slice(0, NEW / 4)) await store.addFeedback(p.id, 6);
  assert.equal(await store.countPredictionsSince('big', seqWatermark), NEW / 2);

  const since = now.toISOString();
  const queries: Array<[string, string, unknown[]]> = [
    ['countPredictionsSince', MONITORING_SQL.countPredictionsSince, ['big', seqWatermark]],
    ['predictionsSince', MONITORING_SQL.predictionsSince, ['big', seqWatermark, 1000]],
    ['feedbackSince', MONITORING_SQL.feedbackSince, ['big', feedbackWatermark]],
    ['labelledSince', MONITORING_SQL.labelledSince, ['big', feedbackWatermark]],
    ['maxPredictionSeq', MONITORING_SQL.maxPredictionSeq, ['big']],
    ['maxFeedbackId', MONITORING_SQL.maxFeedbackId, ['big']],
    ['liveAccuracy', MONITORING_SQL.liveAccuracy, ['big', since]],
    ['liveErrors', MONITORING_SQL.liveErrors, ['big', since]],
    ['shadowPairCounts pairs', SHADOW_SQL.pairs, ['big', '2', null, seqWatermark, Number.MAX_SAFE_INTEGER]],
    ['shadowPairCounts labelled', SHADOW_SQL.labelled, ['big', '2', null, feedbackWatermark, Number.MAX_SAFE_INTEGER]],
    ['exportLog page', EXPORT_PAGE_SQL, ['big', seqWatermark, null, 500]],
  ];
  for (const [name, sql, params] of queries) {
    const { rows } = await db.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
    const scans = tableScans(rows[0]['QUERY PLAN'][0].Plan);
    assert.ok(scans.length > 0, `${name}: reads no table?`);
    for (const scan of scans) {
      assert.notEqual(scan.type, 'Seq Scan', `${name}: a sequential scan of ${scan.table}`);
      // Each new row is read at most a few times (a prediction, its twin, its feedback).
      assert.ok(scan.rowsRead <= 3 * NEW, `${name}: read ${scan.rowsRead} rows of ${scan.table} for ${NEW} new ones (${scan.type})`);
    }
  }
  await db.end();
  await store.close();
});
