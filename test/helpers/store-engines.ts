/**
 * The store engines the store tests run against: each test file that exercises Store methods
 * directly loops `for (const engine of STORE_ENGINES) describe(engine.name, ...)`, so every
 * engine answers the same contract (adapters/store/store.ts). A test about one engine's own
 * storage (SQLite's migrations of old files, say) stays outside the loop and says so.
 */
import { join } from 'node:path';
import { openStore, type Store, type StoreOptions } from '../../adapters/store/index.ts';
import { freshDatabaseUrl } from './postgres.ts';
import { tempDir } from './services.ts';

export interface StoreEngine {
  name: string;
  /** A store on a new, empty database. */
  open(options?: StoreOptions): Promise<Store>;
  /**
   * A new, empty database for a test that opens it more than once (several processes sharing
   * it): each call of the function returned opens another store on it.
   */
  newDatabase(): Promise<(options?: StoreOptions) => Promise<Store>>;
}

export const STORE_ENGINES: StoreEngine[] = [
  {
    name: 'sqlite',
    open: (options) => openStore(':memory:', options),
    async newDatabase() {
      const path = join(tempDir(), 'perennial.sqlite');
      return (options) => openStore(path, options);
    },
  },
  {
    // A database of its own on the run's Postgres server (PERENNIAL_TEST_DATABASE_URL; helpers/postgres.ts).
    name: 'postgres',
    open: async (options) => openStore(await freshDatabaseUrl(), options),
    async newDatabase() {
      const url = await freshDatabaseUrl();
      return (options) => openStore(url, options);
    },
  },
];

/** Everything an async iterable yields (exportLog's rows), in order: Array.fromAsync before Node 22. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
