/**
 * `npm run bench -- store-scale [--sizes 1000000,10000000]`: whether a monitoring cycle's cost
 * follows the new rows or the log's size. For each engine (Postgres, the embedded server of
 * stack/postgres.ts started here; SQLite, a temp file) a model's log is grown server-side
 * (fill.ts) to each size in turn; at each size a fixed batch (cycle.ts: 1,000 predictions, 200
 * feedback) goes in through the Store and the cycle's store calls are timed (medians). The anchor
 * is the first size: reported is cost@last / cost@first per call and for the whole cycle, ≈ 1
 * when the cost follows the batch. Also: fill time, the database's bytes, and import
 * throughput (Store.addRecords of IMPORT_RECORDS records onto the grown log).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openStore, type Store } from '../../adapters/store/index.ts';
import { startPostgres } from '../../stack/postgres.ts';
import type { Benchmark } from '../shared/benchmark.ts';
import { appendBatch, BATCH, timeCycle, type CycleCost } from './cycle.ts';
import { MODEL, postgresFiller, sqliteFiller, type LogFiller } from './fill.ts';

const IMPORT_RECORDS = 100_000;

export function logSizes(argv = process.argv): number[] {
  const at = argv.indexOf('--sizes');
  return (at >= 0 ? argv[at + 1] : '1000000,10000000').split(',').map(Number);
}

interface EngineResult {
  sizes: Array<{ predictions: number; fillSeconds: number; bytes: number; costMs: CycleCost }>;
  /** Per call and 'cycle': cost at the largest size / cost at the smallest. */
  ratio: Record<string, number>;
  import: { records: number; seconds: number; recordsPerSecond: number };
}

/** An engine's store and filler, open on a fresh database; `close` removes it. */
interface Engine {
  store: Store;
  filler: LogFiller;
  clock: { now: Date };
  close(): Promise<void>;
}

async function postgresEngine(dir: string): Promise<Engine> {
  const server = await startPostgres({ dataDir: dir }); // startPostgres opens the folder to the postgres user
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query('CREATE DATABASE store_scale');
  await admin.end();
  const url = new URL(server.url);
  url.pathname = '/store_scale';
  const clock = { now: new Date() };
  const store = await openStore(url.toString(), { now: () => clock.now });
  const pool = new pg.Pool({ connectionString: url.toString() });
  return {
    store,
    filler: postgresFiller(pool),
    clock,
    close: async () => {
      await pool.end();
      await store.close();
      await server.stop();
    },
  };
}

async function sqliteEngine(dir: string): Promise<Engine> {
  const file = join(dir, 'store.db');
  const clock = { now: new Date() };
  const store = await openStore(file, { now: () => clock.now });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  const bytes = () => statSync(file).size;
  return {
    store,
    filler: sqliteFiller(db, bytes),
    clock,
    close: async () => {
      db.close();
      await store.close();
    },
  };
}

async function measure(name: string, open: (dir: string) => Promise<Engine>, sizes: number[]): Promise<EngineResult> {
  const dir = mkdtempSync(join(tmpdir(), `perennial-store-scale-${name}-`));
  const engine = await open(dir);
  try {
    const result: EngineResult = { sizes: [], ratio: {}, import: { records: 0, seconds: 0, recordsPerSecond: 0 } };
    let grown = 0;
    for (const [round, size] of sizes.entries()) {
      const start = performance.now();
      await engine.filler.grow(grown, size);
      const fillSeconds = (performance.now() - start) / 1000;
      grown = size;
      const bytes = await engine.filler.bytes();
      // Each round's batch a day after the last, all after the old log (2025).
      engine.clock.now = new Date(Date.UTC(2026, 0, 1 + round));
      const cursors = await appendBatch(engine.store, `new${round}`, engine.clock.now, await engine.filler.maxRecordId());
      const costMs = await timeCycle(engine.store, cursors);
      console.log(
        `${name} @ ${size.toLocaleString('en')} predictions: filled in ${fillSeconds.toFixed(0)} s, ${(bytes / 1e9).toFixed(2)} GB`,
      );
      console.log(
        `  ${Object.entries(costMs)
          .map(([call, ms]) => `${call} ${ms.toFixed(2)}`)
          .join(', ')} (ms)`,
      );
      result.sizes.push({ predictions: size, fillSeconds, bytes, costMs });
    }
    const first = result.sizes[0].costMs;
    const last = result.sizes[result.sizes.length - 1].costMs;
    result.ratio = Object.fromEntries(Object.keys(first).map((call) => [call, last[call] / first[call]]));
    console.log(
      `  cost@${sizes[sizes.length - 1]} / cost@${sizes[0]}: ${Object.entries(result.ratio)
        .map(([c, r]) => `${c} ${r.toFixed(2)}`)
        .join(', ')}`,
    );

    const records = Array.from({ length: IMPORT_RECORDS }, (_, i) => ({
      features: { x: i % 100, y: i % 7 },
      label: i % 2 ? 'a' : 'b',
      source: 'import',
    }));
    const start = performance.now();
    await engine.store.addRecords(MODEL, records);
    const seconds = (performance.now() - start) / 1000;
    result.import = { records: IMPORT_RECORDS, seconds, recordsPerSecond: IMPORT_RECORDS / seconds };
    console.log(
      `  import: addRecords of ${IMPORT_RECORDS.toLocaleString('en')} records in ${seconds.toFixed(2)} s (${Math.round(IMPORT_RECORDS / seconds)}/s)`,
    );
    return result;
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const benchmark: Benchmark = {
  needs: 'nothing',
  async run() {
    const sizes = logSizes();
    return {
      anchor: `the same cycle on a log of ${sizes[0]} predictions`,
      batch: BATCH,
      postgres: await measure('postgres', postgresEngine, sizes),
      sqlite: await measure('sqlite', sqliteEngine, sizes),
    };
  },
};
