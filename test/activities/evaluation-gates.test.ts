/**
 * runEvaluationGates in-process on a real MLflow server and a real SQLite store, with two real
 * tfjs models: a champion trained on the oldest rows, a challenger on later ones. Every gate's
 * numbers are checked against an independent evaluation of the same models (ml/bundle.ts
 * evaluate on the rows picked by hand), and against what was recorded in MLflow.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ActivityContext } from '../../activities/context.ts';
import { dataActivities, splitSnapshot, loadSnapshot } from '../../activities/data.ts';
import { EVALUATION_JSON, evaluationGateActivities } from '../../activities/evaluation-gates.ts';
import { MlflowClient } from '../../adapters/mlflow/client.ts';
import { experimentName, uploadModelFiles } from '../../adapters/mlflow/model-files.ts';
import { openStore } from '../../adapters/store/index.ts';
import type { ModelFiles } from '../../core/contracts.ts';
import { ModelSpec } from '../../core/spec.ts';
import { evaluate, loadPredictor, MODEL_JSON, WEIGHTS_BIN } from '../../ml/bundle.ts';
import { CLASSES, FEATURES, featuresOf, trainModel, weatherRows } from '../helpers/local-models.ts';
import { mlflowUrl, tempDir } from '../helpers/services.ts';

const close = (actual: number | undefined, expected: number, what: string) =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-6, `${what}: ${actual} vs ${expected}`);

let mlflow: MlflowClient;
after(() => mlflow?.close());

test('every gate measured in the worker: older data from a source, slices, size and speed, recorded in MLflow', async () => {
  mlflow = new MlflowClient(await mlflowUrl());
  const store = await openStore(join(tempDir(), 'log.sqlite'));
  const ctx = { mlflow, store, cacheDir: tempDir(), serving: { url: '', adminToken: '' } } as ActivityContext;
  const spec = ModelSpec.parse({
    name: `gates-${randomUUID().slice(0, 8)}`,
    features: FEATURES.map((name) => ({ name })),
    label: { name: 'weather', classes: CLASSES },
    training: { window: { kind: 'all' } },
    evaluation: {
      olderData: {
        reference: { kind: 'source', source: 'golden' },
        maxRows: 100,
        minRows: 10,
        thresholds: [{ metric: 'accuracy', lowerBound: 0.99 }],
      },
      slices: { columns: ['precipitation'], minRows: 15 },
      size: { maxParams: 1 },
      speed: { batchRows: 8, repeats: 5, maxSlowdown: 100 },
    },
  });
  const rows = weatherRows();
  const asRecords = (slice: typeof rows, source: string) => slice.map((r) => ({ features: featuresOf(r), label: r.weather, source }));
  await store.addRecords(spec.name, asRecords(rows.slice(0, 120), 'golden'));
  await store.addRecords(spec.name, asRecords(rows.slice(400, 800), 'recent'));

  // A champion registered in MLflow, a challenger that is a trial run, and the retrain's run.
  const experimentId = await mlflow.getOrCreateExperiment(experimentName(spec.name));
  const runOf = async (name: string, files?: ModelFiles) => {
    const { run } = await mlflow.findOrCreateRun({ experimentId, key: `${spec.name}-${name}`, runName: name });
    if (files) await uploadModelFiles(mlflow, run.artifactUri, files);
    return run;
  };
  const championFiles = await trainModel(rows, 0, 1);
  const challengerFiles = await trainModel(rows, 600, 2);
  const championRun = await runOf('champion', championFiles);
  const challengerRun = await runOf('challenger', challengerFiles);
  const retrainRun = await runOf('retrain');
  await mlflow.ensureRegisteredModel(spec.name);
  const { version } = await mlflow.findOrCreateModelVersion({
    name: spec.name,
    source: `${championRun.artifactUri}/model`,
    runId: championRun.runId,
    // As registerChallenger tags it: the champion's training snapshot is this retrain's (below).
    tags: { 'perennial.retrain_run_id': retrainRun.runId },
  });

  const snapshot = await dataActivities(ctx).snapshotTrainingData({ spec, retrainRun });
  const results = await evaluationGateActivities(ctx).runEvaluationGates({
    spec,
    snapshot,
    challengerRunId: challengerRun.runId,
    championVersion: version.version,
    retrainRun,
  });
  assert.deepEqual(
    results.map((r) => [r.gate, r.passed, r.skipped ?? false]),
    [
      ['olderData', false, false],
      ['slices', true, false],
      ['size', false, false],
      ['speed', true, false],
    ],
  );
  const [older, slices, size, speed] = results;

  const challenger = await loadPredictor(challengerFiles);
  const champion = await loadPredictor(championFiles);
  const scoreBoth = (picked: typeof rows) => ({
    challenger: evaluate(
      challenger,
      picked,
      picked.map((r) => String(r.weather)),
    ),
    champion: evaluate(
      champion,
      picked,
      picked.map((r) => String(r.weather)),
    ),
  });

  // Older data: the newest 100 of the 120 golden records (ids 21..120), both models.
  const golden = scoreBoth(rows.slice(20, 120));
  assert.equal(older.metrics['gate.older_data.rows'], 100);
  for (const who of ['challenger', 'champion'] as const) {
    close(older.metrics[`gate.older_data.${who}.accuracy`], golden[who].accuracy, `${who} accuracy`);
    close(older.metrics[`gate.older_data.${who}.log_loss`], golden[who].logLoss, `${who} log loss`);
  }
  assert.match(older.lines[0], /^100 reference records \(source "golden", ids 21\.\.120\): /);
  assert.match(older.lines[1], /^accuracy 0\.\d{4} >= lowerBound 0\.9900: fails$/);

  // Slices: precipitation 0 is the big slice of the holdout (the newest 20% of the snapshot).
  const { holdout } = splitSnapshot(await loadSnapshot(ctx, snapshot), 0.2, spec.training.sweep.seed);
  const dry = holdout.filter((r) => r.precipitation === 0) as typeof rows;
  assert.ok(dry.length >= 15, `${dry.length} dry holdout rows`);
  const drySlice = scoreBoth(dry);
  assert.equal(slices.metrics['gate.slices.precipitation:0.rows'], dry.length);
  close(slices.metrics['gate.slices.precipitation:0.challenger.accuracy'], drySlice.challenger.accuracy, 'dry challenger');
  close(slices.metrics['gate.slices.precipitation:0.champion.accuracy'], drySlice.champion.accuracy, 'dry champion');

  // Size: a softmax layer, (inputs + 1) x classes weights of 4 bytes, plus the topology.
  const params = (challenger.preprocessor.nInputs + 1) * CLASSES.length;
  assert.equal(size.metrics['gate.size.challenger.params'], params);
  assert.equal(
    size.metrics['gate.size.challenger.bytes'],
    challengerFiles[MODEL_JSON].byteLength + challengerFiles[WEIGHTS_BIN].byteLength,
  );
  assert.equal(challengerFiles[WEIGHTS_BIN].byteLength, params * 4);
  assert.equal(size.metrics['gate.size.ratio_to_champion'], 1);
  assert.equal(size.lines[1], `parameters ${params} <= maxParams 1: fails`);

  // Speed: both timed; the lines say so.
  assert.ok(speed.metrics['gate.speed.challenger.p50_ms'] > 0 && speed.metrics['gate.speed.champion.p99_ms'] > 0);
  assert.match(speed.lines[0], /^5 timed predictions of 8 rows: challenger p50 [\d.]+ ms, p99 [\d.]+ ms; champion p50 /);

  // MLflow: the artifact holds every result; the metrics and the tag are on the retrain's run.
  const recorded = JSON.parse(Buffer.from(await mlflow.downloadArtifact(retrainRun.artifactUri, EVALUATION_JSON)).toString('utf8'));
  assert.deepEqual(recorded, { challengerRunId: challengerRun.runId, championVersion: version.version, passed: false, gates: results });
  const run = await mlflow.getRun(retrainRun.runId);
  assert.equal(run.tags['perennial.gates'], 'failed');
  for (const r of results) for (const [key, value] of Object.entries(r.metrics)) assert.equal(run.metrics[key], value, key);

  // The champion's training period: records up to the id it learned through, or, when the
  // lifecycle does not know that id, the last rows of the champion's own training snapshot.
  const periodSpec = ModelSpec.parse({ ...spec, evaluation: { olderData: { maxRows: 50, minRows: 10 } } });
  const gates = evaluationGateActivities(ctx);
  const olderDataOn = async (championTrainedThrough?: number) => {
    const [result] = await gates.runEvaluationGates({
      spec: periodSpec,
      snapshot,
      challengerRunId: challengerRun.runId,
      championVersion: version.version,
      championTrainedThrough,
      retrainRun,
    });
    return result;
  };
  const throughId = await olderDataOn(60);
  assert.match(throughId.lines[0], /^50 reference records \(the champion's training period, records up to id 60, ids 11\.\.60\): /);
  close(throughId.metrics['gate.older_data.challenger.accuracy'], scoreBoth(rows.slice(10, 60)).challenger.accuracy, 'ids 11..60');
  const fromSnapshot = await olderDataOn(undefined);
  assert.match(
    fromSnapshot.lines[0],
    new RegExp(`^50 reference records \\(the champion's training snapshot \\(retrain run ${retrainRun.runId}\\), its last 50 rows\\): `),
  );
  close(fromSnapshot.metrics['gate.older_data.champion.accuracy'], scoreBoth(rows.slice(750, 800)).champion.accuracy, 'snapshot');
  challenger.dispose();
  champion.dispose();
  await store.close();
});
