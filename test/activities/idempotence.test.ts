/**
 * Activities run twice (as a retry after a worker crash would run them) against the real MLflow
 * server and model server: no duplicate run, nested run or model version, and a repeated
 * trial rung answers from the finished one. The evaluation logs the challenger's permutation
 * importance once (metrics, chart, and the comparison with the champion).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type Activities } from '../../activities/index.ts';
import { experimentName } from '../../adapters/mlflow/model-files.ts';
import { ADMIN_TOKEN, seedRecords, startStack, testSpec } from '../helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
let activities: Activities;
before(async () => {
  stack = await startStack();
  activities = createActivities({
    mlflow: stack.mlflow,
    store: stack.store,
    serving: { url: stack.servingUrl, adminToken: ADMIN_TOKEN },
    cacheDir: join(stack.dataDir, 'idempotence-cache'),
  });
});

/** Both calls run in the same activity context, the way a retried attempt sees it. */
function twice<I, O>(env: MockActivityEnvironment, activity: (input: I) => Promise<O>, input: I): Promise<[O, O]> {
  const call = () => env.run(activity as never, input) as Promise<O>;
  return call().then(async (first) => [first, await call()]);
}

test('a retrain whose every activity runs twice leaves one of everything in MLflow', async () => {
  const spec = testSpec();
  await seedRecords(stack.store, spec);
  const env = new MockActivityEnvironment({ workflowExecution: { workflowId: `model/${spec.name}/retrain/1`, runId: randomUUID() } });

  const [run, runAgain] = await twice(env, activities.startRetrainRun, { model: spec.name, n: 1, trigger: 'test', rules: ['manual'] });
  assert.equal(runAgain.runId, run.runId);
  const [snapshot, snapshotAgain] = await twice(env, activities.snapshotTrainingData, { spec, retrainRun: run });
  assert.equal(snapshotAgain.hash, snapshot.hash, 'the same window hashes the same');

  const [sweepRun, sweepRunAgain] = await twice(env, activities.startSweepRun, { model: spec.name, n: 1, retrainRun: run, spec });
  assert.equal(sweepRunAgain.runId, sweepRun.runId);
  const config = { family: 'softmax' as const, params: { learningRate: 0.05 } };
  const rung = (r: number, fromEpoch: number, toEpoch: number) => ({
    spec,
    snapshot,
    sweepRun,
    trial: 0,
    config,
    rung: r,
    fromEpoch,
    toEpoch,
  });
  const [first, firstAgain] = await twice(env, activities.trainTrialRung, rung(0, 0, 3));
  assert.deepEqual(firstAgain, first, 'the second attempt answers from the finished rung');
  const [second] = await twice(env, activities.trainTrialRung, rung(1, 3, 9));
  await twice(env, activities.closeTrial, { runId: second.runId, state: 'completed', rungReached: 1, epochs: 9 });
  const candidate = { runId: second.runId };

  await twice(env, activities.evaluateChallenger, { spec, snapshot, challengerRunId: candidate.runId, retrainRun: run });

  const registerInput = { model: spec.name, candidateRunId: candidate.runId, retrainRunId: run.runId, trigger: 'test' };
  const [version, versionAgain] = await twice(env, activities.registerChallenger, registerInput);
  assert.equal(versionAgain.version, version.version);
  await twice(env, activities.deploy, { model: spec.name, champion: version.version, reason: 'test' });
  await twice(env, activities.promoteChampion, { model: spec.name, version: version.version });

  const experimentId = await stack.mlflow.getOrCreateExperiment(experimentName(spec.name));
  assert.equal((await stack.mlflow.searchRuns([experimentId], `tags.\`perennial.kind\` = 'retrain'`)).length, 1);
  const [sweep, ...others] = await stack.mlflow.childRuns(experimentId, run.runId);
  assert.equal(others.length, 0);
  const trials = await stack.mlflow.childRuns(experimentId, sweep.runId);
  assert.equal(trials.length, 1);
  assert.equal((await stack.mlflow.metricHistory(trials[0].runId, 'loss')).length, 9, 'one curve point per epoch, none doubled');
  const registered = await stack.mlflow.getRegisteredModel(spec.name);
  assert.deepEqual(registered?.latestVersions, ['1']);
  assert.equal(registered?.aliases.champion, '1');

  // Evaluated again against the champion (the same model: the same shuffles cost both the same).
  await env.run(activities.evaluateChallenger, {
    spec,
    snapshot,
    challengerRunId: candidate.runId,
    championVersion: version.version,
    retrainRun: run,
  });
  const comparison = JSON.parse(
    new TextDecoder().decode(await stack.mlflow.downloadArtifact(run.artifactUri, 'importance/permutation.json')),
  );
  assert.equal(comparison.metric, 'accuracy');
  assert.equal(comparison.champion.name, `champion v${version.version}`);
  assert.deepEqual(comparison.champion.features, comparison.challenger.features);
  const importance = Object.fromEntries(comparison.challenger.features.map((f: { feature: string; mean: number }) => [f.feature, f.mean]));
  console.log(`permutation importance (accuracy lost): ${JSON.stringify(importance)}`);
  // Weather's label is mostly rain or sun: precipitation matters most.
  assert.equal(Object.entries(importance).sort((a, b) => (b[1] as number) - (a[1] as number))[0][0], 'precipitation');

  // The evaluation's permutation importance: one point per feature on the challenger's run, the chart and the numbers.
  const features = spec.features.map((f) => f.name);
  for (const feature of features) {
    const points = await stack.mlflow.metricHistory(candidate.runId, `importance.${feature}`);
    assert.equal(points.length, 1, `importance.${feature}: one point, none doubled`);
    assert.equal(points[0].value, importance[feature]);
  }
  const { artifactUri } = await stack.mlflow.getRun(candidate.runId);
  const listed = (await stack.mlflow.listArtifacts(artifactUri, 'importance')).map((a) => a.path).sort();
  assert.deepEqual(listed, ['importance/permutation.json', 'importance/permutation.svg', 'importance/permutation.vl.json']);
  const svg = new TextDecoder().decode(await stack.mlflow.downloadArtifact(artifactUri, 'importance/permutation.svg'));
  for (const feature of features) assert.ok(svg.includes(`>${feature}<`), `the chart labels ${feature}`);
});

test('a deployment naming a version that does not exist is refused and changes nothing', async () => {
  const spec = testSpec({ name: `t-${randomUUID().slice(0, 8)}` });
  const env = new MockActivityEnvironment();
  await assert.rejects(
    env.run(activities.deploy as never, { model: spec.name, champion: '99', reason: 'test' }),
    (err: Error) => err.name === 'ApplicationFailure' && /refused deployment \(4\d\d\)/.test(err.message),
  );
  assert.equal(await stack.store.getDeployment(spec.name), undefined);
});
