/**
 * Serving a regression model end to end, next to a classifier on the same server: real tfjs
 * models trained here (a day's maximum temperature from its precipitation, minimum temperature
 * and wind; and the weather classifier), registered in a real MLflow server, loaded through
 * mlflowModelLoader, served over HTTP from a real SQLite file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MlflowClient } from '../../adapters/mlflow/client.ts';
import { uploadModelFiles } from '../../adapters/mlflow/model-files.ts';
import { loadPredictor, servingFiles } from '../../ml/bundle.ts';
import { trainTrial } from '../../ml/train.ts';
import { mlflowModelLoader } from '../../serving/loader.ts';
import { buildServer } from '../../serving/server.ts';
import { openStore, type Store } from '../../adapters/store/index.ts';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { mlflowUrl, tempDir } from '../helpers/services.ts';
import type { ModelFiles } from '../../core/contracts.ts';

const TOKEN = 'test-admin-token';
const COLUMNS = ['precipitation', 'temp_max', 'temp_min', 'wind'];
/** The regression model's inputs; its label is temp_max. */
const INPUTS = ['precipitation', 'temp_min', 'wind'];
const CLASSES = ['drizzle', 'fog', 'rain', 'snow', 'sun'];
// Unique per run: under `npm test` every test file shares one MLflow server.
const run = randomUUID().slice(0, 8);
const TEMP = `temp-max-${run}`;
const WEATHER = `weather-${run}`;

type Day = Record<string, number> & { weather: string };
const days = readWeather();
const dbPath = join(tempDir(), 'perennial.sqlite');
let mlflow: MlflowClient;
const versions = { v1: '', v2: '', classifier: '' };
let v1Files: ModelFiles;

function readWeather(): Day[] {
  // The package's exports map hides data/, so read it by path.
  const path = join(PROJECT_ROOT, 'node_modules', 'vega-datasets', 'data', 'weather.csv');
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const columns = header.split(',');
  return lines.map((line) => {
    const cells = line.split(',');
    return Object.fromEntries(columns.map((c, i) => [c, COLUMNS.includes(c) ? Number(cells[i]) : cells[i]])) as Day;
  });
}

const inputsOf = (day: Day) => Object.fromEntries(INPUTS.map((f) => [f, day[f]]));
const sampleRows = (n: number, from = 1000) => days.slice(from, from + n).map(inputsOf);

/** A linear regression of temp_max on the inputs, trained on 300 days. */
async function regressionFiles(offset: number, seed: number): Promise<ModelFiles> {
  const part = (rows: Day[]) => ({ rows: rows.map(inputsOf), labels: rows.map((d) => String(d.temp_max)) });
  const rows = days.slice(offset, offset + 300);
  const { checkpoint } = await trainTrial({
    config: { family: 'softmax', params: { learningRate: 0.05 } },
    features: INPUTS,
    classes: [],
    labelType: 'number',
    train: part(rows.slice(30)),
    validation: part(rows.slice(0, 30)),
    seed,
    fromEpoch: 0,
    toEpoch: 10,
  });
  return servingFiles(checkpoint);
}

async function classifierFiles(): Promise<ModelFiles> {
  const features = (d: Day) => Object.fromEntries(COLUMNS.map((f) => [f, d[f]]));
  const rows = days.slice(0, 200);
  const { checkpoint } = await trainTrial({
    config: { family: 'softmax', params: { learningRate: 0.05 } },
    features: COLUMNS,
    classes: CLASSES,
    train: { rows: rows.map(features), labels: rows.map((r) => r.weather) },
    validation: { rows: rows.slice(0, 20).map(features), labels: rows.slice(0, 20).map((r) => r.weather) },
    seed: 1,
    fromEpoch: 0,
    toEpoch: 5,
  });
  return servingFiles(checkpoint);
}

/** A registered version of `model` whose run holds `files` under model/. */
async function register(model: string, key: string, files: ModelFiles): Promise<string> {
  const experimentId = await mlflow.getOrCreateExperiment(`perennial-test/${model}`);
  const { run } = await mlflow.findOrCreateRun({ experimentId, key, runName: key });
  await uploadModelFiles(mlflow, run.artifactUri, files);
  await mlflow.ensureRegisteredModel(model);
  const { version } = await mlflow.findOrCreateModelVersion({ name: model, source: `${run.artifactUri}/model`, runId: run.runId });
  return version.version;
}

let server: { base: string; store: Store; stop: () => Promise<void> };

async function startServer() {
  const store = await openStore(dbPath);
  const app = await buildServer({ store, adminToken: TOKEN, loadModel: mlflowModelLoader(mlflow) });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return { base, store, stop: async () => (await app.close(), await store.close()) };
}

async function call(method: string, path: string, body?: unknown, token?: string) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(server.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as any };
}

const predict = (rows: unknown, model = TEMP) => call('POST', `/v1/models/${model}/predict`, { rows });
const feedback = (payload: unknown, model = TEMP) => call('POST', `/v1/models/${model}/feedback`, payload);
const deploy = (body: unknown, model = TEMP) => call('PUT', `/admin/models/${model}/deployment`, body, TOKEN);

type ValuePrediction = { id: string; value: number; version: string; role: string; warnings?: string[] };

before(async () => {
  mlflow = new MlflowClient(await mlflowUrl());
  const [first, second, classifier] = await Promise.all([regressionFiles(0, 1), regressionFiles(400, 2), classifierFiles()]);
  v1Files = first;
  versions.v1 = await register(TEMP, 'v1', first);
  versions.v2 = await register(TEMP, 'v2', second);
  versions.classifier = await register(WEATHER, 'v1', classifier);
  server = await startServer();
  for (const [model, version] of [
    [TEMP, versions.v1],
    [WEATHER, versions.classifier],
  ]) {
    const response = await deploy({ champion: { version }, reason: 'first model' }, model);
    assert.equal(response.status, 200, JSON.stringify(response.body));
  }
});

after(async () => {
  await server?.stop();
  await mlflow?.close();
});

test("a regression model answers { id, value, version, role } per row: the model's number", async () => {
  const rows = sampleRows(5);
  rows[2].wind = null as never; // unknown, imputed as for a classifier
  const { status, body } = await predict(rows);
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.predictions.length, 5);
  // The same files loaded here predict the same numbers (float32 survives JSON exactly).
  const local = await loadPredictor(v1Files);
  try {
    const expected = local.predict(rows).map((p) => p.value);
    for (const [i, p] of (body.predictions as ValuePrediction[]).entries()) {
      assert.deepEqual(Object.keys(p), ['id', 'value', 'version', 'role']);
      assert.match(p.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.ok(Number.isFinite(p.value));
      assert.equal(p.value, expected[i]);
      assert.deepEqual([p.version, p.role], [versions.v1, 'champion']);
    }
  } finally {
    local.dispose();
  }
  // A linear fit of these days' maximum temperature (about 19 °C) is off by a few degrees (3.3 here).
  const truth = days.slice(1000, 1005).map((d) => d.temp_max);
  const mae = (body.predictions as ValuePrediction[]).reduce((s, p, i) => s + Math.abs(p.value - truth[i]), 0) / 5;
  assert.ok(mae < 8, `mean absolute error ${mae} °C`);
});

test('a regression prediction is logged as its number in text, without probabilities or confidence', async () => {
  const since = await server.store.maxPredictionSeq(TEMP);
  const rows = sampleRows(3, 1100);
  const { body } = await predict(rows);
  const logged = (await server.store.predictionsSince(TEMP, since, 10)).rows;
  assert.deepEqual(
    logged.map(({ label, probabilities, features, version, role }) => ({ label, probabilities, features, version, role })),
    (body.predictions as ValuePrediction[]).map((p, i) => ({
      label: String(p.value),
      probabilities: {},
      features: rows[i],
      version: versions.v1,
      role: 'champion',
    })),
  );
  assert.deepEqual(
    (await server.store.recentPredictions(TEMP, 3)).map((r) => r.confidence),
    [null, null, null],
  );
  const db = new Database(dbPath, { readonly: true });
  try {
    const stored = db
      .prepare('SELECT id, task, label, confidence, probabilities FROM predictions WHERE model = ? AND seq > ? ORDER BY seq')
      .all(TEMP, since);
    assert.deepEqual(
      stored,
      (body.predictions as ValuePrediction[]).map((p) => ({
        id: p.id,
        task: 'regression',
        label: String(p.value),
        confidence: null,
        probabilities: '{}',
      })),
    );
  } finally {
    db.close();
  }
});

test('a wrong-typed input is served as missing with a warning, after the value', async () => {
  const { status, body } = await predict([{ ...sampleRows(1, 1300)[0], wind: 'strong' }]);
  assert.equal(status, 200, JSON.stringify(body));
  const [p] = body.predictions as ValuePrediction[];
  assert.deepEqual(Object.keys(p), ['id', 'value', 'version', 'role', 'warnings']);
  assert.deepEqual(p.warnings, ['wind: "strong" is not a number; treated as missing']);
});

test('a number too large for the model is served as missing with a warning: the value and the log stay finite', async () => {
  const row = sampleRows(1, 1310)[0];
  const { status, body } = await predict([
    { ...row, wind: 1e39 },
    { ...row, wind: null },
  ]);
  assert.equal(status, 200, JSON.stringify(body));
  const [huge, missing] = body.predictions as ValuePrediction[];
  assert.match(huge.warnings!.join(), /^wind: 1e\+39 is out of range .* treated as missing$/);
  assert.equal(huge.value, missing.value, 'answered as if the value were missing');
  assert.ok(Number.isFinite(huge.value));
  const db = new Database(dbPath, { readonly: true });
  try {
    assert.equal(db.prepare('SELECT label FROM predictions WHERE id = ?').pluck().get(huge.id), String(huge.value));
  } finally {
    db.close();
  }
});

test('feedback on a regression prediction: the true value as a number or numeric text', async () => {
  const { body } = await predict(sampleRows(6, 2000));
  const [a, b, c, d, e, f] = body.predictions as ValuePrediction[];
  const watermark = await server.store.maxFeedbackId(TEMP);
  const records = await server.store.maxRecordId(TEMP);

  assert.deepEqual((await feedback({ predictionId: a.id, label: 12.5 })).body, { accepted: 1 });
  assert.deepEqual((await feedback({ predictionId: a.id, label: '12.50' })).body, { accepted: 1 }, 'the same number is the same label');
  assert.deepEqual(
    (
      await feedback({
        feedback: [
          { predictionId: b.id, label: '-3.5' },
          { predictionId: c.id, label: 0 },
        ],
      })
    ).body,
    { accepted: 2 },
  );

  const conflict = await feedback({ predictionId: a.id, label: 13 });
  assert.equal(conflict.status, 409);
  assert.equal(conflict.body.message, `prediction ${a.id} is already labelled "12.5"; refusing to relabel it "13"`);

  for (const label of ['warm', '12,5', 'NaN', '1e999']) {
    const refused = await feedback({ predictionId: d.id, label });
    assert.equal(refused.status, 400, `${label}: ${JSON.stringify(refused.body)}`);
    assert.deepEqual(refused.body, {
      error: 'wrong_label_type',
      message: `label ${JSON.stringify(label)} for prediction ${d.id} is not a number; the prediction is a regression model's, whose labels are finite numbers (a JSON number or a numeric string)`,
    });
  }
  // Not a number or a string at all: refused before the store, as for a classifier.
  const boolean = await feedback({ predictionId: d.id, label: true });
  assert.equal(boolean.status, 400);
  assert.match(boolean.body.message, /label: Invalid input: expected string, received boolean/);
  // A batch with one bad value is refused whole.
  const batch = await feedback({
    feedback: [
      { predictionId: d.id, label: 20 },
      { predictionId: e.id, label: 'hot' },
    ],
  });
  assert.equal(batch.status, 400);
  assert.equal(batch.body.error, 'wrong_label_type');

  // Accepted: the predicted value was right. Overridden: with the corrected value, or without.
  assert.deepEqual(
    (
      await feedback({
        feedback: [
          { predictionId: d.id, kind: 'accepted' },
          { predictionId: e.id, kind: 'overridden', label: 21.25 },
          { predictionId: f.id, kind: 'overridden' },
        ],
      })
    ).body,
    { accepted: 3 },
  );
  const events = await server.store.feedbackSince(TEMP, watermark);
  assert.deepEqual(
    events.map((x) => x.feedback),
    [
      { kind: 'label', label: '12.5' },
      { kind: 'label', label: '-3.5' },
      { kind: 'label', label: '0' },
      { kind: 'accepted' },
      { kind: 'overridden', label: '21.25' },
      { kind: 'overridden' },
    ],
  );
  assert.deepEqual(
    events.map((x) => x.predicted),
    [a, b, c, d, e, f].map((p) => String(p.value)),
  );
  assert.deepEqual(
    (await server.store.labelledSince(TEMP, watermark)).map((l) => l.truth),
    ['12.5', '-3.5', '0', String(d.value), '21.25'],
  );
  const added = (await server.store.readRecords(TEMP, { kind: 'all' })).filter((r) => r.source === 'feedback:anonymous').slice(-5);
  assert.equal(await server.store.countRecordsSince(TEMP, records), 5, 'every feedback with a value becomes a training record');
  assert.deepEqual(
    added.map((r) => Number(r.label)),
    [12.5, -3.5, 0, d.value, 21.25],
  );
});

test('the classifier next to it answers and takes feedback as before; a number is not a class', async () => {
  const rows = days.slice(1000, 1002).map((d) => Object.fromEntries(COLUMNS.map((f) => [f, d[f]])));
  const { status, body } = await predict(rows, WEATHER);
  assert.equal(status, 200, JSON.stringify(body));
  for (const p of body.predictions) {
    assert.deepEqual(Object.keys(p), ['id', 'label', 'probabilities', 'version', 'role']);
    assert.deepEqual(Object.keys(p.probabilities).sort(), CLASSES);
  }
  const [a, b] = body.predictions as Array<{ id: string; label: string; probabilities: Record<string, number> }>;
  const [logged] = await server.store.recentPredictions(WEATHER, 2);
  assert.equal(logged.confidence, a.probabilities[a.label]);

  const number = await feedback({ predictionId: a.id, label: 3 }, WEATHER);
  assert.equal(number.status, 400);
  assert.deepEqual(number.body, {
    error: 'wrong_label_type',
    message: `label 3 for prediction ${a.id} is a number; the prediction is a classifier's, whose labels are class names as strings: ${CLASSES.join(', ')}`,
  });
  assert.equal((await feedback({ predictionId: a.id, label: 'hail' }, WEATHER)).body.error, 'unknown_label');
  assert.deepEqual((await feedback({ predictionId: a.id, label: 'rain' }, WEATHER)).body, { accepted: 1 });
  assert.deepEqual((await feedback({ predictionId: b.id, kind: 'accepted' }, WEATHER)).body, { accepted: 1 });
  assert.deepEqual(
    (await server.store.labelledSince(WEATHER, 0)).map((l) => l.truth),
    ['rain', b.label],
  );
  // Each model's predictions are its own: a regression prediction is unknown to the classifier.
  const [other] = (await predict(sampleRows(1))).body.predictions as ValuePrediction[];
  assert.equal((await feedback({ predictionId: other.id, label: 'rain' }, WEATHER)).status, 404);
});

test('a regression canary gets about its weight of requests, each answered with a value', async () => {
  const response = await deploy({ champion: { version: versions.v1 }, canary: { version: versions.v2, weight: 0.5 }, reason: 'try v2' });
  assert.equal(response.status, 200, JSON.stringify(response.body));
  const roles = { champion: 0, canary: 0 };
  const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => predict(sampleRows(2, i * 2))));
  for (const { status, body } of answers) {
    assert.equal(status, 200);
    const served = new Set((body.predictions as ValuePrediction[]).map((p) => `${p.version}/${p.role}`));
    assert.equal(served.size, 1, 'all rows of a request go to one version');
    const [version, role] = [...served][0].split('/') as [string, 'champion' | 'canary'];
    assert.equal(version, role === 'canary' ? versions.v2 : versions.v1);
    for (const p of body.predictions as ValuePrediction[]) assert.ok(Number.isFinite(p.value));
    roles[role]++;
  }
  // 60 draws at p = 0.5: mean 30, sd ~3.9; these bounds are over 4 sd away.
  assert.ok(roles.canary > 13 && roles.canary < 47, `canary served ${roles.canary} of 60`);
});

test('after a restart on the same file, the regression deployment serves and older predictions take feedback', async () => {
  const { body } = await predict(sampleRows(1, 1500));
  await server.stop();
  server = await startServer();
  const again = await predict(sampleRows(1, 1500));
  assert.equal(again.status, 200);
  assert.deepEqual(Object.keys(again.body.predictions[0]), ['id', 'value', 'version', 'role']);
  assert.deepEqual((await feedback({ predictionId: body.predictions[0].id, label: '17.2' })).body, { accepted: 1 });
});
