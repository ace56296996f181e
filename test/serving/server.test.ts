/**
 * The model server end to end: real tfjs models trained here, registered in a real MLflow
 * server, loaded through mlflowModelLoader, served over HTTP from a real SQLite file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MlflowClient } from '../../adapters/mlflow/client.ts';
import { uploadModelFiles } from '../../adapters/mlflow/model-files.ts';
import type { Predictor } from '../../ml/bundle.ts';
import { trainTrial } from '../../ml/train.ts';
import { servingFiles } from '../../ml/bundle.ts';
import { mlflowModelLoader } from '../../serving/loader.ts';
import { buildServer } from '../../serving/server.ts';
import { openStore } from '../../adapters/store/index.ts';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { mlflowUrl, tempDir } from '../helpers/services.ts';

const TOKEN = 'test-admin-token';
const FEATURES = ['precipitation', 'temp_max', 'temp_min', 'wind'];
const CLASSES = ['drizzle', 'fog', 'rain', 'snow', 'sun'];
// Unique per run: under `npm test` every test file shares one MLflow server.
const MODEL = `weather-${randomUUID().slice(0, 8)}`;

const weather = readWeather();
const dbPath = join(tempDir(), 'perennial.sqlite');
let mlflow: MlflowClient;
const versions: Record<'v1' | 'v2' | 'noFiles', string> = { v1: '', v2: '', noFiles: '' };

/** Predictors the server was handed and whether it disposed them; wraps the real loader. */
const handedOut: Array<{ version: string; disposed: boolean }> = [];

function readWeather(): Array<Record<string, number> & { weather: string }> {
  // The package's exports map hides data/, so read it by path.
  const path = join(PROJECT_ROOT, 'node_modules', 'vega-datasets', 'data', 'weather.csv');
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const columns = header.split(',');
  return lines.map((line) => {
    const cells = line.split(',');
    const row: Record<string, unknown> = {};
    columns.forEach((c, i) => (row[c] = FEATURES.includes(c) ? Number(cells[i]) : cells[i]));
    return row as Record<string, number> & { weather: string };
  });
}

const featuresOf = (row: Record<string, unknown>) => Object.fromEntries(FEATURES.map((f) => [f, row[f]]));

async function trainedFiles(offset: number, seed: number) {
  const rows = weather.slice(offset, offset + 200);
  const { checkpoint } = await trainTrial({
    config: { family: 'softmax', params: { learningRate: 0.05 } },
    features: FEATURES,
    classes: CLASSES,
    train: { rows: rows.map(featuresOf), labels: rows.map((r) => r.weather) },
    validation: { rows: rows.slice(0, 20).map(featuresOf), labels: rows.slice(0, 20).map((r) => r.weather) },
    seed,
    fromEpoch: 0,
    toEpoch: 5,
  });
  return servingFiles(checkpoint);
}

/** A registered version whose run holds `files` under model/ (none: a broken registration). */
async function register(key: string, files?: Awaited<ReturnType<typeof trainedFiles>>): Promise<string> {
  const experimentId = await mlflow.getOrCreateExperiment(`perennial-test/${MODEL}`);
  const { run } = await mlflow.findOrCreateRun({ experimentId, key, runName: key });
  if (files) await uploadModelFiles(mlflow, run.artifactUri, files);
  await mlflow.ensureRegisteredModel(MODEL);
  const { version } = await mlflow.findOrCreateModelVersion({ name: MODEL, source: `${run.artifactUri}/model`, runId: run.runId });
  return version.version;
}

async function startServer() {
  const store = await openStore(dbPath);
  const load = mlflowModelLoader(mlflow);
  const app = await buildServer({
    store,
    adminToken: TOKEN,
    loadModel: async (model, version) => {
      const predictor = await load(model, version);
      const entry = { version, disposed: false };
      handedOut.push(entry);
      return { ...predictor, dispose: () => ((entry.disposed = true), predictor.dispose()) } satisfies Predictor;
    },
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return { base, store, stop: async () => (await app.close(), await store.close()) };
}

let server: Awaited<ReturnType<typeof startServer>>;

async function call(method: string, path: string, body?: unknown, token?: string) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(server.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as any };
}

const predict = (rows: unknown) => call('POST', `/v1/models/${MODEL}/predict`, { rows });
const deploy = (body: unknown, token = TOKEN) => call('PUT', `/admin/models/${MODEL}/deployment`, body, token);
const deployment = () => call('GET', `/v1/models/${MODEL}/deployment`);
const sampleRows = (n: number, from = 1000) => weather.slice(from, from + n).map(featuresOf);

before(async () => {
  mlflow = new MlflowClient(await mlflowUrl());
  const [first, second] = await Promise.all([trainedFiles(0, 1), trainedFiles(300, 2)]);
  versions.v1 = await register('v1', first);
  versions.v2 = await register('v2', second);
  versions.noFiles = await register('no-files');
  server = await startServer();
});

after(async () => {
  await server?.stop();
  await mlflow?.close();
});

test('an undeployed model answers 404, health is ok', async () => {
  assert.deepEqual((await call('GET', '/healthz')).body, { status: 'ok' });
  const response = await predict(sampleRows(1));
  assert.equal(response.status, 404);
  assert.match(response.body.message, /is not deployed/);
  assert.equal((await deployment()).status, 404);
});

test('admin endpoints need the bearer token', async () => {
  const body = { champion: { version: versions.v1 }, reason: 'first' };
  for (const response of [await call('PUT', `/admin/models/${MODEL}/deployment`, body), await deploy(body, 'wrong-token')]) {
    assert.equal(response.status, 401);
    assert.match(response.body.message, /Authorization: Bearer/);
  }
  assert.equal((await deployment()).status, 404, 'nothing was deployed');
});

test('deploying a champion serves predictions of the shape promised', async () => {
  const response = await deploy({ champion: { version: versions.v1 }, reason: 'first model' });
  assert.equal(response.status, 200, JSON.stringify(response.body));
  assert.equal(response.body.champion.version, versions.v1);
  assert.equal(response.body.reason, 'first model');

  const rows = sampleRows(5);
  rows[1].wind = null as never; // null means "unknown", which the model imputes
  const { status, body } = await predict(rows);
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.predictions.length, 5);
  for (const p of body.predictions) {
    assert.match(p.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(CLASSES.includes(p.label));
    assert.deepEqual(Object.keys(p.probabilities).sort(), CLASSES);
    const total = Object.values<number>(p.probabilities).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(total - 1) < 1e-4, `probabilities sum to ${total}`);
    assert.equal(p.label, Object.entries<number>(p.probabilities).sort((a, b) => b[1] - a[1])[0][0]);
    assert.deepEqual([p.version, p.role], [versions.v1, 'champion']);
  }
  // Every prediction is logged with the features it was made from.
  const logged = await server.store.recentPredictions(MODEL, 5);
  assert.deepEqual(
    logged.map((l) => l.label),
    body.predictions.map((p: { label: string }) => p.label),
  );
  assert.deepEqual(logged[1].features, { ...rows[1], wind: null });
  assert.deepEqual(
    (await call('GET', '/v1/models')).body.models.map((m: { model: string }) => m.model),
    [MODEL],
  );
});

test('bad bodies get a 400 that names each problem', async () => {
  const cases: Array<[string, Promise<{ status: number; body: any }>, RegExp]> = [
    ['no rows key', call('POST', `/v1/models/${MODEL}/predict`, { row: [] }), /rows: Invalid input: expected array/],
    ['empty rows', predict([]), /rows: send at least one row/],
    ['too many rows', predict(sampleRows(1001, 0)), /rows: send at most 1000 rows/],
    ['object feature', predict([{ ...sampleRows(1)[0], wind: { speed: 3 } }]), /rows\.0\.wind: Invalid input/],
    ['missing features', predict([sampleRows(1)[0], { precipitation: 1, wind: 2 }]), /rows\.1: missing temp_max, temp_min/],
    [
      'broken JSON',
      fetch(`${server.base}/v1/models/${MODEL}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"rows": [',
      }).then(async (r) => ({ status: r.status, body: await r.json() })),
      /JSON/,
    ],
    [
      'feedback without label',
      call('POST', `/v1/models/${MODEL}/feedback`, { predictionId: 'x' }),
      /label: label is required \(or send kind "accepted" or "overridden"\)/,
    ],
    [
      'accepted with a label',
      call('POST', `/v1/models/${MODEL}/feedback`, { predictionId: 'x', kind: 'accepted', label: 'sun' }),
      /an accepted prediction takes no label/,
    ],
    ['unknown kind', call('POST', `/v1/models/${MODEL}/feedback`, { predictionId: 'x', kind: 'maybe' }), /kind: Invalid option/],
    [
      'canary weight 1.5',
      deploy({ champion: { version: versions.v1 }, canary: { version: versions.v2, weight: 1.5 }, reason: 'r' }),
      /canary\.weight: Too big/,
    ],
    ['no reason', deploy({ champion: { version: versions.v2 } }), /reason: /],
    [
      'canary = champion',
      deploy({ champion: { version: versions.v1 }, canary: { version: versions.v1, weight: 0.5 }, reason: 'r' }),
      /canary\.version: the canary must be another version/,
    ],
    ['version not a number', deploy({ champion: { version: 'latest' }, reason: 'r' }), /champion\.version: a registered version number/],
  ];
  for (const [name, pending, message] of cases) {
    const { status, body } = await pending;
    assert.equal(status, 400, `${name}: ${JSON.stringify(body)}`);
    assert.match(body.message, message, name);
  }
  assert.equal((await deployment()).body.champion.version, versions.v1, 'nothing changed');
});

test('a canary gets about its weight of requests, each request whole to one version', async () => {
  const response = await deploy({ champion: { version: versions.v1 }, canary: { version: versions.v2, weight: 0.3 }, reason: 'try v2' });
  assert.equal(response.status, 200, JSON.stringify(response.body));
  assert.deepEqual(response.body.canary, { version: versions.v2, weight: 0.3 });

  const roles = { champion: 0, canary: 0 };
  for (let batch = 0; batch < 20; batch++) {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => predict(sampleRows(3, batch * 20 + i))));
    for (const { status, body } of answers) {
      assert.equal(status, 200);
      const served = new Set<string>(body.predictions.map((p: { version: string; role: string }) => `${p.version}/${p.role}`));
      assert.equal(served.size, 1, 'all rows of a request go to one version');
      const [version, role] = [...served][0].split('/') as [string, 'champion' | 'canary'];
      assert.equal(version, role === 'canary' ? versions.v2 : versions.v1);
      roles[role]++;
    }
  }
  // 400 draws at p = 0.3: mean 120, sd ~9.2; these bounds are over 4 sd away.
  assert.ok(roles.canary > 82 && roles.canary < 158, `canary served ${roles.canary} of 400`);
});

test('repeating a set-state changes nothing', async () => {
  const before = (await deployment()).body;
  const again = await deploy({ champion: { version: versions.v1 }, canary: { version: versions.v2, weight: 0.3 }, reason: 'retried' });
  assert.equal(again.status, 200);
  assert.deepEqual(again.body, before);
});

test('a deploy that cannot load leaves the previous deployment serving', async () => {
  const previous = (await deployment()).body;
  const missing = await deploy({ champion: { version: versions.v2 }, canary: { version: '999', weight: 0.5 }, reason: 'bad' });
  assert.equal(missing.status, 422, JSON.stringify(missing.body));
  assert.match(missing.body.message, new RegExp(`${MODEL} has no registered version 999.*`));
  assert.match(missing.body.message, /deployment unchanged/);

  const broken = await deploy({ champion: { version: versions.noFiles }, reason: 'bad' });
  assert.equal(broken.status, 502, JSON.stringify(broken.body));
  assert.match(broken.body.message, new RegExp(`could not load ${MODEL} version ${versions.noFiles}`));

  assert.deepEqual((await deployment()).body, previous);
  assert.deepEqual(await server.store.getDeployment(MODEL), previous);
  assert.equal((await predict(sampleRows(1))).status, 200);
});

test('feedback: single, batch, repeated, conflicting, unknown', async () => {
  const { body } = await predict(sampleRows(4, 2000));
  const [a, b, c, d] = body.predictions.map((p: { id: string }) => p.id);
  const feedback = (payload: unknown) => call('POST', `/v1/models/${MODEL}/feedback`, payload);
  const watermark = await server.store.maxFeedbackId(MODEL);

  assert.deepEqual((await feedback({ predictionId: a, label: 'rain' })).body, { accepted: 1 });
  assert.deepEqual(
    (
      await feedback({
        feedback: [
          { predictionId: b, label: 'sun' },
          { predictionId: c, label: 'fog' },
        ],
      })
    ).body,
    { accepted: 2 },
  );
  assert.deepEqual((await feedback({ predictionId: a, label: 'rain' })).body, { accepted: 1 }, 'idempotent');

  const conflict = await feedback({ predictionId: a, label: 'sun' });
  assert.equal(conflict.status, 409);
  assert.match(conflict.body.message, /already labelled "rain"/);
  const unknown = await feedback({ predictionId: randomUUID(), label: 'rain' });
  assert.equal(unknown.status, 404);
  const otherModel = await call('POST', '/v1/models/another-model/feedback', { predictionId: d, label: 'rain' });
  assert.equal(otherModel.status, 404);
  const badLabel = await feedback({ predictionId: d, label: 'hail' });
  assert.equal(badLabel.status, 400);
  assert.match(badLabel.body.message, /not one of the model's classes/);
  // A batch with one bad item is refused whole.
  assert.equal(
    (
      await feedback({
        feedback: [
          { predictionId: d, label: 'rain' },
          { predictionId: 'nope', label: 'rain' },
        ],
      })
    ).status,
    404,
  );

  const labelled = await server.store.labelledSince(MODEL, watermark);
  assert.deepEqual(
    labelled.map((l) => l.truth),
    ['rain', 'sun', 'fog'],
  );
  const predicted = Object.fromEntries(body.predictions.map((p: { id: string; label: string }) => [p.id, p.label]));
  assert.deepEqual(
    labelled.map((l) => l.predicted),
    [predicted[a], predicted[b], predicted[c]],
  );
  const feedbackRecords = (await server.store.readRecords(MODEL, { kind: 'all' })).filter((r) => r.source === 'feedback:anonymous');
  assert.equal(feedbackRecords.length, 3);
});

test('implicit feedback: accepted and overridden predictions, with and without the right label', async () => {
  const { body } = await predict(sampleRows(3, 1200));
  const [a, b, c] = body.predictions as Array<{ id: string; label: string }>;
  const feedback = (payload: unknown) => call('POST', `/v1/models/${MODEL}/feedback`, payload);
  const watermark = await server.store.maxFeedbackId(MODEL);
  const records = await server.store.maxRecordId(MODEL);
  const other = a.label === 'sun' ? 'rain' : 'sun';
  assert.deepEqual(
    (
      await feedback({
        feedback: [
          { predictionId: a.id, kind: 'accepted' },
          { predictionId: b.id, kind: 'overridden', label: other },
          { predictionId: c.id, kind: 'overridden' },
        ],
      })
    ).body,
    { accepted: 3 },
  );
  assert.deepEqual((await feedback({ predictionId: a.id, kind: 'accepted' })).body, { accepted: 1 }, 'idempotent');
  const conflict = await feedback({ predictionId: c.id, label: 'rain' });
  assert.equal(conflict.status, 409);
  assert.match(conflict.body.message, /already labelled "overridden"; refusing to relabel it "rain"/);

  const events = await server.store.feedbackSince(MODEL, watermark);
  assert.deepEqual(
    events.map((e) => e.feedback),
    [{ kind: 'accepted' }, { kind: 'overridden', label: other }, { kind: 'overridden' }],
  );
  // Accepted means the prediction was the truth; an override without a label teaches nothing.
  assert.deepEqual(
    (await server.store.labelledSince(MODEL, watermark)).map((l) => l.truth),
    [a.label, other],
  );
  assert.equal(await server.store.countRecordsSince(MODEL, records), 2, 'two new labelled records for training');
});

test('a value of the wrong type is served as missing, with a warning, and logged as sent', async () => {
  const row = { ...sampleRows(1, 1300)[0], wind: 'strong' };
  const { status, body } = await predict([row]);
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual(body.predictions[0].warnings, ['wind: "strong" is not a number; treated as missing']);
  const [logged] = (await server.store.predictionsSince(MODEL, (await server.store.maxPredictionSeq(MODEL)) - 1, 1)).rows;
  assert.equal(logged.features.wind, 'strong');
});

test('a restarted server on the same file serves the same deployment', async () => {
  const previous = (await deployment()).body;
  const { body } = await predict(sampleRows(1));
  await server.stop();
  assert.ok(
    handedOut.every((p) => p.disposed),
    'closing disposes every predictor',
  );
  // Meanwhile another process persists a deployment whose version cannot be loaded.
  const ghost = `${MODEL}-ghost`;
  const other = await openStore(dbPath);
  await other.setDeployment(ghost, { champion: { version: '7' }, updatedAt: new Date().toISOString(), reason: 'typo' });
  await other.close();

  server = await startServer();
  assert.deepEqual((await deployment()).body, previous);
  // The broken one does not keep the others from serving; it is reported instead.
  const health = (await call('GET', '/healthz')).body;
  assert.equal(health.status, 'degraded');
  assert.match(health.unavailable[ghost], /has no registered version 7/);
  const ghostPredict = await call('POST', `/v1/models/${ghost}/predict`, { rows: sampleRows(1) });
  assert.equal(ghostPredict.status, 503);
  assert.match(ghostPredict.body.message, /could not be restored/);
  const served = new Set<string>();
  for (let i = 0; i < 40; i++) {
    for (const p of (await predict(sampleRows(1, i))).body.predictions) served.add(`${p.version}/${p.role}`);
  }
  assert.deepEqual([...served].sort(), [`${versions.v1}/champion`, `${versions.v2}/canary`].sort());
  // Predictions made before the restart still take feedback.
  assert.deepEqual((await call('POST', `/v1/models/${MODEL}/feedback`, { predictionId: body.predictions[0].id, label: 'sun' })).body, {
    accepted: 1,
  });
});

test('promoting the canary disposes the predictor that left service', async () => {
  const response = await deploy({ champion: { version: versions.v2 }, reason: 'promote v2' });
  assert.equal(response.status, 200);
  assert.equal(response.body.canary, undefined);
  const live = handedOut.filter((p) => !p.disposed);
  assert.deepEqual(
    live.map((p) => p.version),
    [versions.v2],
    'only the new champion stays loaded',
  );
  const { body } = await predict(sampleRows(2));
  assert.deepEqual(
    body.predictions.map((p: { role: string }) => p.role),
    ['champion', 'champion'],
  );
});
