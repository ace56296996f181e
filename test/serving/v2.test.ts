/**
 * The Open Inference Protocol (KServe V2 REST) end to end: real tfjs models with a category and
 * number features, registered in a real MLflow server, served over HTTP from a real SQLite file,
 * called by the real tritonclient[http] from .venv (test/serving/v2_client.py) with JSON and
 * binary tensors; then what it saw is checked here, against the prediction log too.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { MlflowClient } from '../../adapters/mlflow/client.ts';
import { uploadModelFiles } from '../../adapters/mlflow/model-files.ts';
import { servingFiles } from '../../ml/bundle.ts';
import { trainTrial } from '../../ml/train.ts';
import { mlflowModelLoader } from '../../serving/loader.ts';
import { buildServer } from '../../serving/server.ts';
import { openStore } from '../../adapters/store/index.ts';
import { readRows } from '../../client/dataset.ts';
import { WEATHER_CSV } from '../../stack/demo.ts';
import { VENV_BIN } from '../../stack/services.ts';
import type { FeatureSpec } from '../../core/spec.ts';
import type { ModelFiles } from '../../core/contracts.ts';
import { mlflowUrl, tempDir } from '../helpers/services.ts';

const TOKEN = 'v2-admin-token';
const CLASSES = ['drizzle', 'fog', 'rain', 'snow', 'sun'];
const LOCATION: FeatureSpec = { name: 'location', type: 'category', values: ['Seattle', 'New York'] };
const NUMBERS = ['precipitation', 'temp_max', 'temp_min', 'wind'];
const FEATURES = [LOCATION.name, ...NUMBERS];
/** The regression model's inputs; its label is temp_max. */
const REGRESSION_INPUTS = ['location', 'precipitation', 'temp_min', 'wind'];
const run = randomUUID().slice(0, 8);
const MODEL = `v2-weather-${run}`;
const KEYED = `v2-keyed-${run}`;
const REGRESSION = `v2-temp-${run}`;

type Day = Record<string, string | number | null>;
// Every fifth day of Seattle's and New York's, so the category feature matters.
const days: Day[] = readRows(WEATHER_CSV)
  .filter((_, i) => i % 5 === 0)
  .map((r) => ({ ...Object.fromEntries(NUMBERS.map((f) => [f, Number(r[f])])), location: String(r.location), weather: String(r.weather) }));
const pick = (day: Day, names: string[]) => Object.fromEntries(names.map((f) => [f, day[f]]));
const ROWS = [days[500], days[20], days[540], days[60], days[580]].map((d) => pick(d, FEATURES));

const dbPath = join(tempDir(), 'perennial.sqlite');
let mlflow: MlflowClient;
let stop: () => Promise<void>;
const versions = { champion: '', canary: '', keyed: '', regression: '' };
let apiKey = '';
/** What tritonclient saw (see v2_client.py). */
let seen: any;

/** Trained on the even or odd days of both cities. */
async function train(labelType: 'category' | 'number', parity: 0 | 1, seed: number): Promise<ModelFiles> {
  const inputs = labelType === 'number' ? REGRESSION_INPUTS : FEATURES;
  const label = labelType === 'number' ? 'temp_max' : 'weather';
  const sample = days.filter((_, i) => i % 2 === parity);
  const part = (rows: Day[]) => ({ rows: rows.map((d) => pick(d, inputs)), labels: rows.map((d) => String(d[label])) });
  const { checkpoint } = await trainTrial({
    config: { family: 'softmax', params: { learningRate: 0.05 } },
    features: inputs.map((f) => (f === LOCATION.name ? LOCATION : f)),
    classes: labelType === 'number' ? [] : CLASSES,
    ...(labelType === 'number' ? { labelType } : {}),
    train: part(sample.slice(30)),
    validation: part(sample.slice(0, 30)),
    seed,
    fromEpoch: 0,
    toEpoch: 4,
  });
  return servingFiles(checkpoint);
}

async function register(model: string, key: string, files: ModelFiles): Promise<string> {
  const experimentId = await mlflow.getOrCreateExperiment(`perennial-test/${model}`);
  const { run: registered } = await mlflow.findOrCreateRun({ experimentId, key, runName: key });
  await uploadModelFiles(mlflow, registered.artifactUri, files);
  await mlflow.ensureRegisteredModel(model);
  const { version } = await mlflow.findOrCreateModelVersion({
    name: model,
    source: `${registered.artifactUri}/model`,
    runId: registered.runId,
  });
  return version.version;
}

async function admin(method: string, path: string, body: unknown) {
  const response = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as any;
  assert.ok(response.ok, `${method} ${path}: ${JSON.stringify(json)}`);
  return json;
}

let base = '';

before(async () => {
  // Patient: the machine running the tests may be busy, and MLflow with it.
  mlflow = new MlflowClient(await mlflowUrl(), { timeoutMs: 120_000, retries: 4 });
  const [first, second, regression] = await Promise.all([train('category', 0, 1), train('category', 1, 2), train('number', 0, 3)]);
  versions.champion = await register(MODEL, 'v1', first);
  versions.canary = await register(MODEL, 'v2', second);
  versions.keyed = await register(KEYED, 'v1', first);
  versions.regression = await register(REGRESSION, 'v1', regression);

  const store = await openStore(dbPath);
  const app = await buildServer({ store, loadModel: mlflowModelLoader(mlflow), adminToken: TOKEN });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  stop = async () => (await app.close(), await store.close());

  const deploy = (model: string, body: object) => admin('PUT', `/admin/models/${model}/deployment`, { ...body, reason: 'v2 test' });
  await deploy(MODEL, { champion: { version: versions.champion }, canary: { version: versions.canary, weight: 0.5 } });
  await deploy(KEYED, { champion: { version: versions.keyed } });
  await deploy(REGRESSION, { champion: { version: versions.regression } });
  apiKey = (await admin('POST', `/admin/models/${KEYED}/api-keys`, { name: 'triton' })).key;

  const config = {
    url: base.replace(/^http:\/\//, ''),
    model: MODEL,
    champion: versions.champion,
    canary: versions.canary,
    rows: ROWS,
    kinds: Object.fromEntries(FEATURES.map((f) => [f, f === LOCATION.name ? 'category' : 'number'])),
    regressionModel: REGRESSION,
    regressionRows: [days[101], days[301], days[503]].map((d) => pick(d, REGRESSION_INPUTS)),
    regressionKinds: Object.fromEntries(REGRESSION_INPUTS.map((f) => [f, f === LOCATION.name ? 'category' : 'number'])),
    keyedModel: KEYED,
    apiKey,
  };
  const script = join(import.meta.dirname, 'v2_client.py');
  const { stdout } = await promisify(execFile)(join(VENV_BIN, 'python'), [script, JSON.stringify(config)], { timeout: 120_000 });
  seen = JSON.parse(stdout);
});

after(async () => {
  await stop?.();
  await mlflow?.close();
});

/** The logged predictions with these ids, in the order given. */
function logged(ids: string[]): Array<{
  id: string;
  model: string;
  version: string;
  role: string;
  label: string;
  features: Record<string, unknown>;
  probabilities: Record<string, number>;
}> {
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db
      .prepare(
        `SELECT id, model, version, role, label, features, probabilities FROM predictions WHERE id IN (${ids.map(() => '?').join(',')})`,
      )
      .all(...ids) as any[];
    const byId = new Map(rows.map((r) => [r.id, { ...r, features: JSON.parse(r.features), probabilities: JSON.parse(r.probabilities) }]));
    return ids.map((id) => byId.get(id)!);
  } finally {
    db.close();
  }
}

test('health, server metadata and readiness', () => {
  assert.equal(seen.live, true);
  assert.equal(seen.ready, true);
  assert.equal(seen.server.name, 'perennial');
  assert.ok(seen.server.extensions.includes('binary_tensor_data'));
  assert.equal(seen.modelReady, true);
  assert.equal(seen.versionReady, true);
  assert.equal(seen.unknownVersionReady, false);
  assert.equal(seen.unknownModelReady, false);
});

test('model metadata: one input per feature, the outputs of a classifier', () => {
  assert.deepEqual(seen.metadata.versions, [versions.champion, versions.canary]);
  assert.deepEqual(seen.metadata.inputs, [
    { name: 'location', datatype: 'BYTES', shape: [-1] },
    ...NUMBERS.map((name) => ({ name, datatype: 'FP64', shape: [-1] })),
  ]);
  assert.deepEqual(seen.metadata.outputs, [
    { name: 'label', datatype: 'BYTES', shape: [-1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 5], parameters: { classes: JSON.stringify(CLASSES) } },
    { name: 'id', datatype: 'BYTES', shape: [-1] },
  ]);
  assert.deepEqual(seen.versionMetadata.versions, [versions.canary]);
});

test('JSON infer: routed, answered per row, logged like /v1', () => {
  const { head, outputs, binary_outputs } = seen.json;
  assert.deepEqual(binary_outputs, []);
  assert.equal(head.id, 'req-1');
  assert.equal(head.model_name, MODEL);
  const role = head.model_version === versions.champion ? 'champion' : 'canary';
  assert.ok([versions.champion, versions.canary].includes(head.model_version));
  assert.equal(head.parameters.role, role);
  assert.deepEqual(outputs.probabilities.shape, [5, 5]);
  for (const [i, p] of (outputs.probabilities.data as number[][]).entries()) {
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-4);
    assert.equal(outputs.label.data[i], CLASSES[p.indexOf(Math.max(...p))]);
  }
  const log = logged(outputs.id.data);
  assert.deepEqual(
    log.map((l) => [l.model, l.version, l.role, l.label]),
    outputs.label.data.map((label: string) => [MODEL, head.model_version, role, label]),
  );
  assert.deepEqual(
    log.map((l) => l.features),
    ROWS,
  );
});

test('binary infer on the champion version path gives what JSON gives, and logs the exact inputs', () => {
  const binary = seen.binaryChampion;
  const json = seen.jsonChampion;
  assert.deepEqual(binary.binary_outputs, ['label', 'probabilities', 'id']);
  assert.deepEqual(binary.outputs.probabilities.dtype, 'float32');
  for (const answer of [binary, json]) {
    assert.equal(answer.head.model_version, versions.champion);
    assert.equal(answer.head.parameters.role, 'champion');
  }
  assert.deepEqual(binary.outputs.label.data, json.outputs.label.data);
  assert.deepEqual(binary.outputs.probabilities.data, json.outputs.probabilities.data);
  const log = logged(binary.outputs.id.data);
  assert.deepEqual(
    log.map((l) => l.features),
    ROWS,
    'FP64 carries the numbers exactly',
  );
  assert.deepEqual(
    log.map((l) => [l.version, l.role, l.label]),
    binary.outputs.label.data.map((label: string) => [versions.champion, 'champion', label]),
  );
  const probabilities = log.map((l) => CLASSES.map((c) => l.probabilities[c]));
  assert.deepEqual(probabilities, binary.outputs.probabilities.data);
});

test('the canary by its version path; only the outputs asked for', () => {
  const { head, outputs } = seen.canary;
  assert.deepEqual([head.model_version, head.parameters.role], [versions.canary, 'canary']);
  assert.deepEqual(Object.keys(outputs), ['id', 'label']);
  assert.deepEqual(
    logged(outputs.id.data).map((l) => [l.version, l.role]),
    ROWS.map(() => [versions.canary, 'canary']),
  );
});

test('a NaN number is a missing value: served, and logged as null', () => {
  const [log] = logged(seen.missing.outputs.id.data);
  assert.equal(log.features.precipitation, null);
  assert.equal(seen.missing.outputs.label.data.length, 1);
});

test('a regression model answers value FP64', () => {
  const { outputs, head } = seen.regression;
  assert.equal(head.model_version, versions.regression);
  assert.equal(outputs.value.dtype, 'float64');
  assert.deepEqual(outputs.value.shape, [3]);
  const log = logged(outputs.id.data);
  assert.deepEqual(
    log.map((l) => Number(l.label)),
    outputs.value.data,
  );
});

test('errors reach tritonclient as {"error"} with a 4xx naming the problem; nothing is logged for them', () => {
  const { errors } = seen;
  assert.equal(errors.unknownModel.status, '404');
  assert.match(errors.unknownModel.message, /model no-such-model is not deployed/);
  assert.equal(errors.unknownVersion.status, '404');
  assert.match(
    errors.unknownVersion.message,
    new RegExp(`does not serve version 999; it serves ${versions.champion} and ${versions.canary}`),
  );
  assert.equal(errors.wrongShape.status, '400');
  assert.match(errors.wrongShape.message, /input "precipitation": shape \[5,1\], but an input has one value per row/);
  assert.equal(errors.wrongDatatype.status, '400');
  assert.match(errors.wrongDatatype.message, /input "location": datatype FP32, but location is a category feature: send BYTES/);
  assert.equal(errors.fewerRows.status, '400');
  assert.match(errors.fewerRows.message, /input "precipitation": shape \[4\], but input "location" has 5 rows/);
  assert.equal(errors.keyMissing.status, '401');
  assert.match(errors.keyMissing.message, /requires an API key/);

  // Every prediction logged is one tritonclient was answered: 5 rows x 4 calls + 1 NaN + 5 keyed + 3 regression.
  const db = new Database(dbPath, { readonly: true });
  try {
    const counts = db.prepare('SELECT model, count(*) AS n FROM predictions GROUP BY model ORDER BY model').all();
    assert.deepEqual(counts, [
      { model: KEYED, n: 5 },
      { model: REGRESSION, n: 3 },
      { model: MODEL, n: 21 },
    ]);
  } finally {
    db.close();
  }
});

test('with its API key, a keyed model answers', () => {
  assert.equal(seen.keyed.head.model_version, versions.keyed);
  assert.equal(seen.keyed.outputs.id.data.length, 5);
});

/** A raw infer request: JSON, or a JSON header followed by binary data. */
async function rawInfer(request: unknown, options: { binary?: Buffer; headerLength?: string; contentType?: string; path?: string } = {}) {
  const json = Buffer.from(typeof request === 'string' ? request : JSON.stringify(request));
  const headers: Record<string, string> = {};
  if (options.contentType) headers['content-type'] = options.contentType;
  if (options.binary) headers['inference-header-content-length'] = options.headerLength ?? String(json.length);
  const response = await fetch(`${base}/v2/models/${MODEL}${options.path ?? `/versions/${versions.champion}/infer`}`, {
    method: 'POST',
    headers,
    body: options.binary ? Buffer.concat([json, options.binary]) : json,
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** ROWS as JSON input tensors. */
const jsonInputs = () =>
  FEATURES.map((name) => ({
    name,
    shape: [ROWS.length],
    datatype: name === LOCATION.name ? 'BYTES' : 'FP64',
    data: ROWS.map((r) => r[name]),
  }));

test('raw bodies: a JSON content type works; malformed bodies get a 400 naming the problem and log nothing', async () => {
  const db = new Database(dbPath, { readonly: true });
  const count = () => db.prepare('SELECT count(*) FROM predictions').pluck().get();
  try {
    const ok = await rawInfer({ inputs: jsonInputs() }, { contentType: 'application/json' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(
      ok.body.outputs.map((o: { name: string; shape: number[] }) => [o.name, o.shape]),
      [
        ['label', [5]],
        ['probabilities', [5, 5]],
        ['id', [5]],
      ],
    );
    // FP32 for a number feature is accepted too, in binary: the model sees (and the log keeps) the float32 value.
    const fp32 = Buffer.alloc(4 * ROWS.length);
    ROWS.forEach((r, i) => fp32.writeFloatLE(r.wind as number, i * 4));
    const fp32Inputs = jsonInputs().map((t) =>
      t.name === 'wind' ? { ...t, datatype: 'FP32', data: undefined, parameters: { binary_data_size: fp32.length } } : t,
    );
    const single = await rawInfer({ inputs: fp32Inputs, outputs: [{ name: 'id' }] }, { binary: fp32 });
    assert.equal(single.status, 200, JSON.stringify(single.body));
    assert.deepEqual(
      logged(single.body.outputs[0].data).map((l) => l.features.wind),
      ROWS.map((r) => Math.fround(r.wind as number)),
    );

    const before = count();
    const wind = Buffer.alloc(8 * ROWS.length);
    const binaryWind = jsonInputs().map((t) =>
      t.name === 'wind' ? { ...t, data: undefined, parameters: { binary_data_size: wind.length } } : t,
    );
    const cases: Array<[string, Promise<{ status: number; body: any }>, RegExp]> = [
      ['not JSON', rawInfer('{"inputs": ['), /not valid JSON/],
      ['no inputs', rawInfer({ inputs: [] }), /inputs: send at least one input/],
      [
        'an unknown input',
        rawInfer({ inputs: [...jsonInputs(), { name: 'humidity', shape: [5], datatype: 'FP64', data: [1, 2, 3, 4, 5] }] }),
        /input "humidity" is not a feature/,
      ],
      ['a missing input', rawInfer({ inputs: jsonInputs().filter((t) => t.name !== 'wind') }), /missing inputs: wind/],
      [
        'text in a number input',
        rawInfer({ inputs: jsonInputs().map((t) => (t.name === 'wind' ? { ...t, data: ['1', 2, 3, 4, 5] } : t)) }),
        /input "wind": data element 0 is "1", not a number/,
      ],
      [
        'too few elements',
        rawInfer({ inputs: jsonInputs().map((t) => (t.name === 'wind' ? { ...t, data: [1, 2] } : t)) }),
        /input "wind": 2 data elements for shape \[5\]/,
      ],
      [
        'an unknown output',
        rawInfer({ inputs: jsonInputs(), outputs: [{ name: 'confidence' }] }),
        /unknown outputs confidence; the model's outputs are label, probabilities, id/,
      ],
      [
        'a bad header length',
        rawInfer({ inputs: binaryWind }, { binary: wind, headerLength: 'abc' }),
        /Inference-Header-Content-Length must be/,
      ],
      [
        'binary data short of its size',
        rawInfer({ inputs: binaryWind }, { binary: wind.subarray(8) }),
        /input "wind": binary_data_size 40 is past the end/,
      ],
      [
        'binary data nobody claims',
        rawInfer({ inputs: binaryWind }, { binary: Buffer.concat([wind, Buffer.alloc(4)]) }),
        /4 bytes of binary data that no input's binary_data_size accounts for/,
      ],
    ];
    for (const [name, pending, message] of cases) {
      const { status, body } = await pending;
      assert.equal(status, 400, `${name}: ${JSON.stringify(body)}`);
      assert.match(body.error, message, name);
    }
    assert.equal(count(), before, 'nothing logged for a bad request');
    const unknownRoute = await fetch(`${base}/v2/models/${MODEL}/explain`);
    assert.equal(unknownRoute.status, 404);
    assert.match(((await unknownRoute.json()) as { error: string }).error, /no Open Inference Protocol route GET/);
  } finally {
    db.close();
  }
});
