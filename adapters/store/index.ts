/**
 * The database, as the rest of Perennial sees it: `openStore` and the `Store` interface
 * (store.ts), the domain types it reads and writes (types.ts), and the feedback rules that are
 * not SQL (feedback-rules.ts). The implementations live in sqlite/ and postgres/; import from here.
 */
import type { Store } from './store.ts';
import type { StoreOptions } from './types.ts';
import { openSqliteStore } from './sqlite/sqlite-store.ts';
import { openPostgresStore } from './postgres/postgres-store.ts';
import { redactedUrl } from './postgres/db.ts';

export type * from './store.ts';
export type * from './types.ts';
export { ANONYMOUS, feedbackSender } from './feedback-rules.ts';

/** Whether a store location is a Postgres database's URL rather than a SQLite file's path. */
export const isPostgresUrl = (location: string) => /^postgres(ql)?:\/\//i.test(location);

/**
 * Opens the store at `location`: a postgres:// or postgresql:// URL (the database must exist; its
 * schema is created or migrated), else a SQLite file (created with its folder if need be) or ':memory:'.
 */
export async function openStore(location: string, options: StoreOptions = {}): Promise<Store> {
  return isPostgresUrl(location) ? openPostgresStore(location, options) : openSqliteStore(location, options);
}

/** A store location fit for logs and messages: a Postgres URL with its password masked, or the file's path. */
export function describeStoreLocation(location: string): string {
  return isPostgresUrl(location) ? redactedUrl(location) : location;
}
