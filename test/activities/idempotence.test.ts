/**
 * Activities run twice (as a retry after a worker crash would run them) against the real MLflow
 * server and model server: no duplicate run, nested run or model version, and the second
 * training attempt reuses the first one's result.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type Activities } from '../../activities/index.ts';
import { experimentName } from '../../activities/mlflow/model-files.ts';
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
  seedRecords(stack.store, spec);
  const env = new MockActivityEnvironment({ workflowExecution: { workflowId: `model/${spec.name}/retrain/1`, runId: randomUUID() } });

  const [run, runAgain] = await twice(env, activities.startRetrainRun, { model: spec.name, n: 1, trigger: 'test', rules: ['manual'] });
  assert.equal(runAgain.runId, run.runId);
  const [snapshot, snapshotAgain] = await twice(env, activities.snapshotTrainingData, { spec, retrainRun: run });
  assert.equal(snapshotAgain.hash, snapshot.hash, 'the same window hashes the same');

  const trainInput = { spec, snapshot, candidateIndex: 0, retrainRun: run, n: 1 };
  const [candidate, candidateAgain] = await twice(env, activities.trainCandidate, trainInput);
  assert.deepEqual(candidateAgain, candidate, 'the second attempt reuses the finished run');

  const registerInput = { model: spec.name, candidateRunId: candidate.runId, retrainRunId: run.runId, trigger: 'test' };
  const [version, versionAgain] = await twice(env, activities.registerChallenger, registerInput);
  assert.equal(versionAgain.version, version.version);
  await twice(env, activities.deploy, { model: spec.name, champion: version.version, reason: 'test' });
  await twice(env, activities.promoteChampion, { model: spec.name, version: version.version });

  const experimentId = await stack.mlflow.getOrCreateExperiment(experimentName(spec.name));
  assert.equal((await stack.mlflow.searchRuns([experimentId], `tags.\`perennial.kind\` = 'retrain'`)).length, 1);
  const children = await stack.mlflow.childRuns(experimentId, run.runId);
  assert.equal(children.length, 1);
  assert.equal((await stack.mlflow.metricHistory(children[0].runId, 'loss')).length, spec.training.candidates[0].epochs, 'no doubled curve');
  const registered = await stack.mlflow.getRegisteredModel(spec.name);
  assert.deepEqual(registered?.latestVersions, ['1']);
  assert.equal(registered?.aliases.champion, '1');
});

test('a deployment naming a version that does not exist is refused and changes nothing', async () => {
  const spec = testSpec({ name: `t-${randomUUID().slice(0, 8)}` });
  const env = new MockActivityEnvironment();
  await assert.rejects(
    env.run(activities.deploy as never, { model: spec.name, champion: '99', reason: 'test' }),
    (err: Error) => err.name === 'ApplicationFailure' && /refused deployment \(4\d\d\)/.test(err.message),
  );
  assert.equal(stack.store.getDeployment(spec.name), undefined);
});
