/**
 * Shadow deployments over HTTP on a real SQLite file: the shadow sees a copy of every request
 * after its response, its predictions are logged (role shadow, linked to the served one) and
 * never returned, and nothing it does, failing to load or to predict, reaches a client.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ModelFiles } from '../../core/contracts.ts';
import { loadPredictor } from '../../ml/bundle.ts';
import { openStore } from '../../adapters/store/index.ts';
import { FEATURES, call, eventually, featuresOf, startLocalServer, trainModel, weatherRows } from '../helpers/local-models.ts';
import { tempDir } from '../helpers/services.ts';

const TOKEN = 'shadow-test-admin';
const MODEL = 'weather';
const weather = weatherRows();
const dbPath = join(tempDir(), 'perennial.sqlite');

const files: Record<string, ModelFiles> = {};
/** Calls of the predict of version 4, which fails as a model that runs out of memory would. */
let brokenCalls = 0;
let server: Awaited<ReturnType<typeof startLocalServer>>;

const versions = () => ({
  '1': files.v1,
  '2': files.v2,
  // Needs a feature that requests do not carry.
  '3': files.humidity,
  '4': async () => {
    const predictor = await loadPredictor(files.v2);
    return {
      ...predictor,
      predict: () => {
        brokenCalls++;
        throw new Error('Out of memory in the wasm backend');
      },
    };
  },
});

const api = (method: string, path: string, body?: unknown) => call(server.base, method, path, body, TOKEN);
const deploy = (body: unknown) => api('PUT', `/admin/models/${MODEL}/deployment`, body);
const predict = (rows: unknown[]) => call(server.base, 'POST', `/v1/models/${MODEL}/predict`, { rows });
const sampleRows = (n: number, from: number) => weather.slice(from, from + n).map((r) => featuresOf(r));

interface LogRow {
  seq: number;
  id: string;
  version: string;
  role: string;
  features: Record<string, unknown>;
  prediction: string;
  probabilities: Record<string, number>;
  shadowOf: string | null;
  feedback: unknown;
}

async function logAfter(seq: number): Promise<LogRow[]> {
  const { status, text } = await api('GET', `/v1/models/${MODEL}/log?since=${seq}`);
  assert.equal(status, 200, text);
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

const shadowRows = (rows: LogRow[]) => rows.filter((r) => r.role === 'shadow');

before(async () => {
  const withHumidity = weather.map((r, i) => ({ ...r, humidity: (i % 10) / 10 }));
  [files.v1, files.v2, files.humidity] = await Promise.all([
    trainModel(weather, 0, 1),
    trainModel(weather, 300, 2),
    trainModel(withHumidity, 600, 3, [...FEATURES, 'humidity']),
  ]);
  server = await startLocalServer(dbPath, TOKEN, versions());
});

after(async () => {
  await server?.stop();
});

test('a shadow version must be another version than the champion and the canary', async () => {
  for (const [body, message] of [
    [{ champion: { version: '1' }, shadow: { version: '1' }, reason: 'r' }, /shadow\.version: the shadow must be another version/],
    [
      { champion: { version: '1' }, canary: { version: '2', weight: 0.1 }, shadow: { version: '2' }, reason: 'r' },
      /shadow\.version: the shadow must be another version/,
    ],
    [{ champion: { version: '1' }, shadow: { version: 'next' }, reason: 'r' }, /shadow\.version: a registered version number/],
  ] as const) {
    const { status, body: answer } = await deploy(body);
    assert.equal(status, 400, JSON.stringify(answer));
    assert.match(answer.message, message);
  }
});

test('the shadow gets a copy of every request; only the champion answers', async () => {
  const deployed = await deploy({ champion: { version: '1' }, shadow: { version: '2' }, reason: 'shadow v2' });
  assert.equal(deployed.status, 200, deployed.text);
  assert.deepEqual(deployed.body.shadow, { version: '2' });
  assert.deepEqual((await call(server.base, 'GET', `/v1/models/${MODEL}/deployment`)).body.shadow, { version: '2' });

  const watermark = await server.store.maxPredictionSeq(MODEL);
  const rows = [...sampleRows(3, 1000), ...sampleRows(3, 1200)];
  const answers = [await predict(rows.slice(0, 3)), await predict(rows.slice(3))];
  const served = answers.flatMap(({ status, body }) => {
    assert.equal(status, 200, JSON.stringify(body));
    return body.predictions as Array<{ id: string; version: string; role: string; label: string }>;
  });
  assert.deepEqual(
    served.map((p) => `${p.version}/${p.role}`),
    Array(6).fill('1/champion'),
  );

  const shadows = await eventually('the shadow predictions', async () => {
    const found = shadowRows(await logAfter(watermark));
    return found.length === 6 ? found : undefined;
  });
  // The same inputs, each linked to the prediction served from it, answered by version 2.
  const reference = await loadPredictor(files.v2);
  const expected = reference.predict(rows);
  reference.dispose();
  served.forEach((p, i) => {
    const twin = shadows.find((s) => s.shadowOf === p.id)!;
    assert.ok(twin, `a shadow prediction of row ${i}`);
    assert.equal(twin.version, '2');
    assert.deepEqual(twin.features, rows[i]);
    assert.equal(twin.prediction, expected[i].label);
    assert.deepEqual(twin.probabilities, expected[i].probabilities);
    assert.equal(twin.feedback, null);
  });

  // Monitoring sees the served predictions only, and a shadow prediction takes no feedback.
  assert.equal(await server.store.countPredictionsSince(MODEL, watermark), 6);
  assert.deepEqual(
    (await server.store.predictionsSince(MODEL, watermark, 100)).rows.map((r) => r.role),
    Array(6).fill('champion'),
  );
  const feedback = await call(server.base, 'POST', `/v1/models/${MODEL}/feedback`, { predictionId: shadows[0].id, label: 'rain' });
  assert.equal(feedback.status, 404, feedback.text);
});

test('an Open Inference Protocol (/v2) request is copied to the shadow like a /v1 one', async () => {
  const deployed = await deploy({ champion: { version: '1' }, shadow: { version: '2' }, reason: 'shadow v2' });
  assert.equal(deployed.status, 200, deployed.text);
  const watermark = await server.store.maxPredictionSeq(MODEL);
  const rows = sampleRows(4, 1400);
  const inputs = FEATURES.map((name) => ({ name, datatype: 'FP64', shape: [rows.length], data: rows.map((r) => r[name]) }));
  const inferred = await call(server.base, 'POST', `/v2/models/${MODEL}/infer`, { inputs });
  assert.equal(inferred.status, 200, inferred.text);
  const ids = (inferred.body.outputs as Array<{ name: string; data: string[] }>).find((o) => o.name === 'id')!.data;
  assert.equal(ids.length, 4);

  const shadows = await eventually('the shadow predictions', async () => {
    const found = shadowRows(await logAfter(watermark));
    return found.length === 4 ? found : undefined;
  });
  assert.deepEqual(shadows.map((s) => s.shadowOf).sort(), [...ids].sort());
  assert.ok(shadows.every((s) => s.version === '2'));
});

test('a shadow that fails to predict, or lacks a feature, changes no answer and logs nothing', async () => {
  for (const version of ['4', '3']) {
    const deployed = await deploy({ champion: { version: '1' }, shadow: { version }, reason: `shadow v${version}` });
    assert.equal(deployed.status, 200, deployed.text);
    const watermark = await server.store.maxPredictionSeq(MODEL);
    const callsBefore = brokenCalls;
    for (let i = 0; i < 3; i++) {
      const { status, body } = await predict(sampleRows(2, 1500 + i * 2));
      assert.equal(status, 200, JSON.stringify(body));
      assert.deepEqual(
        body.predictions.map((p: { role: string }) => p.role),
        ['champion', 'champion'],
      );
    }
    if (version === '4') await eventually('the broken shadow tried', async () => (brokenCalls >= callsBefore + 3 ? true : undefined));
    // A request after those: its response comes after the shadow copies of the ones before it ran.
    assert.equal((await predict(sampleRows(1, 1600))).status, 200);
    assert.deepEqual(shadowRows(await logAfter(watermark)), [], `shadow v${version}`);
    assert.equal((await call(server.base, 'GET', '/healthz')).body.status, 'ok');
  }
});

test('a shadow that cannot load: refused when deployed, left out (and said so) when restored', async () => {
  const previous = (await call(server.base, 'GET', `/v1/models/${MODEL}/deployment`)).body;
  const refused = await deploy({ champion: { version: '1' }, shadow: { version: '99' }, reason: 'no such version' });
  assert.equal(refused.status, 422, refused.text);
  assert.match(refused.body.message, /could not load weather version 99, deployment unchanged: .*no registered version 99/);
  assert.deepEqual((await call(server.base, 'GET', `/v1/models/${MODEL}/deployment`)).body, previous);

  // The file names a shadow that this server cannot load (another server deployed it, say).
  await server.stop();
  const other = await openStore(dbPath);
  await other.setDeployment(MODEL, {
    champion: { version: '1' },
    shadow: { version: '99' },
    updatedAt: new Date().toISOString(),
    reason: 'typo',
  });
  await other.close();
  server = await startLocalServer(dbPath, TOKEN, versions());

  const state = (await call(server.base, 'GET', `/v1/models/${MODEL}/deployment`)).body;
  assert.equal(state.champion.version, '1');
  assert.equal(state.shadow.version, '99');
  assert.match(state.shadow.unavailable, /no registered version 99/);
  assert.equal((await call(server.base, 'GET', '/healthz')).body.status, 'ok');
  const watermark = await server.store.maxPredictionSeq(MODEL);
  const { status, body } = await predict(sampleRows(2, 1700));
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual(
    (await logAfter(watermark)).map((r) => r.role),
    ['champion', 'champion'],
  );

  // Deploying the same state again retries the shadow; deploying a loadable one replaces it.
  assert.equal((await deploy({ champion: { version: '1' }, shadow: { version: '99' }, reason: 'retry' })).status, 422);
  const fixed = await deploy({ champion: { version: '1' }, shadow: { version: '2' }, reason: 'the right version' });
  assert.equal(fixed.status, 200, fixed.text);
  assert.equal(fixed.body.shadow.unavailable, undefined);
});

test('taking the shadow out stops the copies and disposes its predictor', async () => {
  const removed = await deploy({ champion: { version: '1' }, reason: 'shadow done' });
  assert.equal(removed.status, 200, removed.text);
  assert.equal(removed.body.shadow, undefined);
  assert.ok(
    server.handedOut.filter((p) => p.version === '2').every((p) => p.disposed),
    'the shadow predictor was disposed',
  );
  const watermark = await server.store.maxPredictionSeq(MODEL);
  assert.equal((await predict(sampleRows(2, 1800))).status, 200);
  assert.equal((await predict(sampleRows(1, 1900))).status, 200);
  assert.deepEqual(
    (await logAfter(watermark)).map((r) => r.role),
    ['champion', 'champion', 'champion'],
  );
});
