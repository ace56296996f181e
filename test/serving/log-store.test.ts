/**
 * Group commit in the store (Store.writeLog): many requests' writes in one transaction, each
 * undone alone when refused; and the synchronous setting that decides what a power loss can undo.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore, type PredictionLog } from '../../adapters/store/index.ts';
import { UnknownLabelError, UnknownPredictionError } from '../../core/errors.ts';
import { tempDir } from '../helpers/services.ts';

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

test('writeLog commits every write that succeeds and undoes each refused one alone', async () => {
  const path = join(tempDir(), 'perennial.sqlite');
  const store = await openStore(path);
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
  await store.close();

  const db = new Database(path, { readonly: true });
  assert.deepEqual(db.prepare('SELECT id FROM predictions ORDER BY id').pluck().all(), ['p1', 'p2', 'p3']);
  assert.deepEqual(db.prepare('SELECT prediction_id, label, source FROM feedback').all(), [
    { prediction_id: 'p2', label: 'sun', source: 'crm' },
  ]);
  assert.equal(db.prepare('SELECT count(*) FROM records').pluck().get(), 1, 'only the committed feedback became a record');
  db.close();
});

test('writeLog: a prediction write refused (a duplicate id) is undone alone; the rest, in chunks and singles, are stored', async () => {
  const path = join(tempDir(), 'perennial.sqlite');
  const store = await openStore(path);
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
  await store.close();

  const db = new Database(path, { readonly: true });
  const ids = db.prepare('SELECT id FROM predictions ORDER BY seq').pluck().all();
  assert.deepEqual(ids, ['taken', ...many.map((r) => r.id), 'last']);
  const stored = db.prepare("SELECT features, probabilities, confidence FROM predictions WHERE id = 'many-39'").get();
  assert.deepEqual(stored, {
    features: JSON.stringify(many[39].features),
    probabilities: JSON.stringify(many[39].probabilities),
    confidence: 0.7,
  });
  db.close();
});

test('synchronous: normal by default, full on request', async () => {
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
