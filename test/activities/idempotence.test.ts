/**
 * Activities run twice (as a retry after a worker crash would run them) against the real MLflow
 * server and model server: no duplicate run, nested run or model version, and a repeated
 * trial rung answers from the finished one.
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
