/**
 * The shadow's predictions paired with their served twins (predictions.shadow_of), counted for
 * core/shadow.ts: how often the two agree, and how each did on the twins' feedback. Only pairs
 * whose twin the champion served count: a shadow is compared with the champion, not a canary.
 */
import type pg from 'pg';
import type { ShadowPairCounts } from '../../../core/shadow.ts';
import type { ShadowComparisonStore, ShadowSince } from '../store.ts';
import { optionalTime } from './db.ts';

const PAIRS = `FROM predictions s JOIN predictions c ON c.id = s.shadow_of
  WHERE s.model = $1 AND s.role = 'shadow' AND s.version = $2 AND c.role = 'champion'
    AND ($3::timestamptz IS NULL OR s.created_at >= $3)`;

// Regression labels are the text of numbers (String(n)); a classifier's labels are not numbers
// at all, hence the differences only for regression (core/shadow.ts ignores them otherwise).
const difference = (a: string, b: string) => `CASE WHEN s.task = 'regression' THEN ${a}::float8 - ${b}::float8 ELSE 0 END`;

/** $1 model, $2 shadow version, $3 from time or null, $4 and $5 the bounds (seqs; feedback ids). Exported for a test to EXPLAIN. */
export const SHADOW_SQL = {
  pairs: `SELECT count(*) AS pairs, count(*) FILTER (WHERE s.label = c.label) AS agreed,
      coalesce(sum(abs(${difference('s.label', 'c.label')})), 0) AS "absDifference"
    ${PAIRS} AND s.seq > $4 AND s.seq <= $5`,
  // An override without a label says the champion was wrong but not what the truth is: left out.
  // f.model: the twin's feedback found on the (model, id) index, within its id bounds.
  labelled: `SELECT count(*) AS n, count(*) FILTER (WHERE s.label = f.label) AS "shadowCorrect",
      count(*) FILTER (WHERE c.label = f.label) AS "championCorrect",
      coalesce(sum(${difference('f.label', 's.label')} ^ 2), 0) AS "shadowSquaredError",
      coalesce(sum(${difference('f.label', 'c.label')} ^ 2), 0) AS "championSquaredError"
    ${PAIRS.replace('WHERE', 'JOIN feedback f ON f.prediction_id = c.id WHERE')}
      AND f.model = $1 AND f.label IS NOT NULL AND f.id > $4 AND f.id <= $5`,
};

export class PostgresShadowComparison implements ShadowComparisonStore {
  constructor(private readonly pool: pg.Pool) {}

  async shadowPairCounts(model: string, shadowVersion: string, since: ShadowSince): Promise<ShadowPairCounts> {
    const fromTime = optionalTime(since.fromTime);
    const pairs = await this.pool.query<Omit<ShadowPairCounts, 'labelled'>>(SHADOW_SQL.pairs, [
      model,
      shadowVersion,
      fromTime,
      since.afterSeq ?? 0,
      since.throughSeq ?? Number.MAX_SAFE_INTEGER,
    ]);
    const labelled = await this.pool.query<ShadowPairCounts['labelled']>(SHADOW_SQL.labelled, [
      model,
      shadowVersion,
      fromTime,
      since.afterFeedbackId ?? 0,
      since.throughFeedbackId ?? Number.MAX_SAFE_INTEGER,
    ]);
    return { ...pairs.rows[0], labelled: labelled.rows[0] };
  }
}
