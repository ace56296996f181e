/**
 * The group commit's order (serving/log-writer.ts) with a store that answers later, as a
 * networked one does: a batch handed over while the previous one commits waits for it, and a
 * commit that fails as a whole fails every request in it. The store is the real SQLite store,
 * its writeLog delayed (and failed once on purpose).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore, type LogWrite, type PredictionLog, type Store } from '../../adapters/store/index.ts';
import { LogWriter } from '../../serving/log-writer.ts';
import { collect } from '../helpers/store-engines.ts';

const prediction = (id: string): PredictionLog => ({
  id,
  model: 'weather',
  version: '1',
  role: 'champion',
  features: { temp_max: 10 },
  label: 'rain',
  confidence: 0.7,
  probabilities: { rain: 0.7, sun: 0.3 },
});

/** `store` with a writeLog that takes `delayMs`, counting how many run at once; `failNext` makes the next one throw. */
function slowStore(store: Store, delayMs: number) {
  const seen = { running: 0, mostAtOnce: 0, commits: 0, failNext: false };
  const writeLog = async (writes: LogWrite[]) => {
    seen.running++;
    seen.mostAtOnce = Math.max(seen.mostAtOnce, seen.running);
    try {
      await sleep(delayMs);
      seen.commits++;
      if (seen.failNext) {
        seen.failNext = false;
        throw new Error('disk full');
      }
      return await store.writeLog(writes);
    } finally {
      seen.running--;
    }
  };
  const slow = new Proxy(store, {
    get: (target, key) => (key === 'writeLog' ? writeLog : Reflect.get(target, key)),
  });
  return { slow, seen };
}

test('commits run one at a time in batch order; a commit that fails fails each of its requests', async () => {
  const store = await openStore(':memory:');
  const { slow, seen } = slowStore(store, 20);
  // Two rows a batch: eight requests of one row make four batches, handed over while the first commits.
  const log = new LogWriter(slow, { maxDelayMs: 0, maxRows: 2 });
  const ids = Array.from({ length: 8 }, (_, i) => `p${i}`);
  await Promise.all(ids.map((id) => log.predictions([prediction(id)])));
  assert.equal(seen.mostAtOnce, 1, 'never two commits at once');
  assert.equal(seen.commits, 4);
  assert.deepEqual(
    (await collect(store.exportLog('weather', {}))).map((row) => row.id),
    ids,
    'stored in the order the requests came',
  );

  seen.failNext = true;
  const failed = await Promise.allSettled([log.predictions([prediction('lost-1')]), log.predictions([prediction('lost-2')])]);
  assert.deepEqual(
    failed.map((r) => r.status === 'rejected' && (r.reason as Error).message),
    ['disk full', 'disk full'],
  );
  await log.predictions([prediction('after')]);
  assert.deepEqual(
    (await collect(store.exportLog('weather', { afterSeq: 8 }))).map((row) => row.id),
    ['after'],
    'nothing of the failed commit stored; the next commit goes through',
  );
  assert.deepEqual(log.stats().batches, 6);
  await log.flush();
  await store.close();
});
