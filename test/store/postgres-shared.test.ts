/**
 * What only a database server shared by several processes adds, on a real Postgres: concurrent
 * claims under a rate limit, concurrent feedback on one prediction, a reader following the log
 * while several stores write, migrations raced by stores opening a new database, and a URL's
 * password kept out of messages.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { describeStoreLocation, isPostgresUrl, openStore, type PredictionLog, type Store } from '../../adapters/store/index.ts';
import { migrate } from '../../adapters/store/postgres/migrations.ts';
import { FeedbackConflictError } from '../../core/errors.ts';
import { freshDatabaseUrl } from '../helpers/postgres.ts';

const CLASSES = ['rain', 'sun'];

function prediction(id: string, label: string, extra: Partial<PredictionLog> = {}): PredictionLog {
  return {
    id,
    model: 'weather',
    version: '1',
    role: 'champion',
    features: { temp_max: 10, wind: null },
    label,
    confidence: label === 'rain' ? 0.7 : 0.6,
    probabilities: Object.fromEntries(CLASSES.map((c) => [c, c === label ? 0.7 : 0.3])),
    ...extra,
  };
}

describe('postgres only: what a shared server adds', () => {
  test('two concurrent claims under a rate limit, from two stores: exactly one admitted', async () => {
    const url = await freshDatabaseUrl();
    const [a, b] = await Promise.all([openStore(url), openStore(url)]);
    const oneAtATime = (history: unknown[]) => (history.length ? { reason: 'rate_limit', detail: 'one per hour' } : undefined);
    const claims = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? a : b).claimAlert({ id: `claim-${i}`, model: 'weather', kind: 'drift' }, 3_600_000, oneAtATime),
      ),
    );
    assert.equal(claims.filter((c) => c.suppressed === undefined).length, 1);
    // Another kind has its own limit.
    assert.equal(
      (await a.claimAlert({ id: 'other-kind', model: 'weather', kind: 'retrain' }, 3_600_000, oneAtATime)).suppressed,
      undefined,
    );
    await Promise.all([a.close(), b.close()]);
  });

  test('migrations: two stores opening a new database at once apply each step once; reopening applies none', async () => {
    const url = await freshDatabaseUrl();
    const stores = await Promise.all([openStore(url), openStore(url), openStore(url)]);
    const pool = new pg.Pool({ connectionString: url });
    const { rows } = await pool.query('SELECT version, name FROM schema_migrations ORDER BY version');
    assert.deepEqual(rows, [{ version: 1, name: 'initial schema' }]);
    assert.deepEqual(await migrate(pool), [], 'nothing left to apply');
    // Writes from one store are the other's reads.
    await stores[0].logPredictions([prediction('p1', 'rain')]);
    assert.equal(await stores[1].maxPredictionSeq('weather'), 1);
    await pool.query('INSERT INTO schema_migrations (version, name) VALUES (999, $1)', ['from the future']);
    await assert.rejects(async () => migrate(pool), /schema version 999, newer than this Perennial knows/);
    await pool.end();
    await Promise.all(stores.map((s) => s.close()));
  });

  test("concurrent feedback on one prediction from two stores: one feedback, the other told it's the same or a conflict", async () => {
    const url = await freshDatabaseUrl();
    const [a, b] = await Promise.all([openStore(url), openStore(url)]);
    await a.logPredictions([prediction('p1', 'rain'), prediction('p2', 'rain')]);
    const same = await Promise.all([a.addFeedback('p1', 'rain'), b.addFeedback('p1', 'rain')]);
    assert.equal(same[0], same[1]);
    const outcomes = await Promise.allSettled([a.addFeedback('p2', 'rain'), b.addFeedback('p2', 'sun')]);
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
    assert.ok(outcomes.some((o) => o.status === 'rejected' && o.reason instanceof FeedbackConflictError));
    await Promise.all([a.close(), b.close()]);
  });

  test('a reader following the log by seq misses nothing while four stores write at once', async () => {
    const url = await freshDatabaseUrl();
    const [writers, batches, rowsPerBatch] = [4, 50, 3];
    const [reader, ...stores] = await Promise.all(Array.from({ length: 1 + writers }, () => openStore(url)));
    let writing = true;
    const write = async (store: Store, name: string) => {
      for (let batch = 0; batch < batches; batch++)
        await store.writeLog([
          { kind: 'predictions', rows: Array.from({ length: rowsPerBatch }, (_, i) => prediction(`${name}-${batch}-${i}`, 'rain')) },
        ]);
    };
    const written = Promise.all(stores.map((store, i) => write(store, `w${i}`))).finally(() => (writing = false));
    // Monitoring's way: everything after the highest seq seen so far.
    const seen: number[] = [];
    let watermark = 0;
    for (let more = true; more;) {
      more = writing;
      const { rows, maxSeq } = await reader.predictionsSince('weather', watermark, 10_000);
      seen.push(...rows.map((r) => r.seq));
      watermark = maxSeq;
    }
    await written;
    const total = writers * batches * rowsPerBatch;
    assert.equal(await reader.countPredictionsSince('weather', 0), total);
    assert.equal(seen.length, total, 'every prediction read once: a seq committed after a higher one would be skipped');
    await Promise.all([reader, ...stores].map((store) => store.close()));
  });

  test("a URL's password never reaches an error message", async () => {
    const url = new URL(await freshDatabaseUrl());
    url.password = 'not-the-password-s3cret';
    const error = await openStore(url.toString()).then(
      () => assert.fail('opened with a wrong password'),
      (err: Error) => err,
    );
    assert.match(error.message, /could not open the Postgres store at postgres:\/\/perennial:\*\*\*@127\.0\.0\.1/);
    assert.doesNotMatch(error.message, /s3cret/);
  });
});

test('a store location is Postgres for a postgres:// or postgresql:// URL, shown without its password', () => {
  assert.equal(isPostgresUrl('postgres://u:p@db:5432/perennial'), true);
  assert.equal(isPostgresUrl('postgresql://db/perennial'), true);
  assert.equal(isPostgresUrl('/var/lib/perennial/perennial.sqlite'), false);
  assert.equal(isPostgresUrl(':memory:'), false);
  assert.equal(describeStoreLocation('postgres://u:s3cret@db:5432/perennial'), 'postgres://u:***@db:5432/perennial');
  assert.equal(describeStoreLocation('postgresql://u@db/perennial?password=s3cret'), 'postgresql://u@db/perennial?password=***');
  assert.equal(describeStoreLocation('/data/perennial.sqlite'), '/data/perennial.sqlite');
});
