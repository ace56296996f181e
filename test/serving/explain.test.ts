/**
 * `POST /v1/models/:model/explain` over HTTP on the real model server: a real softmax weather
 * model answers with sampled Shapley values per feature that add up (with the expected value) to
 * the probability it predicts, and agree with exact interventional Shapley values computed here by
 * brute force against the same background; a tree model answers with Tree SHAP in raw score
 * space; a regression model explains its value; a cnn its image as one feature; bad bodies get a
 * 400 naming the field, an unknown model a 404, a keyed model a 401.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPredictor, servingFiles, type Predictor } from '../../ml/bundle.ts';
import { trainTrial } from '../../ml/train.ts';
import { toMatrix } from '../../ml/preprocess.ts';
import { rawScores, type Tree, type TreeEnsemble } from '../../ml/gbdt/tree.ts';
import { BACKGROUND_ROWS, EXPLAIN_SEED } from '../../ml/explain/explain.ts';
import { profileBackground } from '../../ml/explain/background.ts';
import { composeRows, featureGroups } from '../../ml/explain/feature-groups.ts';
import { exactShapley, interventionalValue } from '../../ml/explain/shapley.ts';
import { CLASSES, FEATURES, call, featuresOf, startLocalServer, weatherRows } from '../helpers/local-models.ts';
import { tempDir } from '../helpers/services.ts';

const TOKEN = 'explain-admin';
const weather = weatherRows();
const ROW = featuresOf(weather[1200]);
let server: Awaited<ReturnType<typeof startLocalServer>>;
let network: Predictor;
let trees: Predictor;

const PIXELS = Array.from({ length: 64 }, (_, i) => `p${i}`);

/** The 8x8 digits fixture: 64 pixel features (0-16) and the digit. */
function digits(): Array<{ pixels: Record<string, number>; digit: string }> {
  const fixture = JSON.parse(readFileSync(new URL('../fixtures/digits.json', import.meta.url), 'utf8')) as {
    images: string[];
    labels: number[];
  };
  return fixture.images.map((s, i) => ({
    pixels: Object.fromEntries([...s].map((c, p) => [PIXELS[p], parseInt(c, 17)])),
    digit: String(fixture.labels[i]),
  }));
}

const explain = (model: string, body: unknown, token?: string) => call(server.base, 'POST', `/v1/models/${model}/explain`, body, token);
const deploy = (model: string, body: unknown) => call(server.base, 'PUT', `/admin/models/${model}/deployment`, body, TOKEN);

/** A leaf or a split on a standardised column, covers adding up. */
const stump = (column: number, threshold: number, values: [number, number], covers: [number, number]): Tree => ({
  feature: Int32Array.of(column, -1, -1),
  threshold: Float64Array.of(threshold, 0, 0),
  missingLeft: Uint8Array.of(1, 0, 0),
  left: Int32Array.of(1, -1, -1),
  right: Int32Array.of(2, -1, -1),
  value: Float64Array.of(0, ...values),
  cover: Float64Array.of(covers[0] + covers[1], ...covers),
  gain: Float64Array.of(1, 0, 0),
});

/** A boosted-trees model as the lead will serve gbdt ones: the network's files (preprocessor, profile) with a tree ensemble predicting. */
function treeModel(base: Predictor): Predictor {
  const ensemble: TreeEnsemble = {
    nOutputs: CLASSES.length,
    trees: CLASSES.map((_, k) => [stump(0, 0.1 * k, [0.5 * k, -0.3], [60, 40]), stump(1 + (k % 3), -0.2, [-0.4, 0.2 * k], [30, 70])]),
    base: Float64Array.from(CLASSES, (_, k) => 0.1 * k),
    link: 'softmax',
    nColumns: FEATURES.length,
  };
  const probabilities = (rows: ReadonlyArray<Record<string, unknown>>) => {
    const x = toMatrix(base.preprocessor, rows);
    const out = new Float32Array(rows.length * CLASSES.length);
    rows.forEach((_, i) => {
      const raw = rawScores(ensemble, x.subarray(i * FEATURES.length, (i + 1) * FEATURES.length));
      const max = Math.max(...raw);
      const exp = raw.map((v) => Math.exp(v - max));
      const total = exp.reduce((a, v) => a + v, 0);
      exp.forEach((v, k) => (out[i * CLASSES.length + k] = v / total));
    });
    return out;
  };
  const predict = (rows: ReadonlyArray<Record<string, unknown>>) => {
    const p = probabilities(rows);
    return rows.map((_, i) => {
      const probs = Object.fromEntries(CLASSES.map((c, k) => [c, p[i * CLASSES.length + k]]));
      return { label: CLASSES.reduce((a, c) => (probs[c] > probs[a] ? c : a)), probabilities: probs };
    });
  };
  return { ...base, ensemble, probabilities, predict, dispose: () => {} };
}

before(async () => {
  const rows = weather.slice(0, 400);
  const { checkpoint } = await trainTrial({
    config: { family: 'softmax', params: { learningRate: 0.1 } },
    features: FEATURES,
    classes: CLASSES,
    train: { rows: rows.map((r) => featuresOf(r)), labels: rows.map((r) => r.weather) },
    validation: { rows: rows.slice(0, 40).map((r) => featuresOf(r)), labels: rows.slice(0, 40).map((r) => r.weather) },
    seed: 1,
    fromEpoch: 0,
    toEpoch: 20,
  });
  const files = servingFiles(checkpoint);
  network = await loadPredictor(files);
  trees = treeModel(network);
  const images = digits().slice(0, 300);
  const cnn = await trainTrial({
    config: { family: 'cnn', params: { filters: 4, dense: 16, learningRate: 0.01 } },
    features: PIXELS,
    classes: [...'0123456789'],
    image: { height: 8, width: 8, channels: 1 },
    train: { rows: images.map((d) => d.pixels), labels: images.map((d) => d.digit) },
    validation: { rows: images.slice(0, 30).map((d) => d.pixels), labels: images.slice(0, 30).map((d) => d.digit) },
    seed: 1,
    fromEpoch: 0,
    toEpoch: 2,
  });
  // A regression model of temp_max from the other three.
  const inputs = FEATURES.filter((f) => f !== 'temp_max');
  const regression = await trainTrial({
    config: { family: 'softmax', params: { learningRate: 0.05 } },
    features: inputs,
    classes: [],
    labelType: 'number',
    train: { rows: rows.map((r) => featuresOf(r, inputs)), labels: rows.map((r) => String(r.temp_max)) },
    validation: { rows: rows.slice(0, 40).map((r) => featuresOf(r, inputs)), labels: rows.slice(0, 40).map((r) => String(r.temp_max)) },
    seed: 1,
    fromEpoch: 0,
    toEpoch: 10,
  });
  server = await startLocalServer(join(tempDir(), 'perennial.sqlite'), TOKEN, {
    '1': files,
    '3': servingFiles(regression.checkpoint),
    '5': servingFiles(cnn.checkpoint),
    '2': files,
    '7': async () => trees,
  });
  assert.equal(
    (await deploy('weather', { champion: { version: '1' }, canary: { version: '2', weight: 0.5 }, reason: 'explain' })).status,
    200,
  );
  assert.equal((await deploy('trees', { champion: { version: '7' }, reason: 'explain trees' })).status, 200);
  assert.equal((await deploy('temperature', { champion: { version: '3' }, reason: 'explain regression' })).status, 200);
  assert.equal((await deploy('digits', { champion: { version: '5' }, reason: 'explain images' })).status, 200);
});

after(async () => {
  network?.dispose();
  await server?.stop();
});

test('a network is explained by sampled Shapley values that add up to its probability and match brute force', async () => {
  await explain('weather', { rows: [ROW], samples: 8 }); // warm-up: the first call compiles the model's kernels
  const started = performance.now();
  const response = await explain('weather', { rows: [ROW], samples: 256 });
  const ms = performance.now() - started;
  assert.equal(response.status, 200, response.text);
  const answer = response.body;
  assert.equal(answer.version, '1', 'the champion is explained, not a routing draw');
  assert.equal(answer.role, 'champion');
  assert.equal(answer.method, 'sampled-shapley');
  assert.deepEqual(answer.background, { rows: BACKGROUND_ROWS, from: 'profile.json, each feature drawn independently' });
  const [e] = answer.explanations;
  assert.equal(e.method, 'sampled-shapley');
  assert.equal(e.space, 'probability');
  assert.deepEqual(Object.keys(e.attributions), FEATURES);
  // The predicted class by default, and its probability is what is explained.
  const predicted = network.predict([ROW])[0];
  assert.equal(e.output, predicted.label);
  assert.ok(Math.abs(e.value - predicted.probabilities[e.output]) < 1e-6);
  const total = e.expected + FEATURES.reduce((a, f) => a + e.attributions[f], 0);
  assert.ok(Math.abs(total - e.value) < 1e-6, `expected + attributions = ${total}, probability ${e.value}`);

  // Brute force over all 16 coalitions, against the background the server drew from the profile.
  const k = CLASSES.indexOf(e.output);
  const background = profileBackground(network.profile, FEATURES, BACKGROUND_ROWS, EXPLAIN_SEED);
  const groups = featureGroups(network.preprocessor);
  const predict = (rows: Array<Record<string, unknown>>) => {
    const p = network.probabilities(rows);
    return Float64Array.from(rows, (_, i) => p[i * CLASSES.length + k]);
  };
  const exact = exactShapley(
    FEATURES.length,
    interventionalValue<Record<string, unknown>>(ROW, background, composeRows(groups), FEATURES.length, predict),
  );
  const lines = FEATURES.map(
    (f, i) => `${f}: ${e.attributions[f].toFixed(4)} ± ${e.standardErrors[f].toFixed(4)} (exact ${exact[i].toFixed(4)})`,
  );
  console.log(`explain, 1 row, 256 samples: ${ms.toFixed(0)} ms over HTTP\n${lines.join('\n')}`);
  FEATURES.forEach((f, i) => {
    assert.ok(e.standardErrors[f] > 0, `${f} has a standard error`);
    assert.ok(Math.abs(e.attributions[f] - exact[i]) <= 4 * e.standardErrors[f] + 1e-4, lines[i]);
  });
  assert.ok(
    FEATURES.some((_, i) => Math.abs(exact[i]) > 0.01),
    'the model uses its features',
  );

  // Another class on request; the same request gets the same answer.
  const other = CLASSES.find((c) => c !== e.output)!;
  const again = await explain('weather', { rows: [ROW, ROW], samples: 256, output: other });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.explanations[0].output, other);
  assert.deepEqual(again.body.explanations[0], again.body.explanations[1]);
  // A value the model cannot use is treated as missing and the answer says so, as predict does.
  const odd = await explain('weather', { rows: [{ ...ROW, wind: 'windy', temp_min: 1e300 }], samples: 8 });
  assert.equal(odd.status, 200, odd.text);
  assert.deepEqual(odd.body.explanations[0].warnings.map((w: string) => w.split(':')[0]).sort(), ['temp_min', 'wind']);
  assert.match(odd.body.explanations[0].warnings.join('\n'), /wind: "windy" is not a number; treated as missing/);
  // A served version by name.
  const canary = await explain('weather', { rows: [ROW], samples: 8, version: '2' });
  assert.equal(canary.status, 200, canary.text);
  assert.equal(canary.body.role, 'canary');
});

test('a tree model is explained by Tree SHAP in raw score space', async () => {
  const response = await explain('trees', { rows: [ROW, { ...ROW, precipitation: 30 }] });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.body.method, 'tree-shap');
  assert.equal(response.body.samples, undefined);
  for (const [i, e] of (response.body.explanations as any[]).entries()) {
    assert.equal(e.space, 'raw-score');
    assert.equal(e.standardErrors, undefined);
    const total = e.expected + FEATURES.reduce((a, f) => a + e.attributions[f], 0);
    assert.ok(Math.abs(total - e.value) < 1e-9);
    // The value is the explained class's raw score, the class the model predicts.
    const row = i === 0 ? ROW : { ...ROW, precipitation: 30 };
    const raw = rawScores(trees.ensemble!, toMatrix(trees.preprocessor, [row]));
    assert.ok(Math.abs(e.value - raw[CLASSES.indexOf(e.output)]) < 1e-9, `value ${e.value}, raw scores ${raw.join(', ')}`);
    const served = (await call(server.base, 'POST', '/v1/models/trees/predict', { rows: [row] })).body;
    assert.equal(e.output, served.predictions[0].label);
  }
  assert.notEqual(response.body.explanations[0].attributions.precipitation, response.body.explanations[1].attributions.precipitation);
});

test('a regression model explains its value', async () => {
  const row = featuresOf(ROW, ['precipitation', 'temp_min', 'wind']);
  const response = await explain('temperature', { rows: [row], samples: 64 });
  assert.equal(response.status, 200, response.text);
  const [e] = response.body.explanations;
  assert.equal(e.output, 'value');
  assert.equal(e.space, 'value');
  assert.deepEqual(Object.keys(e.attributions), ['precipitation', 'temp_min', 'wind']);
  const served = (await call(server.base, 'POST', '/v1/models/temperature/predict', { rows: [row] })).body.predictions[0];
  assert.ok(Math.abs(e.value - served.value) < 1e-4, `explained ${e.value}, served ${served.value}`);
  assert.ok(Math.abs(e.expected + Object.values(e.attributions as Record<string, number>).reduce((a, v) => a + v, 0) - e.value) < 1e-6);
  // temp_min carries most of temp_max.
  assert.ok(Math.abs(e.attributions.temp_min) > Math.abs(e.attributions.wind), JSON.stringify(e.attributions));
  const refused = await explain('temperature', { rows: [row], output: 'rain' });
  assert.equal(refused.status, 400);
  assert.match(refused.body.message, /output: a regression model has one output/);
});

test('an image model attributes its image as one feature, and says so', async () => {
  const image = digits()[400].pixels;
  const response = await explain('digits', { rows: [image] });
  assert.equal(response.status, 200, response.text);
  assert.equal(response.body.method, 'sampled-shapley');
  assert.equal(response.body.note, 'the 64 pixel features (p0..p63) are attributed as one feature, "image"');
  const [e] = response.body.explanations;
  assert.deepEqual(Object.keys(e.attributions), ['image']);
  // One player: its attribution is all of the difference from the expected value.
  assert.ok(Math.abs(e.expected + e.attributions.image - e.value) < 1e-9);
  const served = (await call(server.base, 'POST', '/v1/models/digits/predict', { rows: [image] })).body.predictions[0];
  assert.equal(e.output, served.label);
  assert.ok(Math.abs(e.value - served.probabilities[e.output]) < 1e-6);
});

test('bad explain bodies get a 400 naming the field; an unknown model 404; a keyed model 401 without its key', async () => {
  const bad: Array<[unknown, RegExp]> = [
    [{}, /rows/],
    [{ rows: [] }, /rows: send at least one row/],
    [{ rows: Array(11).fill(ROW) }, /rows: send at most 10 rows/],
    [{ rows: [{ ...ROW, wind: [1] }] }, /rows\.0\.wind/],
    [{ rows: [{ precipitation: 0 }] }, /rows\.0: missing temp_max, temp_min, wind/],
    [{ rows: [ROW], samples: 0 }, /samples: at least 2/],
    [{ rows: [ROW], samples: 2.5 }, /samples: a whole number/],
    [{ rows: [ROW], samples: 1e6 }, /samples: at most 2048/],
    // 6 model rows per sample for 4 features: 10 rows x 2048 samples would put 122,880 rows to the model.
    [{ rows: Array(10).fill(ROW), samples: 2048 }, /samples: at most 833 for 10 row\(s\) of this model/],
    [{ rows: [ROW], output: 'hail' }, /output: "hail" is not a class of weather v1/],
    [{ rows: [ROW], version: 'latest' }, /version: a registered version number/],
    [{ rows: [ROW], sample: 8 }, /sample/],
  ];
  for (const [body, message] of bad) {
    const response = await explain('weather', body);
    assert.equal(response.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${response.text}`);
    assert.equal(response.body.error, 'invalid_request');
    assert.match(response.body.message, message);
  }
  const unknown = await explain('no-such-model', { rows: [ROW] });
  assert.equal(unknown.status, 404);
  assert.match(unknown.body.message, /no-such-model is not deployed/);

  const created = await call(server.base, 'POST', '/admin/models/trees/api-keys', { name: 'app' }, TOKEN);
  assert.equal(created.status, 201);
  assert.equal((await explain('trees', { rows: [ROW] })).status, 401);
  assert.equal((await explain('trees', { rows: [ROW] }, created.body.key)).status, 200);
});
