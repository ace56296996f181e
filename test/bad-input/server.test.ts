/**
 * Bad requests to the real model server (a tfjs model registered in a real MLflow server, served
 * over HTTP from a real SQLite file): each gets its status and a message naming the field, and
 * nothing is logged, stored, deployed or keyed because of it. Then the inputs that are anomalies
 * rather than errors (numbers too large for the model) and the API-key flow end to end.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { MlflowClient } from '../../adapters/mlflow/client.ts';
import { detectAnomalies } from '../../core/drift/anomalies.ts';
import { uploadModelFiles } from '../../adapters/mlflow/model-files.ts';
import { servingFiles } from '../../ml/bundle.ts';
import { trainTrial } from '../../ml/train.ts';
import { mlflowModelLoader } from '../../serving/loader.ts';
import { buildServer } from '../../serving/server.ts';
import { openStore } from '../../adapters/store/index.ts';
import { weatherData } from '../../stack/demo.ts';
import { mlflowUrl, tempDir } from '../helpers/services.ts';

const TOKEN = 'bad-input-admin-token';
const FEATURES = ['precipitation', 'temp_max', 'temp_min', 'wind'];
const CLASSES = ['drizzle', 'fog', 'rain', 'snow', 'sun'];
const run = randomUUID().slice(0, 8);
/** Open to anyone: no API keys. */
const OPEN = `bad-open-${run}`;
/** Has the API key "crm" (and, later, more). */
const KEYED = `bad-keyed-${run}`;

const dbPath = join(tempDir(), 'perennial.sqlite');
let base = '';
let stop: () => Promise<void>;
let mlflow: MlflowClient;
let version = '';
let crmKey = '';
/** A prediction of OPEN, made before the table runs, for feedback rows to refer to. */
let predictionId = '';

const seed = weatherData().seed;
const row = (i = 0) => Object.fromEntries(FEATURES.map((f) => [f, Number(seed[i][f])]));

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const response = await fetch(base + path, init);
  return { status: response.status, body: (await response.json()) as any };
}
const admin = { authorization: `Bearer ${TOKEN}` };

/** Everything a request could change: the log, ground truth, training records, deployments, API keys. */
function stateOfTheStore() {
  const db = new Database(dbPath, { readonly: true });
  try {
    const count = (table: string) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get();
    return {
      predictions: count('predictions'),
      feedback: count('feedback'),
      records: count('records'),
      deployments: db.prepare('SELECT model, state FROM deployments ORDER BY model').all(),
      apiKeys: db.prepare('SELECT model, name, hash, revoked_at FROM api_keys ORDER BY model, name').all(),
    };
  } finally {
    db.close();
  }
}

async function register(model: string, files: ReturnType<typeof servingFiles>): Promise<string> {
  const experimentId = await mlflow.getOrCreateExperiment(`perennial-test/${model}`);
  const { run: registered } = await mlflow.findOrCreateRun({ experimentId, key: 'v1', runName: 'v1' });
  await uploadModelFiles(mlflow, registered.artifactUri, files);
  await mlflow.ensureRegisteredModel(model);
  const { version: v } = await mlflow.findOrCreateModelVersion({
    name: model,
    source: `${registered.artifactUri}/model`,
    runId: registered.runId,
  });
  return v.version;
}

before(async () => {
  // Patient: the machine running the tests may be busy, and MLflow with it.
  mlflow = new MlflowClient(await mlflowUrl(), { timeoutMs: 120_000, retries: 4 });
  const rows = seed.slice(0, 300);
  const { checkpoint } = await trainTrial({
    config: { family: 'softmax', params: { learningRate: 0.05 } },
    features: FEATURES,
    classes: CLASSES,
    train: { rows: rows.map((_, i) => row(i)), labels: rows.map((r) => String(r.weather)) },
    validation: { rows: rows.slice(0, 30).map((_, i) => row(i)), labels: rows.slice(0, 30).map((r) => String(r.weather)) },
    seed: 1,
    fromEpoch: 0,
    toEpoch: 3,
  });
  const files = servingFiles(checkpoint);
  version = await register(OPEN, files);
  assert.equal(await register(KEYED, files), version);

  const store = await openStore(dbPath);
  const app = await buildServer({ store, loadModel: mlflowModelLoader(mlflow), adminToken: TOKEN });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  stop = async () => (await app.close(), await store.close());

  for (const model of [OPEN, KEYED]) {
    const deployed = await call('PUT', `/admin/models/${model}/deployment`, { champion: { version }, reason: 'bad-input test' }, admin);
    assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
  }
  const created = await call('POST', `/admin/models/${KEYED}/api-keys`, { name: 'crm' }, admin);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  crmKey = created.body.key;
  const predicted = await call('POST', `/v1/models/${OPEN}/predict`, { rows: [row()] });
  assert.equal(predicted.status, 200);
  predictionId = predicted.body.predictions[0].id;
});

after(async () => {
  await stop?.();
  await mlflow?.close();
});

interface BadRequest {
  what: string;
  method: string;
  /** Paths may use {open}, {keyed} and {version}. */
  path: string;
  body?: unknown | (() => unknown);
  headers?: Record<string, string> | (() => Record<string, string>);
  status: number;
  /** The message must name the field (or header) at fault. */
  message: RegExp;
}

const predictOpen = `/v1/models/{open}/predict`;
const feedbackOpen = `/v1/models/{open}/feedback`;
const deployOpen = `/admin/models/{open}/deployment`;
const keysOf = (model: string) => `/admin/models/${model}/api-keys`;
const deploy = (extra: Record<string, unknown>) => ({ champion: { version: '1' }, reason: 'test', ...extra });

const corpus: BadRequest[] = [
  // predict
  { what: 'predict: body is not JSON', method: 'POST', path: predictOpen, body: '{"rows": [', status: 400, message: /JSON/ },
  {
    what: 'predict: body is text, not JSON',
    method: 'POST',
    path: predictOpen,
    body: 'rows=1',
    headers: { 'content-type': 'text/plain' },
    status: 400,
    message: /invalid request body:\n {2}- \(root\): .*expected object, received string/,
  },
  {
    what: 'predict: body in a format the server does not read',
    method: 'POST',
    path: predictOpen,
    body: 'rows=1',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
    message: /Media Type/,
  },
  { what: 'predict: no rows', method: 'POST', path: predictOpen, body: {}, status: 400, message: /rows:/ },
  {
    what: 'predict: empty rows',
    method: 'POST',
    path: predictOpen,
    body: { rows: [] },
    status: 400,
    message: /rows: send at least one row/,
  },
  { what: 'predict: rows not a list', method: 'POST', path: predictOpen, body: { rows: 'all of them' }, status: 400, message: /rows:/ },
  {
    what: 'predict: too many rows',
    method: 'POST',
    path: predictOpen,
    body: () => ({ rows: Array.from({ length: 1001 }, () => row()) }),
    status: 400,
    message: /rows: send at most 1000 rows/,
  },
  {
    what: 'predict: a feature missing',
    method: 'POST',
    path: predictOpen,
    body: { rows: [{ precipitation: 0, temp_max: 10, temp_min: 5 }] },
    status: 400,
    message: /rows\.0: missing wind/,
  },
  {
    what: 'predict: a feature is an object',
    method: 'POST',
    path: predictOpen,
    body: () => ({ rows: [{ ...row(), wind: { speed: 3 } }] }),
    status: 400,
    message: /rows\.0\.wind/,
  },
  {
    what: 'predict: a row is not an object',
    method: 'POST',
    path: predictOpen,
    body: { rows: [[1, 2, 3, 4]] },
    status: 400,
    message: /rows\.0/,
  },
  {
    what: 'predict: model not deployed',
    method: 'POST',
    path: '/v1/models/nobody-here/predict',
    body: () => ({ rows: [row()] }),
    status: 404,
    message: /model nobody-here is not deployed/,
  },
  // feedback
  { what: 'feedback: no predictionId', method: 'POST', path: feedbackOpen, body: { label: 'rain' }, status: 400, message: /predictionId/ },
  {
    what: 'feedback: unknown predictionId',
    method: 'POST',
    path: feedbackOpen,
    body: { predictionId: 'no-such-id', label: 'rain' },
    status: 404,
    message: /no prediction with id no-such-id/,
  },
  {
    what: 'feedback: label missing',
    method: 'POST',
    path: feedbackOpen,
    body: () => ({ predictionId }),
    status: 400,
    message: /label: label is required/,
  },
  {
    what: 'feedback: empty label',
    method: 'POST',
    path: feedbackOpen,
    body: () => ({ predictionId, label: '' }),
    status: 400,
    message: /label must not be empty/,
  },
  {
    what: 'feedback: unknown kind',
    method: 'POST',
    path: feedbackOpen,
    body: () => ({ predictionId, kind: 'liked' }),
    status: 400,
    message: /kind:/,
  },
  {
    what: 'feedback: accepted with a label',
    method: 'POST',
    path: feedbackOpen,
    body: () => ({ predictionId, kind: 'accepted', label: 'rain' }),
    status: 400,
    message: /label: an accepted prediction takes no label/,
  },
  {
    what: 'feedback: a number for a class',
    method: 'POST',
    path: feedbackOpen,
    body: () => ({ predictionId, label: 3 }),
    status: 400,
    message: /label 3 .* is a number/,
  },
  {
    what: 'feedback: a class the model does not know',
    method: 'POST',
    path: feedbackOpen,
    body: () => ({ predictionId, label: 'hail' }),
    status: 400,
    message: /label "hail" .* not one of the model's classes/,
  },
  {
    what: 'feedback: a batch with one bad item stores none',
    method: 'POST',
    path: feedbackOpen,
    body: () => ({
      feedback: [
        { predictionId, label: 'rain' },
        { predictionId: 'nope', label: 'rain' },
      ],
    }),
    status: 404,
    message: /no prediction with id nope/,
  },
  {
    what: 'feedback: empty batch',
    method: 'POST',
    path: feedbackOpen,
    body: { feedback: [] },
    status: 400,
    message: /feedback: send at least one item/,
  },
  {
    what: 'feedback: prediction of another model',
    method: 'POST',
    path: `/v1/models/{keyed}/feedback`,
    body: () => ({ predictionId, label: 'rain' }),
    headers: () => ({ authorization: `Bearer ${crmKey}` }),
    status: 404,
    message: new RegExp(`model bad-keyed-\\w+ has no prediction with id`),
  },
  // admin: deployments
  {
    what: 'deploy: no admin token',
    method: 'PUT',
    path: deployOpen,
    body: deploy({}),
    status: 401,
    message: /Authorization: Bearer <admin token>/,
  },
  {
    what: 'deploy: wrong admin token',
    method: 'PUT',
    path: deployOpen,
    body: deploy({}),
    headers: { authorization: 'Bearer guess' },
    status: 401,
    message: /Authorization/,
  },
  {
    what: 'deploy: version not a number',
    method: 'PUT',
    path: deployOpen,
    body: { champion: { version: 'abc' }, reason: 'x' },
    headers: admin,
    status: 400,
    message: /champion\.version: a registered version number/,
  },
  {
    what: 'deploy: canary weight above 1',
    method: 'PUT',
    path: deployOpen,
    body: deploy({ canary: { version: '2', weight: 1.5 } }),
    headers: admin,
    status: 400,
    message: /canary\.weight/,
  },
  {
    what: 'deploy: canary is the champion',
    method: 'PUT',
    path: deployOpen,
    body: deploy({ canary: { version: '1', weight: 0.1 } }),
    headers: admin,
    status: 400,
    message: /canary\.version: the canary must be another version/,
  },
  {
    what: 'deploy: no reason',
    method: 'PUT',
    path: deployOpen,
    body: { champion: { version: '1' } },
    headers: admin,
    status: 400,
    message: /reason:/,
  },
  {
    what: 'deploy: version not registered',
    method: 'PUT',
    path: deployOpen,
    body: deploy({ champion: { version: '999' } }),
    headers: admin,
    status: 422,
    message: /no registered version 999.*deployment unchanged|deployment unchanged.*version 999/s,
  },
  {
    what: 'deploy: model name not allowed',
    method: 'PUT',
    path: '/admin/models/Bad_Name/deployment',
    body: deploy({}),
    headers: admin,
    status: 400,
    message: /model name/,
  },
  {
    what: 'deploy: shadow is the champion',
    method: 'PUT',
    path: deployOpen,
    body: deploy({ shadow: { version: '1' } }),
    headers: admin,
    status: 400,
    message: /shadow\.version: the shadow must be another version/,
  },
  {
    what: 'deploy: shadow version not registered',
    method: 'PUT',
    path: deployOpen,
    body: deploy({ shadow: { version: '999' } }),
    headers: admin,
    status: 422,
    message: /could not load .* version 999, deployment unchanged/,
  },
  // admin: the log export
  { what: 'export: no admin token', method: 'GET', path: '/v1/models/{open}/log', status: 401, message: /Authorization/ },
  {
    what: 'export: since is neither a seq nor a time',
    method: 'GET',
    path: '/v1/models/{open}/log?since=last%20week',
    headers: admin,
    status: 400,
    message: /since: a prediction seq/,
  },
  {
    what: 'export: unknown format',
    method: 'GET',
    path: '/v1/models/{open}/log?format=xlsx',
    headers: admin,
    status: 400,
    message: /format:/,
  },
  {
    what: 'export: model name not allowed',
    method: 'GET',
    path: '/v1/models/Bad_Name/log',
    headers: admin,
    status: 400,
    message: /model name/,
  },
  // admin: API keys
  { what: 'api key: no admin token', method: 'POST', path: keysOf('{open}'), body: { name: 'crm' }, status: 401, message: /Authorization/ },
  { what: 'api key: no name', method: 'POST', path: keysOf('{open}'), body: {}, headers: admin, status: 400, message: /name:/ },
  {
    what: 'api key: name with spaces',
    method: 'POST',
    path: keysOf('{open}'),
    body: { name: 'Web App' },
    headers: admin,
    status: 400,
    message: /name: API key names are lower-case/,
  },
  {
    what: 'api key: named "anonymous"',
    method: 'POST',
    path: keysOf('{open}'),
    body: { name: 'anonymous' },
    headers: admin,
    status: 400,
    message: /name: "anonymous" is the source of feedback sent without a key/,
  },
  {
    what: 'api key: name taken',
    method: 'POST',
    path: keysOf('{keyed}'),
    body: { name: 'crm' },
    headers: admin,
    status: 409,
    message: /already has an API key named "crm"/,
  },
  {
    what: 'api key: revoke an unknown key',
    method: 'DELETE',
    path: `${keysOf('{keyed}')}/web`,
    headers: admin,
    status: 404,
    message: /no API key named "web"/,
  },
  {
    what: 'api key: revoke without admin token',
    method: 'DELETE',
    path: `${keysOf('{keyed}')}/crm`,
    status: 401,
    message: /Authorization/,
  },
  // predict and feedback with API keys
  {
    what: 'keyed predict: no key',
    method: 'POST',
    path: `/v1/models/{keyed}/predict`,
    body: () => ({ rows: [row()] }),
    status: 401,
    message: /requires an API key: send the header "Authorization: Bearer <api key>"/,
  },
  {
    what: 'keyed predict: wrong key',
    method: 'POST',
    path: `/v1/models/{keyed}/predict`,
    body: () => ({ rows: [row()] }),
    headers: { authorization: 'Bearer pk_guessed' },
    status: 401,
    message: /API key in the Authorization header is not a valid/,
  },
  {
    what: 'keyed feedback: not a bearer header',
    method: 'POST',
    path: `/v1/models/{keyed}/feedback`,
    body: () => ({ predictionId, label: 'rain' }),
    headers: () => ({ authorization: `Basic ${crmKey}` }),
    status: 401,
    message: /Authorization header must be "Bearer <api key>"/,
  },
  {
    what: 'open predict: a key of another model',
    method: 'POST',
    path: predictOpen,
    body: () => ({ rows: [row()] }),
    headers: () => ({ authorization: `Bearer ${crmKey}` }),
    status: 401,
    message: /not a valid \(unrevoked\) key of model bad-open/,
  },
];

test(`a corpus of ${corpus.length} bad requests: status, the field named, nothing changed`, async (t) => {
  assert.ok(corpus.length >= 20);
  for (const bad of corpus)
    await t.test(bad.what, async () => {
      const path = bad.path.replace('{open}', OPEN).replace('{keyed}', KEYED).replace('{version}', version);
      const body = typeof bad.body === 'function' ? bad.body() : bad.body;
      const headers = typeof bad.headers === 'function' ? bad.headers() : bad.headers;
      const before = stateOfTheStore();
      const response = await call(bad.method, path, body, headers);
      assert.equal(response.status, bad.status, `${bad.what}: ${JSON.stringify(response.body)}`);
      assert.match(response.body.message, bad.message, bad.what);
      assert.ok(response.body.error, `${bad.what}: a typed error code`);
      assert.deepEqual(stateOfTheStore(), before, `${bad.what}: nothing logged, stored, deployed or keyed`);
    });
});

test('numbers too large for the model are served as missing with a warning naming the feature; nothing non-finite is served or logged', async () => {
  const before = stateOfTheStore();
  // 1e39 overflows float32; 5e37 does not, but the network's products of it would; "-3.5e38" as text.
  const rows = [{ ...row(), temp_max: 1e39 }, { ...row(), wind: 5e37 }, { ...row(), temp_min: '-3.5e38', precipitation: 1e300 }, row()];
  const response = await call('POST', `/v1/models/${OPEN}/predict`, { rows });
  assert.equal(response.status, 200, JSON.stringify(response.body));
  const predictions = response.body.predictions as Array<{ id: string; probabilities: Record<string, number>; warnings?: string[] }>;
  assert.match(predictions[0].warnings!.join(), /^temp_max: 1e\+39 is out of range .* treated as missing$/);
  assert.match(predictions[1].warnings!.join(), /^wind: 5e\+37 is out of range/);
  assert.deepEqual(
    predictions[2].warnings!.map((w) => w.split(':')[0]),
    ['precipitation', 'temp_min'],
  );
  assert.equal(predictions[3].warnings, undefined);
  for (const p of predictions) for (const value of Object.values(p.probabilities)) assert.ok(Number.isFinite(value), JSON.stringify(p));
  // The out-of-range row is answered as the same row with the value missing.
  const asMissing = await call('POST', `/v1/models/${OPEN}/predict`, { rows: [{ ...row(), temp_max: null }] });
  assert.deepEqual(asMissing.body.predictions[0].probabilities, predictions[0].probabilities);

  assert.equal(stateOfTheStore().predictions, (before.predictions as number) + 5);
  const db = new Database(dbPath, { readonly: true });
  const logged = db.prepare('SELECT features, confidence, probabilities FROM predictions WHERE id = ?').get(predictions[0].id) as {
    features: string;
    confidence: number;
    probabilities: string;
  };
  db.close();
  // The log keeps the value as sent and only finite outputs; monitoring counts the value as an anomaly.
  const features = JSON.parse(logged.features);
  assert.equal(features.temp_max, 1e39);
  assert.ok(Number.isFinite(logged.confidence));
  assert.ok(Object.values(JSON.parse(logged.probabilities) as Record<string, number>).every(Number.isFinite));
  const predictor = await mlflowModelLoader(mlflow)(OPEN, version);
  try {
    const anomalies = detectAnomalies(
      [features],
      FEATURES.map((name) => ({ name, type: 'number' as const })),
      predictor.profile,
    );
    assert.equal(anomalies.features.temp_max.outOfRange, 1);
  } finally {
    predictor.dispose();
  }
});

test('API keys: predict and feedback with a key, the feedback source recorded, a revoked key refused, no key shown again', async () => {
  const predicted = await call('POST', `/v1/models/${KEYED}/predict`, { rows: [row(5)] }, { authorization: `Bearer ${crmKey}` });
  assert.equal(predicted.status, 200, JSON.stringify(predicted.body));
  const id = predicted.body.predictions[0].id;
  const fed = await call(
    'POST',
    `/v1/models/${KEYED}/feedback`,
    { predictionId: id, label: 'rain' },
    { authorization: `Bearer ${crmKey}` },
  );
  assert.equal(fed.status, 200, JSON.stringify(fed.body));
  // Anonymous feedback on the open model names its source too.
  assert.equal((await call('POST', `/v1/models/${OPEN}/feedback`, { predictionId, label: 'sun' })).status, 200);

  const db = new Database(dbPath, { readonly: true });
  const source = (prediction: string) =>
    db
      .prepare(
        'SELECT f.source AS feedback, r.source AS record FROM feedback f JOIN records r ON r.id = f.record_id WHERE f.prediction_id = ?',
      )
      .get(prediction);
  assert.deepEqual(source(id), { feedback: 'crm', record: 'feedback:crm' });
  assert.deepEqual(source(predictionId), { feedback: 'anonymous', record: 'feedback:anonymous' });
  const hashes = db.prepare('SELECT hash FROM api_keys WHERE model = ?').pluck().all(KEYED) as string[];
  db.close();
  assert.ok(!hashes.includes(crmKey), 'the key itself is not stored');

  const listed = await call('GET', keysOf(KEYED), undefined, admin);
  assert.equal(listed.status, 200);
  assert.equal(listed.body.required, true);
  assert.deepEqual(
    listed.body.keys.map((k: { name: string }) => k.name),
    ['crm'],
  );
  assert.ok(!JSON.stringify(listed.body).includes(crmKey.slice(3)), 'listing never shows a key');

  const second = await call('POST', keysOf(KEYED), { name: 'web' }, admin);
  assert.equal(second.status, 201);
  const revoked = await call('DELETE', `${keysOf(KEYED)}/crm`, undefined, admin);
  assert.equal(revoked.status, 200);
  assert.ok(revoked.body.revokedAt);
  const refused = await call('POST', `/v1/models/${KEYED}/predict`, { rows: [row()] }, { authorization: `Bearer ${crmKey}` });
  assert.equal(refused.status, 401);
  assert.equal(
    (await call('POST', `/v1/models/${KEYED}/predict`, { rows: [row()] }, { authorization: `Bearer ${second.body.key}` })).status,
    200,
  );

  // The server caches key checks: a model served anonymously until now needs a key from its first one on.
  assert.equal((await call('POST', `/v1/models/${OPEN}/predict`, { rows: [row()] })).status, 200);
  assert.equal((await call('POST', keysOf(OPEN), { name: 'first' }, admin)).status, 201);
  const locked = await call('POST', `/v1/models/${OPEN}/predict`, { rows: [row()] });
  assert.equal(locked.status, 401, JSON.stringify(locked.body));
});

test('API keys: a key revoked by another server process on the same database is refused once the cache entry ages out', async () => {
  const issued = await call('POST', keysOf(KEYED), { name: 'elsewhere' }, admin);
  assert.equal(issued.status, 201);
  const withKey = { authorization: `Bearer ${issued.body.key}` };
  assert.equal((await call('POST', `/v1/models/${KEYED}/predict`, { rows: [row()] }, withKey)).status, 200, 'the key is cached now');

  // Another process (a replacement server starting, a replica) revokes it behind this server's back.
  const other = await openStore(dbPath);
  assert.ok((await other.revokeApiKey(KEYED, 'elsewhere'))?.revokedAt);
  await other.close();

  let status = 200;
  for (let attempt = 0; attempt < 50 && status === 200; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    status = (await call('POST', `/v1/models/${KEYED}/predict`, { rows: [row()] }, withKey)).status;
  }
  assert.equal(status, 401, 'the revocation took effect (the cache keeps an entry for a second)');
});
