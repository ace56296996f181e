/**
 * The gbdt family through the whole loop on real services: a sweep over gradient-boosted trees
 * (rungs of 30 and 90 rounds, the second boosting on from the first's checkpoint in MLflow), the
 * best trial promoted, its gain importance and logged model in MLflow, and the model server
 * answering over HTTP (V1 and the Open Inference Protocol) exactly as the saved model predicts
 * here, including for a row with a missing number, and explaining by Tree SHAP.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { request } from 'undici';
import { experimentName } from '../../adapters/mlflow/model-files.ts';
import { downloadModelFiles } from '../../adapters/mlflow/model-files.ts';
import { loadPredictor } from '../../ml/bundle.ts';
import { gbdtMatrix } from '../../ml/gbdt/model-files.ts';
import { rawScores } from '../../ml/gbdt/tree.ts';
import { eventually, registerSeeded, startStack, testSpec } from '../helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
before(async () => {
  stack = await startStack();
});

const ROWS = [
  { precipitation: 0, temp_max: 25, temp_min: 14, wind: 3 },
  { precipitation: 12, temp_max: 9, temp_min: 4, wind: 6 },
  { precipitation: 1, temp_max: 1, temp_min: -4, wind: 5 },
  { precipitation: null, temp_max: 11, temp_min: 6, wind: 2 },
];

test('a gbdt sweep is promoted, explains its gain in MLflow and serves over HTTP as it predicts here', async () => {
  const base = testSpec();
  const spec = testSpec({
    training: {
      ...base.training,
      sweep: {
        ...base.training.sweep,
        families: {
          gbdt: {
            numLeaves: { type: 'int', low: 4, high: 31, log: true },
            learningRate: { type: 'float', low: 0.05, high: 0.3, log: true },
          },
        },
      },
    },
  });
  await registerSeeded(stack, spec);
  await eventually('champion v1', async () => ((await stack.client.status(spec.name)).championVersion === '1' ? true : undefined), 300_000);

  const version = await stack.mlflow.getModelVersion(spec.name, '1');
  const champion = await stack.mlflow.getRun(version.runId);
  const experimentId = await stack.mlflow.getOrCreateExperiment(experimentName(spec.name));
  const trials = await stack.mlflow.searchRuns([experimentId], "tags.`perennial.kind` = 'trial'");
  assert.equal(trials.length, 2);
  for (const trial of trials) {
    assert.equal(trial.params.family, 'gbdt');
    assert.equal(trial.tags['perennial.backend'], 'js');
  }
  assert.equal(champion.tags['perennial.rung_reached'], '1', 'the champion boosted through the top rung');

  const gain = JSON.parse(new TextDecoder().decode(await stack.mlflow.downloadArtifact(champion.artifactUri, 'importance/gain.json')));
  assert.deepEqual(Object.keys(gain).sort(), ['precipitation', 'temp_max', 'temp_min', 'wind']);
  assert.ok(Object.values(gain).every((g) => typeof g === 'number' && g >= 0));
  assert.ok(gain.precipitation > 0, JSON.stringify(gain));
  const svg = new TextDecoder().decode(await stack.mlflow.downloadArtifact(champion.artifactUri, 'importance/gain.svg'));
  assert.match(svg, /^<svg/);
  const mlmodel = new TextDecoder().decode(
    await stack.mlflow.downloadArtifact(
      (await stack.mlflow.getLoggedModel(champion.tags['perennial.logged_model_id'])).artifactUri,
      'MLmodel',
    ),
  );
  assert.match(mlmodel, /format: perennial-gbdt/);

  // The saved model here and the model server agree, to float32.
  const files = await downloadModelFiles(stack.mlflow, champion.artifactUri);
  const predictor = await loadPredictor(files);
  // 90 rounds boosted; the model predicts with those up to its best round on validation.
  const { rounds, bestRounds } = JSON.parse(new TextDecoder().decode(files['model.json']));
  assert.equal(rounds, 90);
  assert.ok(bestRounds >= 1 && bestRounds <= 90, `best round ${bestRounds}`);
  assert.ok(predictor.ensemble && predictor.ensemble.trees.flat().length === bestRounds * 5, 'five classes, bestRounds rounds');
  const local = predictor.predict(ROWS);
  const res = await request(`${stack.servingUrl}/v1/models/${spec.name}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rows: ROWS }),
  });
  assert.equal(res.statusCode, 200);
  const served = (
    (await res.body.json()) as { predictions: Array<{ label: string; probabilities: Record<string, number>; version: string }> }
  ).predictions;
  served.forEach((p, i) => {
    assert.equal(p.version, '1');
    assert.equal(p.label, local[i].label);
    for (const [c, v] of Object.entries(local[i].probabilities))
      assert.ok(Math.abs(p.probabilities[c] - v) < 1e-6, `${c}: ${p.probabilities[c]} vs ${v}`);
  });

  const inputs = ['precipitation', 'temp_max', 'temp_min', 'wind'].map((name) => ({
    name,
    shape: [3],
    datatype: 'FP64',
    data: ROWS.slice(0, 3).map((r) => r[name as keyof (typeof ROWS)[0]]),
  }));
  const v2 = await request(`${stack.servingUrl}/v2/models/${spec.name}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs }),
  });
  assert.equal(v2.statusCode, 200);
  const outputs = ((await v2.body.json()) as { outputs: Array<{ name: string; data: unknown[] }> }).outputs;
  assert.deepEqual(
    outputs.find((o) => o.name === 'label')!.data,
    local.slice(0, 3).map((p) => p.label),
  );

  // Tree SHAP of the champion over HTTP: per feature, adding up to the trees' raw score of the
  // predicted class, whose softmax is the served probability.
  const explained = await request(`${stack.servingUrl}/v1/models/${spec.name}/explain`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rows: ROWS }),
  });
  assert.equal(explained.statusCode, 200);
  const answer = (await explained.body.json()) as {
    method: string;
    version: string;
    explanations: Array<{ output: string; value: number; expected: number; attributions: Record<string, number> }>;
  };
  assert.deepEqual([answer.method, answer.version], ['tree-shap', '1']);
  answer.explanations.forEach((e, i) => {
    assert.equal(e.output, local[i].label);
    assert.deepEqual(Object.keys(e.attributions).sort(), ['precipitation', 'temp_max', 'temp_min', 'wind']);
    const sum = e.expected + Object.values(e.attributions).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - e.value) < 1e-9);
    const raw = rawScores(predictor.ensemble!, gbdtMatrix(predictor.preprocessor, [ROWS[i]]));
    const k = predictor.classes.indexOf(e.output);
    assert.ok(Math.abs(raw[k] - e.value) < 1e-9, `${raw[k]} vs ${e.value}`);
    const softmax = Math.exp(raw[k]) / raw.reduce((a, r) => a + Math.exp(r), 0);
    assert.ok(Math.abs(softmax - local[i].probabilities[e.output]) < 1e-6);
  });
  predictor.dispose();
});
