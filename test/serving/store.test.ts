import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { openStore, type PredictionLog, type Store, type StoreOptions } from '../../adapters/store/index.ts';
import { SCHEMA_VERSION } from '../../adapters/store/sqlite/migrations.ts';
import { FeedbackConflictError, LabelTypeError, UnknownLabelError, UnknownPredictionError } from '../../core/errors.ts';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { tempDir } from '../helpers/services.ts';
import { collect } from '../helpers/store-engines.ts';

const CLASSES = ['rain', 'sun'];

function prediction(id: string, label: string, extra: Partial<PredictionLog> = {}): PredictionLog {
  return {
    id,
    model: 'weather',
    version: '1',
    role: 'champion',
    features: { temp_max: 10, wind: null },
    label,
    confidence: 0.7,
    probabilities: Object.fromEntries(CLASSES.map((c) => [c, c === label ? 0.7 : 0.3])),
    ...extra,
  };
}

/** A regression model's prediction as the server logs it: the number as text, no probabilities, no confidence. */
function valuePrediction(id: string, value: number, extra: Partial<PredictionLog> = {}): PredictionLog {
  return {
    id,
    model: 'house',
    version: '1',
    role: 'champion',
    task: 'regression',
    features: { rooms: 3 },
    label: String(value),
    confidence: null,
    probabilities: {},
    ...extra,
  };
}

async function openTemp(options?: StoreOptions) {
  const path = join(tempDir(), 'perennial.sqlite');
  return { path, store: await openStore(path, options) };
}

test("training windows by days (as of a time) and since the champion's data", async () => {
  let now = new Date('2026-03-01T00:00:00Z');
  const { store } = await openTemp({ now: () => now });
  const day = (x: number) => [{ features: { x }, label: 'rain', source: 'upload' }];
  await store.addRecords('weather', day(1)); // March 1
  now = new Date('2026-03-10T00:00:00Z');
  await store.addRecords('weather', day(10));
  const championTrainedThrough = await store.maxRecordId('weather');
  now = new Date('2026-03-20T00:00:00Z');
  await store.addRecords('weather', day(20));

  const x = async (window: Parameters<Store['readRecords']>[1], at?: Parameters<Store['readRecords']>[2]) =>
    (await store.readRecords('weather', window, at)).map((r) => r.features.x);
  assert.deepEqual(await x({ kind: 'lastDays', days: 10 }), [10, 20], 'the last 10 days before now (March 20)');
  assert.deepEqual(await x({ kind: 'lastDays', days: 10 }, { asOf: '2026-03-15T00:00:00Z' }), [10, 20], 'as of March 15: March 5 onwards');
  assert.deepEqual(await x({ kind: 'lastDays', days: 1.5 }, { asOf: '2026-03-11T00:00:00Z' }), [10, 20]);
  assert.deepEqual(await x({ kind: 'lastDays', days: 30 }), [1, 10, 20]);
  assert.deepEqual(await x({ kind: 'sinceChampion' }, { championTrainedThrough }), [20]);
  assert.deepEqual(await x({ kind: 'sinceChampion' }), [1, 10, 20], 'no champion yet: everything');
  await store.close();
});

/** The log's tables before feedback kinds (and every later migration): the oldest schema a store must open. */
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

test('records: windows read in arrival order, counted per model, watermarks by id', async () => {
  const { store } = await openTemp();
  const rows = (n: number, label: string) => Array.from({ length: n }, (_, i) => ({ features: { x: i }, label, source: 'upload' }));

  assert.equal(await store.maxRecordId('weather'), 0);
  assert.equal(await store.addRecords('weather', rows(5, 'rain')), 5);
  await store.addRecords('other', rows(2, 'sun'));
  const mark = await store.maxRecordId('weather');
  assert.equal(await store.addRecords('weather', rows(3, 'sun')), 3);

  const all = await store.readRecords('weather', { kind: 'all' });
  assert.equal(all.length, 8);
  assert.deepEqual(
    all.map((r) => r.id),
    [...all.map((r) => r.id)].sort((a, b) => a - b),
  );
  assert.deepEqual(all[0], { id: 1, features: { x: 0 }, label: 'rain', source: 'upload' });

  const last = await store.readRecords('weather', { kind: 'lastRows', rows: 4 });
  assert.deepEqual(
    last.map((r) => [r.label, r.features.x]),
    [
      ['rain', 4],
      ['sun', 0],
      ['sun', 1],
      ['sun', 2],
    ],
  );
  assert.equal((await store.readRecords('weather', { kind: 'lastRows', rows: 100 })).length, 8);

  assert.equal(await store.countRecordsSince('weather', mark), 3);
  assert.equal(await store.countRecordsSince('weather', await store.maxRecordId('weather')), 0);
  assert.equal((await store.readRecords('other', { kind: 'all' })).length, 2);
  await store.close();
});

test('feedback: unknown id, idempotent repeat, conflicting relabel, unknown class, wrong model', async () => {
  const { store } = await openTemp();
  await store.logPredictions([prediction('p1', 'rain'), prediction('p2', 'sun')]);

  await assert.rejects(store.addFeedback('nope', 'rain'), UnknownPredictionError);
  await assert.rejects(store.addFeedback('p1', 'rain', 'other-model'), UnknownPredictionError);
  await assert.rejects(store.addFeedback('p1', 'snow'), (err: unknown) => {
    assert.ok(err instanceof UnknownLabelError);
    assert.match(err.message, /not one of the model's classes: rain, sun/);
    return true;
  });

  const first = await store.addFeedback('p1', 'sun', 'weather');
  assert.equal(await store.addFeedback('p1', 'sun'), first, 'the same feedback twice returns the same row');
  await assert.rejects(store.addFeedback('p1', 'rain'), (err: unknown) => {
    assert.ok(err instanceof FeedbackConflictError);
    assert.equal(err.status, 409);
    assert.match(err.message, /already labelled "sun"/);
    return true;
  });

  // Ground truth became exactly one training record carrying the prediction's features.
  const records = await store.readRecords('weather', { kind: 'all' });
  assert.deepEqual(
    records.map(({ features, label, source }) => ({ features, label, source })),
    [{ features: { temp_max: 10, wind: null }, label: 'sun', source: 'feedback:anonymous' }],
  );
  assert.equal(await store.maxFeedbackId('weather'), first);
  await store.close();
});

test('feedback batches are all or nothing', async () => {
  const { store } = await openTemp();
  await store.logPredictions([prediction('a', 'rain'), prediction('b', 'rain')]);
  await assert.rejects(
    store.addFeedbackMany([
      { predictionId: 'a', label: 'rain' },
      { predictionId: 'missing', label: 'rain' },
    ]),
    UnknownPredictionError,
  );
  assert.equal(await store.maxFeedbackId('weather'), 0);
  assert.equal(await store.maxRecordId('weather'), 0);

  const ids = await store.addFeedbackMany([
    { predictionId: 'a', label: 'rain' },
    { predictionId: 'b', label: 'sun' },
  ]);
  assert.equal(ids.length, 2);
  assert.deepEqual(
    (await store.labelledSince('weather', 0)).map(({ version, role, predicted, truth }) => ({ version, role, predicted, truth })),
    [
      { version: '1', role: 'champion', predicted: 'rain', truth: 'rain' },
      { version: '1', role: 'champion', predicted: 'rain', truth: 'sun' },
    ],
  );
  assert.deepEqual(
    (await store.labelledSince('weather', ids[0])).map((l) => l.feedbackId),
    [ids[1]],
  );
  await store.close();
});

test('recent predictions are the last N, oldest first, of that model only', async () => {
  const { store } = await openTemp();
  await store.logPredictions(
    Array.from({ length: 10 }, (_, i) => prediction(`p${i}`, 'rain', { features: { i }, version: String(i % 2) })),
  );
  await store.logPredictions([prediction('x', 'sun', { model: 'other' })]);
  const recent = await store.recentPredictions('weather', 3);
  assert.deepEqual(
    recent.map((r) => r.features.i),
    [7, 8, 9],
  );
  assert.deepEqual(recent[2], { features: { i: 9 }, label: 'rain', confidence: 0.7, version: '1' });
  await store.close();
});

test('live accuracy counts labelled predictions per version made at or after the given time', async () => {
  let clock = new Date('2030-01-01T00:00:00.000Z');
  const { store } = await openTemp({ now: () => clock });
  await store.logPredictions([prediction('old', 'rain', { version: '1' })]);

  clock = new Date('2030-01-01T01:00:00.000Z');
  await store.logPredictions([
    prediction('c1', 'rain', { version: '1' }),
    prediction('c2', 'sun', { version: '1' }),
    prediction('k1', 'sun', { version: '2', role: 'canary' }),
    prediction('k2', 'sun', { version: '2', role: 'canary' }),
    prediction('unlabelled', 'sun', { version: '2', role: 'canary' }),
  ]);
  for (const [id, truth] of [
    ['old', 'rain'],
    ['c1', 'rain'],
    ['c2', 'rain'],
    ['k1', 'sun'],
    ['k2', 'sun'],
  ]) {
    await store.addFeedback(id, truth);
  }

  // A non-UTC spelling of the same instant must select the same rows.
  assert.deepEqual(await store.liveAccuracy('weather', '2030-01-01T02:00:00+01:00'), {
    '1': { n: 2, correct: 1 },
    '2': { n: 2, correct: 2 },
  });
  assert.deepEqual((await store.liveAccuracy('weather', '2029-12-31T00:00:00Z'))['1'], { n: 3, correct: 2 });
  assert.deepEqual(await store.liveAccuracy('weather', '2030-01-02T00:00:00Z'), {});
  await assert.rejects(store.liveAccuracy('weather', 'yesterday'), RangeError);
  await store.close();
});

test("two stores on one file see each other's writes, deployments included", async () => {
  const { path, store: server } = await openTemp();
  const worker = await openStore(path); // opening again must not trip over the existing schema
  await server.logPredictions([prediction('p', 'rain')]);
  await worker.addFeedback('p', 'rain');
  assert.equal(await server.maxFeedbackId('weather'), 1);
  assert.equal((await server.readRecords('weather', { kind: 'all' }))[0].source, 'feedback:anonymous', 'sent without an API key');

  assert.equal(await worker.getDeployment('weather'), undefined);
  const state = {
    champion: { version: '3' },
    canary: { version: '4', weight: 0.2 },
    updatedAt: '2030-01-01T00:00:00.000Z',
    reason: 'canary',
  };
  await server.setDeployment('weather', state);
  assert.deepEqual(await worker.getDeployment('weather'), state);
  await worker.setDeployment('weather', { champion: { version: '4' }, updatedAt: '2030-01-01T00:05:00.000Z', reason: 'promote' });
  await server.setDeployment('alpha', { champion: { version: '1' }, updatedAt: '2030-01-01T00:00:00.000Z', reason: 'first' });
  assert.deepEqual(
    (await server.listDeployments()).map((d) => [d.model, d.champion.version, d.canary]),
    [
      ['alpha', '1', undefined],
      ['weather', '4', undefined],
    ],
  );
  await server.close();
  await worker.close();
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

test('a regression prediction is logged as its number in text, with no probabilities or confidence', async () => {
  const { path, store } = await openTemp();
  await store.logPredictions([valuePrediction('r1', 12.5), prediction('c1', 'rain', { model: 'house' })]);
  const { rows } = await store.predictionsSince('house', 0, 10);
  assert.deepEqual(
    rows.map(({ label, probabilities }) => ({ label, probabilities })),
    [
      { label: '12.5', probabilities: {} },
      { label: 'rain', probabilities: { rain: 0.7, sun: 0.3 } },
    ],
  );
  assert.deepEqual(
    (await store.recentPredictions('house', 2)).map((r) => r.confidence),
    [null, 0.7],
  );
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

test("feedback on a regression prediction: a finite number or numeric text, kept as the number's text", async () => {
  const { store } = await openTemp();
  await store.logPredictions([
    valuePrediction('a', 12.5),
    valuePrediction('b', 7),
    valuePrediction('c', 3.25),
    valuePrediction('d', 100),
    valuePrediction('e', 1),
  ]);

  const first = await store.addFeedback('a', 13.75, 'house');
  for (const same of ['13.75', ' 13.750 ', 13.75, '1.375e1'])
    assert.equal(await store.addFeedback('a', same), first, `${JSON.stringify(same)} is the same label`);
  await assert.rejects(store.addFeedback('a', '14'), (err: unknown) => {
    assert.ok(err instanceof FeedbackConflictError);
    assert.equal(err.message, 'prediction a is already labelled "13.75"; refusing to relabel it "14"');
    return true;
  });

  for (const bad of ['warm', '1,5', 'Infinity', '0x10', '']) {
    await assert.rejects(store.addFeedback('b', bad), (err: unknown) => {
      assert.ok(err instanceof LabelTypeError, String(err));
      assert.equal(err.status, 400);
      assert.equal(err.code, 'wrong_label_type');
      assert.equal(
        err.message,
        `label ${JSON.stringify(bad)} for prediction b is not a number; the prediction is a regression model's, whose labels are finite numbers (a JSON number or a numeric string)`,
      );
      return true;
    });
  }
  await assert.rejects(store.addFeedback('b', Infinity), LabelTypeError);
  await assert.rejects(store.addFeedback('b', { kind: 'label' }), /label \(none\) for prediction b is not a number/);

  // Accepted: the predicted value was the truth. Overridden: a corrected value, or none.
  await store.addFeedbackMany([
    { predictionId: 'b', kind: 'accepted' },
    { predictionId: 'c', kind: 'overridden', label: '-2' },
    { predictionId: 'd', kind: 'overridden' },
  ]);
  await assert.rejects(store.addFeedback('e', { kind: 'overridden', label: 'less' }), LabelTypeError);

  assert.deepEqual(
    (await store.feedbackSince('house', 0)).map((f) => [f.predicted, f.feedback, f.probabilities]),
    [
      ['12.5', { kind: 'label', label: '13.75' }, {}],
      ['7', { kind: 'accepted' }, {}],
      ['3.25', { kind: 'overridden', label: '-2' }, {}],
      ['100', { kind: 'overridden' }, {}],
    ],
  );
  assert.deepEqual(
    (await store.labelledSince('house', 0)).map(({ predicted, truth }) => [predicted, truth]),
    [
      ['12.5', '13.75'],
      ['7', '7'],
      ['3.25', '-2'],
    ],
  );
  assert.deepEqual(
    (await store.readRecords('house', { kind: 'all' })).map(({ features, label, source }) => ({ features, label, source })),
    [
      { features: { rooms: 3 }, label: '13.75', source: 'feedback:anonymous' },
      { features: { rooms: 3 }, label: '7', source: 'feedback:anonymous' },
      { features: { rooms: 3 }, label: '-2', source: 'feedback:anonymous' },
    ],
  );
  await store.close();
});

test("a classifier's feedback label is a class name: a JSON number is refused, not taken for a class", async () => {
  const { store } = await openTemp();
  await store.logPredictions([prediction('p', 'rain', { probabilities: { '0': 0.3, '1': 0.7 }, label: '1' })]);
  await assert.rejects(store.addFeedback('p', 1), (err: unknown) => {
    assert.ok(err instanceof LabelTypeError);
    assert.equal(
      err.message,
      "label 1 for prediction p is a number; the prediction is a classifier's, whose labels are class names as strings: 0, 1",
    );
    return true;
  });
  assert.equal(await store.maxFeedbackId('weather'), 0);
  assert.equal(typeof (await store.addFeedback('p', '1')), 'number');
  await store.close();
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

test('live errors of a regression model per version: MAE and RMSE of the predictions with a known value', async () => {
  let clock = new Date('2030-01-01T00:00:00.000Z');
  const { store } = await openTemp({ now: () => clock });
  await store.logPredictions([valuePrediction('old', 10)]);
  clock = new Date('2030-01-01T01:00:00.000Z');
  await store.logPredictions([
    valuePrediction('c1', 10),
    valuePrediction('c2', 20),
    valuePrediction('c3', 30),
    valuePrediction('k1', 5, { version: '2', role: 'canary' }),
    valuePrediction('k2', 5, { version: '2', role: 'canary' }),
    valuePrediction('unlabelled', 5, { version: '2', role: 'canary' }),
  ]);
  await store.addFeedbackMany([
    { predictionId: 'old', label: 1000 },
    { predictionId: 'c1', label: 13 }, // error 3
    { predictionId: 'c2', label: '16' }, // error 4
    { predictionId: 'c3', kind: 'accepted' }, // error 0
    { predictionId: 'k1', kind: 'overridden' }, // wrong, by an unknown amount: left out
    { predictionId: 'k2', kind: 'overridden', label: 7.5 }, // error 2.5
  ]);
  // Version 1: MAE (3 + 4 + 0) / 3 = 7/3; RMSE sqrt((9 + 16 + 0) / 3) = sqrt(25/3).
  const live = await store.liveErrors('house', '2030-01-01T00:30:00Z');
  assert.deepEqual(Object.keys(live).sort(), ['1', '2']);
  assert.equal(live['1'].n, 3);
  assert.ok(Math.abs(live['1'].mae - 7 / 3) < 1e-12 && Math.abs(live['1'].rmse - Math.sqrt(25 / 3)) < 1e-12, JSON.stringify(live['1']));
  // Squared errors 9, 16, 0: mean 25/3, Σ(se - mean)² = 81 + 256 + 0 - 3·(25/3)² = 386/3.
  assert.ok(
    Math.abs(live['1'].squaredErrors.mean - 25 / 3) < 1e-12 && Math.abs(live['1'].squaredErrors.m2 - 386 / 3) < 1e-9,
    JSON.stringify(live['1']),
  );
  assert.deepEqual(live['2'], { n: 1, mae: 2.5, rmse: 2.5, squaredErrors: { n: 1, mean: 6.25, m2: 0 } });
  assert.equal((await store.liveErrors('house', '2029-12-31T00:00:00Z'))['1'].n, 4, 'the old prediction counts from earlier on');
  assert.deepEqual(await store.liveErrors('house', '2030-01-02T00:00:00Z'), {});
  await assert.rejects(store.liveErrors('house', 'yesterday'), RangeError);
  await store.close();
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

test('API keys: only hashes stored, names unique per model, a revoked key stops working but keys stay required', async () => {
  const { path, store } = await openTemp();
  assert.equal(await store.requiresApiKey('weather'), false);
  assert.equal(await store.addApiKey('weather', 'crm', 'hash-1'), true);
  assert.equal(await store.addApiKey('weather', 'crm', 'hash-2'), false, 'a name is taken');
  assert.equal(await store.addApiKey('house', 'crm', 'hash-3'), true, 'names are per model');
  assert.equal(await store.apiKeyName('weather', 'hash-1'), 'crm');
  assert.equal(await store.apiKeyName('house', 'hash-1'), undefined, "another model's key");
  assert.equal(await store.requiresApiKey('weather'), true);

  const revoked = await store.revokeApiKey('weather', 'crm');
  assert.ok(revoked?.revokedAt);
  assert.equal((await store.revokeApiKey('weather', 'crm'))?.revokedAt, revoked.revokedAt, 'revoking twice keeps the first time');
  assert.equal(await store.revokeApiKey('weather', 'nobody'), undefined);
  assert.equal(await store.apiKeyName('weather', 'hash-1'), undefined);
  assert.equal(await store.requiresApiKey('weather'), true, 'revoking the last key locks the model, it does not open it');
  assert.deepEqual(
    (await store.listApiKeys('weather')).map((k) => k.name),
    ['crm'],
  );
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
