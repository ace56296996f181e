/**
 * What every table group of the Postgres store shares: the pool, how values come back (numbers
 * and ISO times, as the SQLite store returns them), transactions, and the per-model write lock.
 */
import pg from 'pg';

/** A pool, or the client of one transaction: both run queries. */
export type Queryable = pg.Pool | pg.PoolClient;

const TEXT = 'text' as const;
// Ids, seqs and counts are BIGINT (int8) and sums of them NUMERIC, which pg returns as strings
// lest a value beyond 2^53 lose precision. Ours stay far below: numbers, as SQLite gives them.
// Times are TIMESTAMPTZ: ISO strings, as toISOString() spells them (what the SQLite store keeps).
const parsers = new Map<number, (value: string) => unknown>([
  [pg.types.builtins.INT8, Number],
  [pg.types.builtins.NUMERIC, Number],
  [pg.types.builtins.TIMESTAMPTZ, (value) => (pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, TEXT)(value) as Date).toISOString()],
]);

/** A pool whose results read like the SQLite store's; its clients' errors are reported, not thrown. */
export function createPool(url: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        (format ?? TEXT) === TEXT && parsers.has(oid)
          ? parsers.get(oid)!
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client whose connection dies (a server restart) emits 'error'; unheard, it would
  // crash the process. The pool drops that client, and the next query opens a new one.
  pool.on('error', (err) => console.error(`perennial: Postgres store: idle connection lost: ${err.message}`));
  return pool;
}

/** Runs `work` in one transaction on one client: committed when it resolves, rolled back when it rejects. */
export async function transaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    // COMMIT of a transaction an error aborted answers ROLLBACK, without an error of its own.
    if ((await client.query('COMMIT')).command !== 'COMMIT') throw new Error('Postgres store: the transaction was rolled back');
    client.release();
    return result;
  } catch (err) {
    // A client that cannot even roll back has a broken connection: destroyed, not reused.
    const rollback = await client.query('ROLLBACK').then(
      () => undefined,
      (e: Error) => e,
    );
    client.release(rollback);
    throw err;
  }
}

/** The transaction itself failed (its connection, most likely), not one write in it: nothing of it can commit. */
export class TransactionBrokenError extends Error {}

/**
 * Runs `work` in a savepoint of the client's open transaction: undone alone when it rejects, the
 * transaction going on (group commit: each write succeeds or fails alone). When even the undoing
 * fails, rejects with TransactionBrokenError.
 */
export async function savepoint<T>(client: pg.PoolClient, work: () => Promise<T>): Promise<T> {
  await client.query('SAVEPOINT write').catch((err: Error) => {
    throw new TransactionBrokenError(err.message, { cause: err });
  });
  try {
    const result = await work();
    await client.query('RELEASE SAVEPOINT write');
    return result;
  } catch (err) {
    await client.query('ROLLBACK TO SAVEPOINT write').catch((rollbackErr: Error) => {
      throw new TransactionBrokenError(rollbackErr.message, { cause: err });
    });
    throw err;
  }
}

// Advisory lock namespaces (the first key of pg_advisory_xact_lock(int, int)).
const MODEL_LOG_LOCK = 0x7065_7201;
export const ALERT_LOCK = 0x7065_7202;
export const MIGRATION_LOCK = 0x7065_7203;

/**
 * Takes, until the transaction ends, the write lock of each model: every transaction that adds a
 * model's records, predictions or feedback holds it. Ids come from sequences, which hand them out
 * in the order transactions ask, not the order they commit; consumers keep "everything after id
 * N" watermarks, so a row committed after a higher id was read would be skipped for good. With
 * one writer per model at a time, a model's ids become visible in order. Taken in sorted order,
 * so two transactions locking the same models cannot deadlock.
 */
export async function lockModels(client: pg.PoolClient, models: Iterable<string>): Promise<void> {
  for (const model of [...new Set(models)].sort())
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MODEL_LOG_LOCK, model]);
}

/** `iso` as a time for a query; RangeError when it is not one. */
export function isoTime(iso: string): string {
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) throw new RangeError(`"${iso}" is not an ISO time`);
  return time.toISOString();
}

/** An optional ISO bound: null (open) when absent. */
export const optionalTime = (iso: string | undefined) => (iso === undefined ? null : isoTime(iso));

/** A Postgres URL fit for messages: its password (in the user part or the query) replaced by '***'. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const key of [...u.searchParams.keys()]) if (/pass/i.test(key)) u.searchParams.set(key, '***');
    return u.toString();
  } catch {
    return '(an unparsable Postgres URL)';
  }
}
