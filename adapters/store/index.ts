/**
 * The database, as the rest of Perennial sees it: `openStore` and the `Store` interface
 * (store.ts), the domain types it reads and writes (types.ts), and the feedback rules that are
 * not SQL (feedback-rules.ts). The SQLite implementation lives in sqlite/; import from here.
 */
import type { Store } from './store.ts';
import type { StoreOptions } from './types.ts';
import { openSqliteStore } from './sqlite/sqlite-store.ts';

export type * from './store.ts';
export type * from './types.ts';
export { ANONYMOUS, feedbackSender } from './feedback-rules.ts';

/** Opens the store at `path`, a SQLite file (created with its folder if need be) or ':memory:'. */
export async function openStore(path: string, options: StoreOptions = {}): Promise<Store> {
  return openSqliteStore(path, options);
}
