/**
 * The model server's /metrics over HTTP: the exposition parses (strictly), and its numbers move by
 * exactly the traffic sent — requests and latencies per model, version, role and status, rows per
 * model call, predictions and feedback committed, log commit times — and its versions in service
 * follow its deployments, while names of models it does not serve, API keys and the admin token
 * never appear. Real tfjs models trained here,
 * a real SQLite file, real HTTP; no Temporal or MLflow needed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openStore } from '../../adapters/store/index.ts';
import type { ModelFiles } from '../../core/contracts.ts';
import { ModelVersionNotFoundError } from '../../core/errors.ts';
import { loadPredictor, servingFiles } from '../../ml/bundle.ts';
import { trainTrial } from '../../ml/train.ts';
import { buildServer } from '../../serving/server.ts';
import { weatherData } from '../../stack/demo.ts';
import { scrape, sampleSum, type Family } from '../helpers/prometheus.ts';
import { tempDir } from '../helpers/services.ts';

const TOKEN = 'metrics-admin-token-do-not-expose';
const MODEL = 'weather';
const FEATURES = ['precipitation', 'temp_max', 'temp_min', 'wind'];
const CLASSES = ['drizzle', 'fog', 'rain', 'snow', 'sun'];
const PREDICT = '/v1/models/:model/predict';
const FEEDBACK = '/v1/models/:model/feedback';

const seed = weatherData().seed;
const featuresOf = (r: Record<string, unknown>) => Object.fromEntries(FEATURES.map((f) => [f, Number(r[f])]));
const row = (i: number) => featuresOf(seed[i]);
const versions = new Map<string, ModelFiles>();
const servers: Array<{ base: string; stop: () => Promise<void> }> = [];

async function train(offset: number, trainingSeed: number): Promise<ModelFiles> {
  const rows = seed.slice(offset, offset + 200);
  const labelled = (part: typeof rows) => ({ rows: part.map(featuresOf), labels: part.map((r) => String(r.weather)) });
  const { checkpoint } = await trainTrial({
    config: { family: 'softmax', params: { learningRate: 0.05 } },
    features: FEATURES,
    classes: CLASSES,
    train: labelled(rows),
    validation: labelled(rows.slice(0, 20)),
    seed: trainingSeed,
    fromEpoch: 0,
    toEpoch: 3,
  });
  return servingFiles(checkpoint);
}

async function startServer() {
  const store = await openStore(join(tempDir(), 'perennial.sqlite'));
  const app = await buildServer({
    store,
    adminToken: TOKEN,
    loadModel: async (model, version) => {
      const files = versions.get(version);
      if (!files) throw new ModelVersionNotFoundError(model, version);
      return loadPredictor(files);
    },
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const server = { base, stop: async () => (await app.close(), await store.close()) };
  servers.push(server);
  return server;
}

async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(base + path, init);
  return { status: response.status, body: (await response.json()) as any };
}

before(async () => {
  const [v1, v2] = await Promise.all([train(0, 1), train(300, 2)]);
  versions.set('1', v1);
  versions.set('2', v2);
});

after(async () => {
  for (const server of servers) await server.stop();
});

test('predictions and feedback move the request, batch, log and commit metrics by exactly what was sent', async () => {
  const { base } = await startServer();
  const admin = { authorization: `Bearer ${TOKEN}` };
  const deployed = await call(
    base,
    'PUT',
    `/admin/models/${MODEL}/deployment`,
    {
      champion: { version: '1' },
      canary: { version: '2', weight: 0.5 },
      reason: 'metrics test',
    },
    admin,
  );
  assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
  // A key for another model: its name and value must not reach /metrics, nor that model's name.
  const keyed = await call(base, 'POST', '/admin/models/secret-model/api-keys', { name: 'crm-secret-name' }, admin);
  assert.equal(keyed.status, 201);

  const initial = await scrape(`${base}/metrics`);
  assert.equal(sampleSum(initial, 'perennial_predictions_total'), 0);

  // 24 requests of 1 to 4 rows; the canary takes about half of them.
  const served: Array<{ version: string; role: string; rows: number; ids: string[] }> = [];
  for (let i = 0; i < 24; i++) {
    const rows = Array.from({ length: (i % 4) + 1 }, (_, j) => row(i * 4 + j));
    const response = await call(base, 'POST', `/v1/models/${MODEL}/predict`, { rows });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const predictions = response.body.predictions as Array<{ id: string; version: string; role: string }>;
    served.push({ version: predictions[0].version, role: predictions[0].role, rows: rows.length, ids: predictions.map((p) => p.id) });
  }
  const roles = new Set(served.map((s) => s.role));
  assert.deepEqual([...roles].sort(), ['canary', 'champion'], 'both versions served (a 2^-23 chance that one served all)');

  // Feedback: 10 true labels in one batch, 3 accepted one by one.
  const ids = served.flatMap((s) => s.ids);
  const labelled = await call(base, 'POST', `/v1/models/${MODEL}/feedback`, {
    feedback: ids.slice(0, 10).map((predictionId) => ({ predictionId, label: 'rain' })),
  });
  assert.equal(labelled.status, 200, JSON.stringify(labelled.body));
  for (const predictionId of ids.slice(10, 13)) {
    assert.equal((await call(base, 'POST', `/v1/models/${MODEL}/feedback`, { predictionId, kind: 'accepted' })).status, 200);
  }
  // Refused: rows without features (400), a model not deployed (404), feedback on no prediction (404).
  assert.equal((await call(base, 'POST', `/v1/models/${MODEL}/predict`, { rows: [{ wind: 1 }] })).status, 400);
  assert.equal((await call(base, 'POST', '/v1/models/not-deployed-model/predict', { rows: [row(0)] })).status, 404);
  assert.equal((await call(base, 'POST', `/v1/models/${MODEL}/feedback`, { predictionId: 'nope', label: 'rain' })).status, 404);

  const text = await (await fetch(`${base}/metrics`)).text();
  for (const secret of [TOKEN, keyed.body.key, 'crm-secret-name', 'secret-model', 'not-deployed-model'])
    assert.ok(!text.includes(secret), `/metrics shows "${secret}"`);
  const scraped = await scrape(`${base}/metrics`);

  for (const [version, role] of [
    ['1', 'champion'],
    ['2', 'canary'],
  ]) {
    const mine = served.filter((s) => s.version === version && s.role === role);
    const rows = mine.reduce((n, s) => n + s.rows, 0);
    const ok = { endpoint: PREDICT, method: 'POST', model: MODEL, version, role, http_response_code: '200' };
    assert.equal(sampleSum(scraped, 'perennial_request_total', ok), mine.length, `${role} requests`);
    assert.equal(sampleSum(scraped, 'perennial_request_duration_seconds_count', ok), mine.length, `${role} latencies`);
    assert.ok(sampleSum(scraped, 'perennial_request_duration_seconds_sum', ok) > 0);
    assert.equal(sampleSum(scraped, 'perennial_predictions_total', { model: MODEL, version, role }), rows, `${role} rows logged`);
    assert.equal(sampleSum(scraped, 'perennial_batch_size_count', { model: MODEL, version, role }), mine.length, `${role} model calls`);
    assert.equal(sampleSum(scraped, 'perennial_batch_size_sum', { model: MODEL, version, role }), rows, `${role} rows predicted`);
    // Histogram buckets: every call of 1-2 rows falls in le=2.
    const small = mine.filter((s) => s.rows <= 2).length;
    assert.equal(sampleSum(scraped, 'perennial_batch_size_bucket', { model: MODEL, version, role, le: '2' }), small);
  }
  assert.equal(sampleSum(scraped, 'perennial_feedback_total', { model: MODEL, kind: 'label' }), 10);
  assert.equal(sampleSum(scraped, 'perennial_feedback_total', { model: MODEL, kind: 'accepted' }), 3);
  assert.equal(sampleSum(scraped, 'perennial_request_total', { endpoint: FEEDBACK, model: MODEL, http_response_code: '200' }), 4);
  // Requests sent one at a time commit one at a time: 24 predict, and 5 feedback (the one refused for
  // an unknown prediction is refused inside its commit, and counted only there).
  assert.equal(sampleSum(scraped, 'perennial_log_commit_duration_seconds_count', { log: 'predictions' }), 24);
  assert.equal(sampleSum(scraped, 'perennial_log_commit_duration_seconds_count', { log: 'feedback' }), 5);
  assert.equal(sampleSum(scraped, 'perennial_batch_queue_delay_seconds_count', { model: MODEL }), 24, 'one wait per predict request');

  // Refusals: counted with their status; a served model by name, any other as "".
  assert.equal(
    sampleSum(scraped, 'perennial_request_total', { endpoint: PREDICT, model: MODEL, version: '', http_response_code: '400' }),
    1,
  );
  assert.equal(sampleSum(scraped, 'perennial_request_total', { endpoint: PREDICT, model: '', http_response_code: '404' }), 1);
  assert.equal(sampleSum(scraped, 'perennial_request_total', { endpoint: FEEDBACK, model: MODEL, http_response_code: '404' }), 1);
  assert.equal(
    sampleSum(scraped, 'perennial_predictions_total'),
    served.reduce((n, s) => n + s.rows, 0),
    'refused rows are not counted',
  );
  // Admin calls are counted too, without a model name for a model not deployed.
  assert.equal(
    sampleSum(scraped, 'perennial_request_total', {
      endpoint: '/admin/models/:model/api-keys',
      method: 'POST',
      model: '',
      http_response_code: '201',
    }),
    1,
  );
  // Scrapes do not count themselves.
  assert.equal(sampleSum(scraped, 'perennial_request_total', { endpoint: '/metrics' }), 0);
  assertHelpAndType(scraped);
});

test('each server counts its own traffic: two servers in one process do not share a registry', async () => {
  const first = await startServer();
  const second = await startServer();
  assert.equal((await call(first.base, 'GET', '/healthz')).status, 200);
  assert.equal((await call(first.base, 'GET', '/healthz')).status, 200);
  const count = async (base: string) => sampleSum(await scrape(`${base}/metrics`), 'perennial_request_total', { endpoint: '/healthz' });
  assert.equal(await count(first.base), 2);
  assert.equal(await count(second.base), 0);
});

test('the versions in service are gauges read at each scrape: champion, canary with its weight, shadow', async () => {
  const { base } = await startServer();
  const admin = { authorization: `Bearer ${TOKEN}` };
  const deploy = async (body: object) =>
    assert.equal((await call(base, 'PUT', `/admin/models/${MODEL}/deployment`, { ...body, reason: 'versions test' }, admin)).status, 200);
  const inService = async () => {
    const families = await scrape(`${base}/metrics`);
    return {
      info: families
        .get('perennial_deployment_info')!
        .samples.map((s) => `${s.labels.model} ${s.labels.role} v${s.labels.version} = ${s.value}`)
        .sort(),
      canary: families.get('perennial_deployment_canary_weight')!.samples.map((s) => `${s.labels.model} v${s.labels.version} = ${s.value}`),
    };
  };
  assert.deepEqual(await inService(), { info: [], canary: [] }, 'nothing deployed');
  await deploy({ champion: { version: '1' }, canary: { version: '2', weight: 0.25 } });
  assert.deepEqual(await inService(), {
    info: [`${MODEL} canary v2 = 1`, `${MODEL} champion v1 = 1`],
    canary: [`${MODEL} v2 = 0.25`],
  });
  // Promoted, with the old champion as a shadow: the canary's series are gone.
  await deploy({ champion: { version: '2' }, shadow: { version: '1' } });
  assert.deepEqual(await inService(), { info: [`${MODEL} champion v2 = 1`, `${MODEL} shadow v1 = 1`], canary: [] });
});

/** Every family of the server says what it is. */
function assertHelpAndType(families: Map<string, Family>) {
  const names = [
    'perennial_request_total',
    'perennial_request_duration_seconds',
    'perennial_batch_size',
    'perennial_predictions_total',
    'perennial_feedback_total',
    'perennial_log_commit_duration_seconds',
    'perennial_batch_queue_delay_seconds',
  ];
  for (const name of names) {
    const family = families.get(name);
    assert.ok(family, `${name} is exposed`);
    assert.ok(family.help && family.help.length > 10, `${name} has a HELP text`);
  }
  assert.equal(families.get('perennial_request_duration_seconds')?.type, 'histogram');
  assert.equal(families.get('perennial_predictions_total')?.type, 'counter');
}
