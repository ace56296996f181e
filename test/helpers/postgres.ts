/**
 * A Postgres database of its own for each test that asks: `npm test` starts one server for the
 * whole run (test/run.ts, stack/postgres.ts) and passes its URL as PERENNIAL_TEST_DATABASE_URL;
 * a test file run on its own starts its own server and stops it when it ends. Each database has
 * a random name, so test files running at once never share one.
 */
import { after } from 'node:test';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startPostgres } from '../../stack/postgres.ts';
import type { Service } from '../../stack/services.ts';
import { tempDir } from './services.ts';

let server: Promise<Service> | undefined;
after(async () => {
  if (server) await (await server).stop();
});

/** The URL of the server's maintenance database (postgres). */
function serverUrl(): Promise<string> {
  const url = process.env.PERENNIAL_TEST_DATABASE_URL;
  if (url) return Promise.resolve(url);
  server ??= startPostgres({ dataDir: tempDir('perennial-postgres-') });
  return server.then((s) => s.url);
}

/** Creates an empty database with a random name; its URL. */
export async function freshDatabaseUrl(): Promise<string> {
  const url = new URL(await serverUrl());
  const name = `perennial_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  url.pathname = `/${name}`;
  return url.toString();
}
