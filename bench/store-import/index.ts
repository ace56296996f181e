/**
 * `npm run bench -- store-import`: the Postgres store's import (Store.addRecords, COPY FROM STDIN)
 * against the multi-row INSERT it replaced (1,000 records per statement from unnest()ed arrays,
 * kept here as the anchor), side by side on one embedded Postgres (stack/postgres.ts): ROUNDS
 * rounds, each importing RECORDS weather-like records both ways into an emptied table, the order
 * alternating. Reported: each way's median, and the median of the rounds' ratios (paired rounds
 * share the machine's load of the moment). Each round also checks that both ways stored the same rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, type LabelledRecord } from '../../adapters/store/index.ts';
import { lockModels, transaction } from '../../adapters/store/postgres/db.ts';
import { median } from '../../core/stats/quantiles.ts';
import { startPostgres } from '../../stack/postgres.ts';
import type { Benchmark } from '../shared/benchmark.ts';

const RECORDS = 100_000;
const ROUNDS = 5;
const CREATED_AT = new Date('2026-01-01T00:00:00Z');

/** The import before COPY, as it was: one transaction, the model's lock, 1,000 rows a statement. */
async function multiRowInsert(pool: pg.Pool, model: string, records: LabelledRecord[]): Promise<void> {
  await transaction(pool, async (client) => {
    await lockModels(client, [model]);
    for (let i = 0; i < records.length; i += 1000) {
      const chunk = records.slice(i, i + 1000);
      await client.query(
        `INSERT INTO records (model, features, label, source, created_at)
         SELECT $1::text, r.features::json, r.label, r.source, $5::timestamptz FROM unnest($2::text[], $3::text[], $4::text[])
           WITH ORDINALITY AS r (features, label, source, n) ORDER BY r.n`,
        [model, chunk.map((r) => JSON.stringify(r.features)), chunk.map((r) => r.label), chunk.map((r) => r.source), CREATED_AT],
      );
    }
  });
}

/** Rows shaped like a weather CSV's, a few with a quote, tab or backslash in a note. */
function weatherRecords(): LabelledRecord[] {
  const labels = ['rain', 'sun', 'fog', 'drizzle', 'snow'];
  return Array.from({ length: RECORDS }, (_, i) => ({
    features: {
      date: new Date(Date.UTC(2000, 0, 1) + i * 3_600_000).toISOString().slice(0, 10),
      precipitation: (i % 97) / 10,
      temp_max: 5 + (i % 250) / 10,
      temp_min: -3 + (i % 180) / 10,
      wind: (i % 73) / 10,
      location: i % 2 ? 'Seattle' : 'New York',
      note: i % 50 ? null : `station "${i}"\tC:\\logs`,
    },
    label: labels[i % labels.length],
    source: 'weather.csv',
  }));
}

/** A digest of a model's stored rows, ids counted from its first. */
async function digest(pool: pg.Pool, model: string): Promise<string> {
  const { rows } = await pool.query<{ md5: string }>(
    `SELECT md5(string_agg(concat_ws('|', id - first_id, features::text, label, source, created_at::text), E'\\n' ORDER BY id))
     FROM records, (SELECT min(id) AS first_id FROM records WHERE model = $1) AS f WHERE model = $1`,
    [model],
  );
  return rows[0].md5;
}

export const benchmark: Benchmark = {
  needs: 'nothing',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'perennial-store-import-'));
    const server = await startPostgres({ dataDir: dir });
    const url = new URL(server.url);
    url.pathname = '/store_import';
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE DATABASE store_import');
    await admin.end();
    const store = await openStore(url.toString(), { now: () => CREATED_AT });
    const pool = new pg.Pool({ connectionString: url.toString() });
    try {
      const records = weatherRecords();
      const ways: Record<string, (model: string) => Promise<unknown>> = {
        copy: (model) => store.addRecords(model, records),
        multiRowInsert: (model) => multiRowInsert(pool, model, records),
      };
      const seconds: Record<string, number[]> = { copy: [], multiRowInsert: [] };
      for (let round = 0; round < ROUNDS; round++) {
        await pool.query('TRUNCATE records CASCADE'); // feedback refers to records: empty here too
        await pool.query('VACUUM ANALYZE records');
        const order = round % 2 ? ['multiRowInsert', 'copy'] : ['copy', 'multiRowInsert'];
        for (const way of order) {
          const start = performance.now();
          await ways[way](way);
          seconds[way].push((performance.now() - start) / 1000);
        }
        if ((await digest(pool, 'copy')) !== (await digest(pool, 'multiRowInsert')))
          throw new Error('COPY and the multi-row INSERT stored different rows');
        console.log(`  round ${round + 1}: ${order.map((w) => `${w} ${seconds[w][round].toFixed(2)} s`).join(', ')}`);
      }
      const result = Object.fromEntries(
        Object.entries(seconds).map(([way, s]) => [way, { medianSeconds: median(s), recordsPerSecond: RECORDS / median(s), seconds: s }]),
      );
      const speedup = median(seconds.multiRowInsert.map((s, round) => s / seconds.copy[round]));
      console.log(
        `import of ${RECORDS.toLocaleString('en')} records: COPY ${Math.round(result.copy.recordsPerSecond)}/s, ` +
          `multi-row INSERT ${Math.round(result.multiRowInsert.recordsPerSecond)}/s: COPY ${speedup.toFixed(2)}x as fast ` +
          `(median of the rounds' ratios; same rows stored; load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores)`,
      );
      return {
        anchor: 'multi-row INSERT of 1,000 records per statement (the import before COPY)',
        records: RECORDS,
        rounds: ROUNDS,
        ...result,
        speedup,
        loadAverage: loadavg()[0],
      };
    } finally {
      await pool.end();
      await store.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
