/**
 * Store.watchDeployments: on Postgres, every setDeployment of any process reaches the listener
 * with the model's name, and a lost listening connection comes back (saying that notices may have
 * been missed); SQLite pushes nothing (its readers poll).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { DeploymentState } from '../../adapters/store/index.ts';
import { STORE_ENGINES } from '../helpers/store-engines.ts';
import { freshDatabaseUrl } from '../helpers/postgres.ts';
import { openStore } from '../../adapters/store/index.ts';
import { eventually } from '../helpers/local-models.ts';

const state = (version: string): DeploymentState => ({ champion: { version }, updatedAt: new Date().toISOString(), reason: 'test' });

test('Postgres: a write by another store reaches the listener; a killed listening connection reconnects', async () => {
  const url = await freshDatabaseUrl();
  const [listener, writer] = [await openStore(url), await openStore(url)];
  const heard: Array<string | undefined> = [];
  const stop = await listener.watchDeployments((model) => heard.push(model));
  try {
    await writer.setDeployment('weather', state('1'));
    await writer.setDeployment('iris', state('2'));
    await eventually('both notices', async () => (heard.length >= 2 ? true : undefined));
    assert.deepEqual(heard, ['weather', 'iris']);

    // The listening connection dies (a Postgres restart, a proxy's idle timeout).
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const killed = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN perennial_deployments'");
    await admin.end();
    assert.equal(killed.rowCount, 1);
    await eventually('the reconnect, reported as "reread everything"', async () => (heard.some((m) => m === undefined) ? true : undefined));
    await writer.setDeployment('weather', state('3'));
    await eventually('a notice after the reconnect', async () => (heard.at(-1) === 'weather' ? true : undefined));
  } finally {
    await stop();
    await Promise.all([listener.close(), writer.close()]);
  }
});

test('SQLite: watchDeployments pushes nothing and stops cleanly', async () => {
  const sqlite = STORE_ENGINES.find((e) => e.name === 'sqlite')!;
  const open = await sqlite.newDatabase();
  const [listener, writer] = [await open(), await open()];
  const heard: Array<string | undefined> = [];
  const stop = await listener.watchDeployments((model) => heard.push(model));
  await writer.setDeployment('weather', state('1'));
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(heard, []);
  assert.equal((await listener.getDeployment('weather'))?.champion.version, '1', 'the poll reads it');
  await stop();
  await Promise.all([listener.close(), writer.close()]);
});
