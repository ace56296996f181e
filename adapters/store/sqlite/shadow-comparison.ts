/**
 * The shadow's predictions paired with their served twins (predictions.shadow_of), counted for
 * core/shadow.ts: how often the two agree, and how each did on the twins' feedback. Only pairs
 * whose twin the champion served count: a shadow is compared with the champion, not a canary.
 */
import type Database from 'better-sqlite3';
import type { ShadowPairCounts } from '../../../core/shadow.ts';
import type { ShadowComparisonStore, ShadowSince } from '../store.ts';
import type { Synchronous } from './synchronous.ts';

// Regression labels are the text of numbers (String(n)), hence the casts; for a classifier the
// difference sums are meaningless and core/shadow.ts ignores them.
const PAIRS = `FROM predictions s JOIN predictions c ON c.id = s.shadow_of
  WHERE s.model = @model AND s.role = 'shadow' AND s.version = @shadowVersion AND c.role = 'champion' AND s.created_at >= @fromTime`;

/**
 * The two counts' SQL, with the cursors' bounds (seq, feedback id) or without them (`fromTime`
 * alone). Exported for a test to EXPLAIN.
 */
export function shadowCountsSql(withCursors: boolean): { pairs: string; labelled: string } {
  const seqBounds = withCursors ? 'AND s.seq > @afterSeq AND s.seq <= @throughSeq' : '';
  const feedbackBounds = withCursors ? 'AND f.id > @afterFeedbackId AND f.id <= @throughFeedbackId' : '';
  return {
    pairs: `SELECT count(*) AS pairs, coalesce(sum(s.label = c.label), 0) AS agreed,
              coalesce(sum(abs(CAST(s.label AS REAL) - CAST(c.label AS REAL))), 0) AS absDifference
       ${PAIRS} ${seqBounds}`,
    // An override without a label says the champion was wrong but not what the truth is: left out.
    labelled: `SELECT count(*) AS n, coalesce(sum(s.label = f.label), 0) AS shadowCorrect, coalesce(sum(c.label = f.label), 0) AS championCorrect,
              coalesce(sum((CAST(f.label AS REAL) - CAST(s.label AS REAL)) * (CAST(f.label AS REAL) - CAST(s.label AS REAL))), 0) AS shadowSquaredError,
              coalesce(sum((CAST(f.label AS REAL) - CAST(c.label AS REAL)) * (CAST(f.label AS REAL) - CAST(c.label AS REAL))), 0) AS championSquaredError
       ${PAIRS.replace('WHERE', 'JOIN feedback f ON f.prediction_id = c.id WHERE')} AND f.label IS NOT NULL ${feedbackBounds}`,
  };
}

function countStatements(db: Database.Database, withCursors: boolean) {
  const sql = shadowCountsSql(withCursors);
  return { pairs: db.prepare(sql.pairs), labelled: db.prepare(sql.labelled) };
}

export class SqliteShadowComparison implements Synchronous<ShadowComparisonStore> {
  // Two sets: SQLite plans a statement once, and given "seq > 0" beside a time (a comparison
  // since a deploy, no cursors) it walked (model, seq) through the whole log; without the seq
  // bounds it takes (model, created_at) and reads the rows since that time only.
  private readonly byCursors;
  private readonly byTime;

  constructor(db: Database.Database) {
    this.byCursors = countStatements(db, true);
    this.byTime = countStatements(db, false);
  }

  shadowPairCounts(model: string, shadowVersion: string, since: ShadowSince): ShadowPairCounts {
    const params = {
      model,
      shadowVersion,
      fromTime: since.fromTime === undefined ? '' : isoTime(since.fromTime),
      afterSeq: since.afterSeq ?? 0,
      afterFeedbackId: since.afterFeedbackId ?? 0,
      throughSeq: since.throughSeq ?? Number.MAX_SAFE_INTEGER,
      throughFeedbackId: since.throughFeedbackId ?? Number.MAX_SAFE_INTEGER,
    };
    const cursors = [since.afterSeq, since.throughSeq, since.afterFeedbackId, since.throughFeedbackId].some((b) => b !== undefined);
    const statements = cursors ? this.byCursors : this.byTime;
    const pairs = statements.pairs.get(params) as Omit<ShadowPairCounts, 'labelled'>;
    const labelled = statements.labelled.get(params) as ShadowPairCounts['labelled'];
    return { ...pairs, labelled };
  }
}

/** `iso` as toISOString() spells it (stored times are, so text order is time order); RangeError when it is not a time. */
function isoTime(iso: string): string {
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) throw new RangeError(`"${iso}" is not an ISO time`);
  return time.toISOString();
}
