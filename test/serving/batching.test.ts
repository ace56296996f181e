/**
 * Dynamic batching and group commit over HTTP: concurrent predict requests are predicted
 * together, yet each gets its own rows' predictions (the same as when it is predicted alone),
 * logged before its answer; a batch that holds champion and canary requests routes each request
 * whole to one version; concurrent feedback commits together, a refused item failing only its own
 * request. Real tfjs models trained here, a real SQLite file; the models load from memory rather
 * than MLflow (loading is tested in server.test.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { loadPredictor, servingFiles } from '../../ml/bundle.ts';
import { trainTrial } from '../../ml/train.ts';
import { buildServer } from '../../serving/server.ts';
import { openStore } from '../../adapters/store/index.ts';
import { weatherData } from '../../stack/demo.ts';
import { tempDir } from '../helpers/services.ts';

const TOKEN = 'batching-token';
const MODEL = 'weather';
const FEATURES = ['precipitation', 'temp_max', 'temp_min', 'wind'];
const CLASSES = ['drizzle', 'fog', 'rain', 'snow', 'sun'];
/** Rows of the concurrent requests: 1, 2, ... 8 rows each. */
const SIZES = [1, 2, 3, 4, 5, 6, 7, 8];
const TOTAL_ROWS = SIZES.reduce((a, b) => a + b, 0);

const seed = weatherData().seed;
const row = (i: number) => Object.fromEntries(FEATURES.map((f) => [f, Number(seed[i][f])]));
const dbPath = join(tempDir(), 'perennial.sqlite');
let base = '';
let stop: () => Promise<void>;
let log: Database.Database;
let files: Record<string, Awaited<ReturnType<typeof trained>>>;

async function call(method: string, path: string, body?: unknown) {
  const headers: Record<string, string> = path.startsWith('/admin/') ? { authorization: `Bearer ${TOKEN}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as any };
}
const predict = (rows: unknown[]) => call('POST', `/v1/models/${MODEL}/predict`, { rows });
const stats = async () => (await call('GET', '/admin/batching')).body.predict[MODEL] ?? { batches: 0, items: 0, rows: 0 };

async function trained(offset: number, seedNumber: number) {
  const rows = seed.slice(offset, offset + 200);
  const { checkpoint } = await trainTrial({
    config: { family: 'softmax', params: { learningRate: 0.05 } },
    features: FEATURES,
    classes: CLASSES,
    train: { rows: rows.map((_, i) => row(offset + i)), labels: rows.map((r) => String(r.weather)) },
    validation: { rows: rows.slice(0, 20).map((_, i) => row(offset + i)), labels: rows.slice(0, 20).map((r) => String(r.weather)) },
    seed: seedNumber,
    fromEpoch: 0,
    toEpoch: 3,
  });
  return servingFiles(checkpoint);
}

before(async () => {
  files = { '1': await trained(0, 1), '2': await trained(300, 2) };
  const store = await openStore(dbPath);
  const app = await buildServer({
    store,
    adminToken: TOKEN,
    loadModel: async (_model, version) => loadPredictor(files[version]),
    // A batch runs when it holds every row of the concurrent requests (or after a minute, which
    // would fail the test): whether they share a batch does not depend on timing.
    batching: { predict: { maxDelayMs: 60_000, maxRows: TOTAL_ROWS }, log: { maxDelayMs: 0, maxRows: 10_000 } },
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  stop = async () => (await app.close(), await store.close());
  log = new Database(dbPath, { readonly: true });
});

after(async () => {
  log?.close();
  await stop?.();
});

/** The logged features of each prediction id, read by another connection: what was committed. */
function committed(ids: string[]): Array<Record<string, unknown> | undefined> {
  const get = log.prepare('SELECT features FROM predictions WHERE id = ?').pluck();
  return ids.map((id) => {
    const features = get.get(id) as string | undefined;
    return features === undefined ? undefined : JSON.parse(features);
  });
}

/** Fires one request per size at once; checks each answer's log is committed the moment it arrives. */
async function concurrently(offset: number) {
  const requests = SIZES.map((n, k) => Array.from({ length: n }, (_, j) => row(offset + k * 10 + j)));
  const answers = await Promise.all(
    requests.map(async (rows) => {
      const response = await predict(rows);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      const ids = response.body.predictions.map((p: { id: string }) => p.id);
      assert.deepEqual(committed(ids), rows, 'answered only after its own rows were committed');
      return response.body.predictions as Array<{
        id: string;
        label: string;
        probabilities: Record<string, number>;
        version: string;
        role: string;
      }>;
    }),
  );
  return { requests, answers };
}

test('concurrent requests are predicted in one batch, each answered with its own rows, as when predicted alone', async () => {
  const deployed = await call('PUT', `/admin/models/${MODEL}/deployment`, { champion: { version: '1' }, reason: 'batching test' });
  assert.equal(deployed.status, 200, JSON.stringify(deployed.body));

  const before = await stats();
  const { requests, answers } = await concurrently(0);
  const after = await stats();
  assert.deepEqual([after.batches - before.batches, after.items - before.items, after.rows - before.rows], [1, SIZES.length, TOTAL_ROWS]);

  // Unbatched: the same model predicting each request's rows by themselves.
  const unbatched = await loadPredictor(files['1']);
  for (const [k, rows] of requests.entries()) {
    const alone = unbatched.predict(rows);
    assert.equal(answers[k].length, rows.length);
    answers[k].forEach((p, i) => {
      assert.equal(p.label, alone[i].label, `request ${k} row ${i}`);
      for (const c of CLASSES) assert.ok(Math.abs(p.probabilities[c] - alone[i].probabilities[c]) < 1e-6, `request ${k} row ${i} ${c}`);
      assert.deepEqual([p.version, p.role], ['1', 'champion']);
    });
  }
  unbatched.dispose();
  const ids = answers.flat().map((p) => p.id);
  assert.equal(new Set(ids).size, TOTAL_ROWS, 'every row has its own prediction id');
});

test('in a batch of champion and canary requests, each request goes whole to one version', async () => {
  const deployed = await call('PUT', `/admin/models/${MODEL}/deployment`, {
    champion: { version: '1' },
    canary: { version: '2', weight: 0.5 },
    reason: 'canary in a batch',
  });
  assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
  const seen = new Set<string>();
  // Until both versions served within one batch (each round is one batch; 0.5^8 * 2 per round to fail).
  for (let round = 0; round < 10 && seen.size < 2; round++) {
    const { answers } = await concurrently(20 * round);
    const versions = answers.map((predictions) => new Set(predictions.map((p) => `${p.version}/${p.role}`)));
    for (const v of versions) assert.equal(v.size, 1, 'one version per request');
    for (const v of versions) seen.add([...v][0]);
    if (seen.size < 2) seen.clear();
  }
  assert.deepEqual([...seen].sort(), ['1/champion', '2/canary']);
});

test('concurrent feedback commits together; a refused request stores nothing and fails alone', async () => {
  const { answers } = await concurrently(100);
  const ids = answers.flat().map((p) => p.id);
  const count = (table: string) => log.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  const [feedbackBefore, recordsBefore] = [count('feedback'), count('records')];

  const bodies = [
    { predictionId: ids[0], label: 'rain' },
    {
      feedback: [
        { predictionId: ids[1], label: 'sun' },
        { predictionId: 'no-such-prediction', label: 'sun' },
      ],
    },
    { predictionId: ids[2], kind: 'accepted' },
    { predictionId: ids[3], label: 'hail' },
  ];
  const responses = await Promise.all(bodies.map((body) => call('POST', `/v1/models/${MODEL}/feedback`, body)));
  assert.deepEqual(
    responses.map((r) => r.status),
    [200, 404, 200, 400],
  );
  assert.match(responses[1].body.message, /no prediction with id no-such-prediction/);
  assert.match(responses[3].body.message, /label "hail" .* not one of the model's classes/);
  assert.equal(count('feedback') - feedbackBefore, 2, 'the two accepted requests, nothing of the refused ones');
  assert.equal(count('records') - recordsBefore, 2);
  const labelled = log.prepare('SELECT prediction_id FROM feedback ORDER BY id DESC LIMIT 2').pluck().all();
  assert.deepEqual(labelled.sort(), [ids[0], ids[2]].sort());
  const { log: logStats } = (await call('GET', '/admin/batching')).body;
  assert.ok(logStats.batches < logStats.items, `commits ${logStats.batches} < writes ${logStats.items}: writes shared commits`);
});
