/**
 * Group commit in the store (Store.writeLog), on every store engine: many requests' writes in
 * one transaction, each undone alone when refused; and SQLite's synchronous setting, which
 * decides what a power loss can undo.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore, type PredictionLog } from '../../adapters/store/index.ts';
import { UnknownLabelError, UnknownPredictionError } from '../../core/errors.ts';
import { tempDir } from '../helpers/services.ts';
import { collect, STORE_ENGINES } from '../helpers/store-engines.ts';

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

for (const engine of STORE_ENGINES) {
  describe(engine.name, () => {
    test('writeLog commits every write that succeeds and undoes each refused one alone', async () => {
      const store = await engine.open();
      const results = await store.writeLog([
        { kind: 'predictions', rows: [prediction('p1'), prediction('p2')] },
        // Refused half way: its first item (for p1, written just above) must be undone with it.
        {
          kind: 'feedback',
          items: [
            { predictionId: 'p1', label: 'sun' },
            { predictionId: 'missing', label: 'sun' },
          ],
          model: 'weather',
        },
        { kind: 'feedback', items: [{ predictionId: 'p2', label: 'sun' }], model: 'weather', sender: 'crm' },
        { kind: 'feedback', items: [{ predictionId: 'p1', label: 'hail' }], model: 'weather' },
        { kind: 'predictions', rows: [prediction('p3')] },
      ]);
      assert.deepEqual(
        results.map((r) => r.ok),
        [true, false, true, false, true],
      );
      assert.ok(!results[1].ok && results[1].error instanceof UnknownPredictionError);
      assert.ok(!results[3].ok && results[3].error instanceof UnknownLabelError);
      assert.ok(results[2].ok && results[2].ids.length === 1);

      const log = await collect(store.exportLog('weather', {}));
      assert.deepEqual(
        log.map((row) => [row.id, row.feedback?.label, row.feedback?.source]),
        [
          ['p1', undefined, undefined],
          ['p2', 'sun', 'crm'],
          ['p3', undefined, undefined],
        ],
      );
      assert.equal((await store.readRecords('weather', { kind: 'all' })).length, 1, 'only the committed feedback became a record');
      await store.close();
    });

    test('writeLog: a prediction write refused (a duplicate id) is undone alone; the rest, in chunks and singles, are stored', async () => {
      const store = await engine.open();
      await store.writeLog([{ kind: 'predictions', rows: [prediction('taken')] }]);
      // 40 rows: one multi-row INSERT of 32 and 8 single ones; the predictions of a commit are first tried all at once.
      const many = Array.from({ length: 40 }, (_, i) => prediction(`many-${String(i).padStart(2, '0')}`));
      const results = await store.writeLog([
        { kind: 'predictions', rows: many },
        { kind: 'predictions', rows: [prediction('fresh'), prediction('taken')] },
        { kind: 'predictions', rows: [prediction('last')] },
      ]);
      assert.deepEqual(
        results.map((r) => r.ok),
        [true, false, true],
      );

      const log = await collect(store.exportLog('weather', {}));
      assert.deepEqual(
        log.map((row) => row.id),
        ['taken', ...many.map((r) => r.id), 'last'],
      );
      const stored = log.find((row) => row.id === 'many-39')!;
      assert.deepEqual(
        { features: stored.features, probabilities: stored.probabilities, confidence: stored.confidence },
        { features: many[39].features, probabilities: many[39].probabilities, confidence: 0.7 },
      );
      await store.close();
    });
  });
}

test('SQLite: synchronous is normal by default, full on request', async () => {
  const dir = tempDir();
  for (const [options, expected] of [
    [{}, 1],
    [{ synchronous: 'full' as const }, 2],
  ] as const) {
    const path = join(dir, `${expected}.sqlite`);
    const store = await openStore(path, options);
    await store.writeLog([{ kind: 'predictions', rows: [prediction('p')] }]);
    // The pragma is per connection: read it on the store's own (private) one.
    const db = (store as unknown as { db: Database.Database }).db;
    assert.equal(db.pragma('synchronous', { simple: true }), expected);
    await store.close();
  }
});
