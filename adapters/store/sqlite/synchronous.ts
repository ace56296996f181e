/**
 * The SQLite table groups answer synchronously (better-sqlite3 runs in-process, and a feedback
 * write nests other groups' statements inside one transaction), while the Store interface
 * returns Promises. `Synchronous<T>` is T's methods with their results unwrapped, so each table
 * group is still checked against its part of the interface; SqliteStore (sqlite-store.ts) is
 * the one place that turns them into Promises.
 */
export type Synchronous<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Unwrapped<R> : T[K];
};

type Unwrapped<R> = R extends Promise<infer V> ? V : R extends AsyncIterable<infer E> ? Iterable<E> : R;
