/**
 * The SQLite store's own storage: files from older schema versions migrated in place, the schema
 * version, constraints, and one file written by two processes at once. The Store contract every
 * engine keeps is tested in store.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { openStore } from '../../adapters/store/index.ts';
import { SCHEMA_VERSION } from '../../adapters/store/sqlite/migrations.ts';
import { LabelTypeError } from '../../core/errors.ts';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { tempDir } from '../helpers/services.ts';
import { prediction, valuePrediction } from '../helpers/logged-predictions.ts';
import { collect } from '../helpers/store-engines.ts';

async function openTemp() {
  const path = join(tempDir(), 'perennial.sqlite');
  return { path, store: await openStore(path) };
}

const SCHEMA_BEFORE_FEEDBACK_KINDS = `
    CREATE TABLE records (id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, features TEXT NOT NULL, label TEXT NOT NULL, source TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE predictions (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, model TEXT NOT NULL, version TEXT NOT NULL,
      role TEXT NOT NULL, features TEXT NOT NULL, label TEXT NOT NULL, confidence REAL NOT NULL, probabilities TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, prediction_id TEXT NOT NULL UNIQUE REFERENCES predictions (id), model TEXT NOT NULL,
      label TEXT NOT NULL, record_id INTEGER NOT NULL REFERENCES records (id), created_at TEXT NOT NULL);
`;

test('a log from before feedback kinds is migrated in place: ids, labels and records kept', async () => {
  const path = join(tempDir(), 'old.sqlite');
  const old = new Database(path);
  old.exec(`${SCHEMA_BEFORE_FEEDBACK_KINDS}
    INSERT INTO records VALUES (1, 'weather', '{"x":1}', 'rain', 'feedback', '2026-01-01T00:00:00.000Z');
    INSERT INTO predictions VALUES (1, 'p1', 'weather', '1', 'champion', '{"x":1}', 'sun', 0.7, '{"rain":0.3,"sun":0.7}', '2026-01-01T00:00:00.000Z');
    INSERT INTO predictions VALUES (2, 'p2', 'weather', '1', 'champion', '{"x":2}', 'sun', 0.7, '{"rain":0.3,"sun":0.7}', '2026-01-01T00:00:00.000Z');
    INSERT INTO feedback VALUES (7, 'p1', 'weather', 'rain', 1, '2026-01-01T00:00:00.000Z');
  `);
  old.close();
  const store = await openStore(path);
  assert.deepEqual(
    (await store.feedbackSince('weather', 0)).map((f) => [f.feedbackId, f.feedback]),
    [[7, { kind: 'label', label: 'rain' }]],
  );
  assert.equal(await store.addFeedback('p2', { kind: 'overridden' }, 'weather'), 8, 'ids continue after the migrated ones');
  assert.equal((await store.readRecords('weather', { kind: 'all' })).length, 1, 'an override without a label adds no record');
  await store.close();
});

test('another process appending while this one writes loses nothing', async () => {
  const { path, store } = await openTemp();
  const childRows = 1000;
  const script = `
    import { openStore } from ${JSON.stringify(pathToFileURL(join(PROJECT_ROOT, 'adapters/store/index.ts')).href)};
    const store = await openStore(${JSON.stringify(path)});
    for (let i = 0; i < ${childRows}; i++) await store.addRecords('weather', [{ features: { i }, label: 'rain', source: 'child' }]);
    await store.close();
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let exitCode: number | null | undefined;
  child.once('exit', (code) => (exitCode = code));
  // Keep writing, one transaction per turn of the event loop, for as long as the child runs.
  let parentRows = 0;
  while (exitCode === undefined) {
    await store.addRecords('weather', [{ features: { i: parentRows++ }, label: 'sun', source: 'parent' }]);
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(exitCode, 0);
  const records = await store.readRecords('weather', { kind: 'all' });
  assert.equal(records.filter((r) => r.source === 'child').length, childRows);
  assert.equal(records.filter((r) => r.source === 'parent').length, parentRows);
  assert.equal(new Set(records.map((r) => r.id)).size, records.length);
  const switches = records.filter((r, i) => i > 0 && r.source !== records[i - 1].source).length;
  assert.ok(switches > 1, 'the two writers should have interleaved');
  await store.close();
});

test("SQLite: a regression prediction's row has task 'regression' and no confidence; only such a row may lack one", async () => {
  const path = join(tempDir(), 'perennial.sqlite');
  const store = await openStore(path);
  await store.logPredictions([valuePrediction('r1', 12.5), prediction('c1', 'rain', { model: 'house' })]);
  await store.close();
  const db = new Database(path);
  assert.deepEqual(db.prepare('SELECT id, task, confidence FROM predictions ORDER BY seq').all(), [
    { id: 'r1', task: 'regression', confidence: null },
    { id: 'c1', task: 'classification', confidence: 0.7 },
  ]);
  // Only a regression model's prediction may lack a confidence.
  assert.throws(
    () =>
      db
        .prepare(
          "INSERT INTO predictions (id, model, version, role, features, label, probabilities, created_at) VALUES ('x', 'm', '1', 'champion', '{}', 'rain', '{}', 'now')",
        )
        .run(),
    /CHECK constraint failed/,
  );
  db.close();
});

test('a log from before regression models gets predictions.task and a nullable confidence, keeping seq and its counter', async () => {
  const path = join(tempDir(), 'before-regression.sqlite');
  const old = new Database(path);
  old.exec(`
    CREATE TABLE records (id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, features TEXT NOT NULL, label TEXT NOT NULL, source TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE predictions (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, model TEXT NOT NULL, version TEXT NOT NULL,
      role TEXT NOT NULL CHECK (role IN ('champion', 'canary')), features TEXT NOT NULL, label TEXT NOT NULL, confidence REAL NOT NULL,
      probabilities TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE INDEX predictions_by_model ON predictions (model, seq);
    CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, prediction_id TEXT NOT NULL UNIQUE REFERENCES predictions (id), model TEXT NOT NULL,
      kind TEXT NOT NULL DEFAULT 'label' CHECK (kind IN ('label', 'accepted', 'overridden')), label TEXT, record_id INTEGER REFERENCES records (id), created_at TEXT NOT NULL);
    INSERT INTO records VALUES (1, 'weather', '{"x":1}', 'rain', 'feedback', '2026-01-01T00:00:00.000Z');
    INSERT INTO predictions VALUES (1, 'p1', 'weather', '1', 'champion', '{"x":1}', 'sun', 0.7, '{"rain":0.3,"sun":0.7}', '2026-01-01T00:00:00.000Z');
    INSERT INTO predictions VALUES (2, 'p2', 'weather', '1', 'champion', '{"x":2}', 'sun', 0.6, '{"rain":0.4,"sun":0.6}', '2026-01-01T00:00:00.000Z');
    INSERT INTO predictions VALUES (3, 'p3', 'weather', '1', 'champion', '{"x":3}', 'rain', 0.9, '{"rain":0.9,"sun":0.1}', '2026-01-01T00:00:00.000Z');
    DELETE FROM predictions WHERE seq = 3; -- the counter stays at 3: seq 3 must never come back
    INSERT INTO feedback VALUES (7, 'p1', 'weather', 'label', 'rain', 1, '2026-01-01T00:00:00.000Z');
  `);
  old.close();

  const store = await openStore(path);
  assert.deepEqual(
    (await store.predictionsSince('weather', 0, 10)).rows.map((r) => [r.seq, r.label, r.probabilities]),
    [
      [1, 'sun', { rain: 0.3, sun: 0.7 }],
      [2, 'sun', { rain: 0.4, sun: 0.6 }],
    ],
  );
  assert.deepEqual(
    (await store.feedbackSince('weather', 0)).map((f) => [f.feedbackId, f.predicted, f.feedback]),
    [[7, 'sun', { kind: 'label', label: 'rain' }]],
  );
  await store.logPredictions([valuePrediction('v1', 4.5, { model: 'weather' })]);
  assert.equal(await store.maxPredictionSeq('weather'), 4, 'seq continues after the counter, not after the last row');
  await assert.rejects(store.addFeedback('p2', 3), LabelTypeError, "old predictions are a classifier's");
  assert.equal(await store.addFeedback('p2', 'rain'), 8);
  assert.equal(await store.addFeedback('v1', '4.5'), 9);
  await store.close();

  // Reopening changes nothing; the schema is the new one, indexes and foreign keys included.
  const again = await openStore(path);
  await again.close();
  const db = new Database(path);
  assert.deepEqual(db.prepare('SELECT seq, task, confidence FROM predictions ORDER BY seq').all(), [
    { seq: 1, task: 'classification', confidence: 0.7 },
    { seq: 2, task: 'classification', confidence: 0.6 },
    { seq: 4, task: 'regression', confidence: null },
  ]);
  assert.deepEqual(
    db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'predictions' AND sql IS NOT NULL ORDER BY name")
      .pluck()
      .all(),
    ['predictions_by_model', 'predictions_by_time', 'predictions_by_twin'],
  );
  assert.equal(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'predictions_rebuilt'").pluck().get(), 0);
  db.pragma('foreign_keys = ON');
  assert.throws(
    () => db.prepare("INSERT INTO feedback (prediction_id, model, kind, created_at) VALUES ('nope', 'weather', 'accepted', 'now')").run(),
    /FOREIGN KEY constraint failed/,
  );
  db.close();
});

test('a log from before API keys gets feedback.source: its feedback was anonymous, new feedback names its sender', async () => {
  const path = join(tempDir(), 'before-keys.sqlite');
  const old = new Database(path);
  old.exec(`
    CREATE TABLE records (id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, features TEXT NOT NULL, label TEXT NOT NULL, source TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE predictions (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, model TEXT NOT NULL, version TEXT NOT NULL,
      role TEXT NOT NULL, task TEXT NOT NULL DEFAULT 'classification', features TEXT NOT NULL, label TEXT NOT NULL, confidence REAL, probabilities TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, prediction_id TEXT NOT NULL UNIQUE REFERENCES predictions (id), model TEXT NOT NULL,
      kind TEXT NOT NULL DEFAULT 'label', label TEXT, record_id INTEGER REFERENCES records (id), created_at TEXT NOT NULL);
    INSERT INTO records VALUES (1, 'weather', '{"x":1}', 'rain', 'feedback', '2026-01-01T00:00:00.000Z');
    INSERT INTO predictions VALUES (1, 'p1', 'weather', '1', 'champion', 'classification', '{"x":1}', 'sun', 0.7, '{"rain":0.3,"sun":0.7}', '2026-01-01T00:00:00.000Z');
    INSERT INTO predictions VALUES (2, 'p2', 'weather', '1', 'champion', 'classification', '{"x":2}', 'sun', 0.7, '{"rain":0.3,"sun":0.7}', '2026-01-01T00:00:00.000Z');
    INSERT INTO feedback VALUES (1, 'p1', 'weather', 'label', 'rain', 1, '2026-01-01T00:00:00.000Z');
  `);
  old.close();
  const store = await openStore(path);
  await store.addFeedback('p2', 'rain', 'weather', 'crm');
  await store.close();
  const db = new Database(path, { readonly: true });
  assert.deepEqual(db.prepare('SELECT prediction_id, source FROM feedback ORDER BY id').all(), [
    { prediction_id: 'p1', source: 'anonymous' },
    { prediction_id: 'p2', source: 'crm' },
  ]);
  assert.deepEqual(db.prepare('SELECT source FROM records ORDER BY id').pluck().all(), ['feedback', 'feedback:crm']);
  db.close();
});

test('SQLite: the api_keys table holds only the hashes it was given', async () => {
  const path = join(tempDir(), 'perennial.sqlite');
  const store = await openStore(path);
  await store.addApiKey('weather', 'crm', 'hash-1');
  await store.addApiKey('weather', 'crm', 'hash-2'); // refused: the name is taken
  await store.addApiKey('house', 'crm', 'hash-3');
  await store.close();
  const db = new Database(path, { readonly: true });
  assert.deepEqual(db.prepare('SELECT hash FROM api_keys ORDER BY hash').pluck().all(), ['hash-1', 'hash-3']);
  db.close();
});

test('a log written before schema versions, every table filled, is brought to the current version without losing a row', async () => {
  const path = join(tempDir(), 'unversioned.sqlite');
  const old = new Database(path);
  // The schema as Perennial wrote it before PRAGMA user_version (which stays 0).
  old.exec(`
    CREATE TABLE records (id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, features TEXT NOT NULL, label TEXT NOT NULL, source TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE INDEX records_by_model ON records (model, id);
    CREATE TABLE predictions (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, model TEXT NOT NULL, version TEXT NOT NULL,
      role TEXT NOT NULL CHECK (role IN ('champion', 'canary')), task TEXT NOT NULL DEFAULT 'classification' CHECK (task IN ('classification', 'regression')),
      features TEXT NOT NULL, label TEXT NOT NULL, confidence REAL CHECK (confidence IS NOT NULL OR task = 'regression'), probabilities TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE INDEX predictions_by_model ON predictions (model, seq);
    CREATE INDEX predictions_by_time ON predictions (model, created_at);
    CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, prediction_id TEXT NOT NULL UNIQUE REFERENCES predictions (id), model TEXT NOT NULL,
      kind TEXT NOT NULL DEFAULT 'label' CHECK (kind IN ('label', 'accepted', 'overridden')), label TEXT, record_id INTEGER REFERENCES records (id),
      created_at TEXT NOT NULL, source TEXT NOT NULL DEFAULT 'anonymous');
    CREATE INDEX feedback_by_model ON feedback (model, id);
    CREATE TABLE deployments (model TEXT PRIMARY KEY, state TEXT NOT NULL);
    CREATE TABLE alerts (id TEXT PRIMARY KEY, model TEXT NOT NULL, kind TEXT NOT NULL, dedup_key TEXT, suppressed TEXT, delivered TEXT NOT NULL DEFAULT '[]', created_at TEXT NOT NULL);
    CREATE INDEX alerts_by_model_kind ON alerts (model, kind, created_at);
    CREATE TABLE quarantined_records (id INTEGER PRIMARY KEY, model TEXT NOT NULL, features TEXT NOT NULL, label TEXT NOT NULL, source TEXT NOT NULL,
      created_at TEXT NOT NULL, feedback_id INTEGER, quarantined_at TEXT NOT NULL, reason TEXT NOT NULL);
    CREATE INDEX quarantined_records_by_source ON quarantined_records (model, source);
    CREATE TABLE api_keys (model TEXT NOT NULL, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT, PRIMARY KEY (model, name));

    INSERT INTO records VALUES (1, 'weather', '{"x":1}', 'rain', 'feedback:crm', '2026-01-01T00:00:00.000Z');
    INSERT INTO records VALUES (2, 'weather', '{"x":2}', 'sun', 'upload.csv', '2026-01-01T00:00:00.000Z');
    INSERT INTO predictions VALUES (1, 'p1', 'weather', '1', 'champion', 'classification', '{"x":1}', 'sun', 0.7, '{"rain":0.3,"sun":0.7}', '2026-01-01T00:00:00.000Z');
    INSERT INTO predictions VALUES (2, 'p2', 'weather', '2', 'canary', 'classification', '{"x":2}', 'sun', 0.6, '{"rain":0.4,"sun":0.6}', '2026-01-01T00:00:00.000Z');
    INSERT INTO predictions VALUES (3, 'v1', 'house', '1', 'champion', 'regression', '{"rooms":3}', '12.5', NULL, '{}', '2026-01-01T00:00:00.000Z');
    INSERT INTO feedback VALUES (1, 'p1', 'weather', 'label', 'rain', 1, '2026-01-01T00:00:00.000Z', 'crm');
    INSERT INTO feedback VALUES (2, 'v1', 'house', 'overridden', NULL, NULL, '2026-01-01T00:00:00.000Z', 'anonymous');
    INSERT INTO deployments VALUES ('weather', '{"champion":{"version":"1"},"canary":{"version":"2","weight":0.1},"updatedAt":"2026-01-01T00:00:00.000Z","reason":"canary"}');
    INSERT INTO alerts VALUES ('a1', 'weather', 'drift', 'drift:x', NULL, '["slack"]', '2026-01-01T00:00:00.000Z');
    INSERT INTO quarantined_records VALUES (5, 'weather', '{"x":5}', 'rain', 'bad.csv', '2026-01-01T00:00:00.000Z', NULL, '2026-01-02T00:00:00.000Z', 'typos');
    INSERT INTO api_keys VALUES ('weather', 'crm', 'hash-1', '2026-01-01T00:00:00.000Z', NULL);
  `);
  const tables = ['records', 'predictions', 'feedback', 'deployments', 'alerts', 'quarantined_records', 'api_keys'];
  const rowsOf = (db: Database.Database) =>
    Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()]));
  const before = rowsOf(old);
  assert.equal(old.pragma('user_version', { simple: true }), 0);
  old.close();

  const store = await openStore(path);
  assert.deepEqual(
    (await store.feedbackSince('weather', 0)).map((f) => [f.feedbackId, f.feedback]),
    [[1, { kind: 'label', label: 'rain' }]],
  );
  assert.deepEqual(
    (await store.listDeployments()).map((d) => [d.model, d.canary]),
    [['weather', { version: '2', weight: 0.1 }]],
  );
  assert.deepEqual((await store.getAlert('a1'))?.delivered, ['slack']);
  assert.equal(await store.apiKeyName('weather', 'hash-1'), 'crm');
  assert.deepEqual(
    (await store.recordsBySource('weather')).map((s) => [s.source, s.records, s.quarantined]),
    [
      ['feedback:crm', 1, 0],
      ['upload.csv', 1, 0],
      ['bad.csv', 0, 1],
    ],
  );
  await store.close();
  await (await openStore(path)).close(); // opening a file at the current version again changes nothing

  const db = new Database(path, { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  // Version 4 added predictions.shadow_of, null for every prediction that was served.
  assert.deepEqual(rowsOf(db), { ...before, predictions: before.predictions.map((p) => ({ ...(p as object), shadow_of: null })) });
  db.close();
});

test('a log from before shadow deployments takes shadow predictions after migrating, seq continuing', async () => {
  const path = join(tempDir(), 'version-3.sqlite');
  const old = new Database(path);
  old.exec(`
    CREATE TABLE records (id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, features TEXT NOT NULL, label TEXT NOT NULL, source TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE predictions (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, model TEXT NOT NULL, version TEXT NOT NULL,
      role TEXT NOT NULL CHECK (role IN ('champion', 'canary')), task TEXT NOT NULL DEFAULT 'classification' CHECK (task IN ('classification', 'regression')),
      features TEXT NOT NULL, label TEXT NOT NULL, confidence REAL CHECK (confidence IS NOT NULL OR task = 'regression'), probabilities TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, prediction_id TEXT NOT NULL UNIQUE REFERENCES predictions (id), model TEXT NOT NULL,
      kind TEXT NOT NULL DEFAULT 'label' CHECK (kind IN ('label', 'accepted', 'overridden')), label TEXT, record_id INTEGER REFERENCES records (id),
      created_at TEXT NOT NULL, source TEXT NOT NULL DEFAULT 'anonymous');
    INSERT INTO predictions VALUES (1, 'p1', 'weather', '1', 'champion', 'classification', '{"x":1}', 'sun', 0.7, '{"rain":0.3,"sun":0.7}', '2026-01-01T00:00:00.000Z');
    INSERT INTO predictions VALUES (2, 'p2', 'weather', '1', 'champion', 'classification', '{"x":2}', 'rain', 0.6, '{"rain":0.6,"sun":0.4}', '2026-01-01T00:00:00.000Z');
    DELETE FROM predictions WHERE seq = 2; -- the counter stays at 2: seq 2 must never come back
    INSERT INTO feedback VALUES (1, 'p1', 'weather', 'accepted', 'sun', NULL, '2026-01-01T00:00:00.000Z', 'anonymous');
    PRAGMA user_version = 3;
  `);
  old.close();

  const store = await openStore(path);
  await store.logPredictions([
    {
      id: 's1',
      model: 'weather',
      version: '2',
      role: 'shadow',
      shadowOf: 'p1',
      features: { x: 1 },
      label: 'rain',
      confidence: 0.8,
      probabilities: { rain: 0.8, sun: 0.2 },
    },
  ]);
  assert.deepEqual(
    (await collect(store.exportLog('weather', {}))).map((r) => [r.seq, r.id, r.role, r.shadowOf, r.feedback?.kind ?? null]),
    [
      [1, 'p1', 'champion', null, 'accepted'],
      [3, 's1', 'shadow', 'p1', null],
    ],
  );
  // A served prediction must not claim a twin, nor a shadow lack one.
  await assert.rejects(store.logPredictions([{ ...prediction('x1', 'sun'), shadowOf: 'p1' }]));
  await assert.rejects(store.logPredictions([{ ...prediction('x2', 'sun'), role: 'shadow' }]));
  await store.close();
  const db = new Database(path, { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  db.close();
});

test('a new log starts at the current schema version; one from before feedback kinds reaches it too', async () => {
  const { path, store } = await openTemp();
  await store.close();
  const fresh = new Database(path, { readonly: true });
  assert.equal(fresh.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  fresh.close();

  const oldPath = join(tempDir(), 'oldest.sqlite');
  const old = new Database(oldPath);
  old.exec(`${SCHEMA_BEFORE_FEEDBACK_KINDS}
    INSERT INTO records VALUES (1, 'weather', '{"x":1}', 'rain', 'feedback', '2026-01-01T00:00:00.000Z');
    INSERT INTO predictions VALUES (1, 'p1', 'weather', '1', 'champion', '{"x":1}', 'sun', 0.7, '{"rain":0.3,"sun":0.7}', '2026-01-01T00:00:00.000Z');
    INSERT INTO feedback VALUES (1, 'p1', 'weather', 'rain', 1, '2026-01-01T00:00:00.000Z');
  `);
  old.close();
  await (await openStore(oldPath)).close();
  const db = new Database(oldPath, { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.deepEqual(db.prepare('SELECT id, kind, label, record_id, source FROM feedback').all(), [
    { id: 1, kind: 'label', label: 'rain', record_id: 1, source: 'anonymous' },
  ]);
  assert.deepEqual(db.prepare('SELECT seq, task, confidence FROM predictions').all(), [
    { seq: 1, task: 'classification', confidence: 0.7 },
  ]);
  db.close();
});
