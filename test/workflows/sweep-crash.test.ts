/**
 * Crash safety of a sweep, for real: the worker is a separate process, killed with SIGKILL
 * several times while trial rungs train, and started again. The sweep must finish with exactly
 * one MLflow run per trial, one metric point per epoch, and the same trials and best
 * configuration as an undisturbed sweep with the same seed.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities/index.ts';
import { trainingTaskQueue, sweepStatusQuery } from '../../core/messages.ts';
import type { SweepResult } from '../../core/sweep-loop.ts';
import { PROJECT_ROOT } from '../../stack/paths.ts';
import type { SweepInput } from '../../workflows/sweep.ts';
import { ADMIN_TOKEN, eventually, seedRecords, startStack, testSpec } from '../helpers/stack.ts';
import { mlflowUrl, onTeardown, temporalAddress } from '../helpers/services.ts';

let stack: Awaited<ReturnType<typeof startStack>>;
before(async () => {
  stack = await startStack();
});

const spec = testSpec({
  training: {
    window: { kind: 'all' },
    sweep: {
      families: {
        softmax: { learningRate: { type: 'float', low: 0.01, high: 0.3, log: true } },
        mlp: { width: { type: 'int', low: 4, high: 32, log: true }, learningRate: { type: 'float', low: 0.005, high: 0.05, log: true } },
      },
      sampler: 'tpe',
      tpe: { startupTrials: 2 },
      seed: 11,
      budget: { maxTrials: 6, maxEpochsPerTrial: 6 },
      earlyStopping: { kind: 'asha', minEpochs: 2, reductionFactor: 3 },
      parallelism: 2,
    },
  },
});

/** A worker process of its own, on its own task queue, that the test can kill. */
async function workerProcess(taskQueue: string): Promise<ChildProcess> {
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: await temporalAddress(),
    MLFLOW_TRACKING_URI: await mlflowUrl(),
    PERENNIAL_TASK_QUEUE: taskQueue,
    PERENNIAL_DATA_DIR: join(stack.dataDir, `worker-${randomUUID()}`),
    PERENNIAL_TRAINING_SLOTS: '2',
  };
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'worker', 'main.ts')], { env, stdio: 'ignore' });
  onTeardown(async () => void child.kill('SIGKILL'));
  return child;
}

/** The inputs a retrain would hand its sweep: a retrain run and a data snapshot. */
async function sweepInput(taskQueue: string): Promise<SweepInput> {
  const activities = createActivities({ mlflow: stack.mlflow, store: stack.store, serving: { url: stack.servingUrl, adminToken: ADMIN_TOKEN }, cacheDir: join(stack.dataDir, 'cache') });
  const env = new MockActivityEnvironment({ workflowExecution: { workflowId: `model/${spec.name}/retrain/${randomUUID()}`, runId: randomUUID() } });
  const retrainRun = await env.run(activities.startRetrainRun as never, { model: spec.name, n: 1, trigger: 'crash test', rules: ['manual'] }) as Awaited<ReturnType<typeof activities.startRetrainRun>>;
  const snapshot = await env.run(activities.snapshotTrainingData as never, { spec, retrainRun }) as Awaited<ReturnType<typeof activities.snapshotTrainingData>>;
  return { spec, snapshot, retrainRun, n: 1, trainingTaskQueue: trainingTaskQueue(taskQueue) };
}

async function startSweep(taskQueue: string) {
  return stack.client.temporal.workflow.start('sweep', { taskQueue, workflowId: `sweep-${randomUUID()}`, args: [await sweepInput(taskQueue)] });
}

test('a sweep whose worker is killed three times matches an undisturbed sweep with the same seed', { timeout: 15 * 60_000 }, async () => {
  seedRecords(stack.store, spec);

  const calmQueue = `calm-${randomUUID()}`;
  await workerProcess(calmQueue);
  const calm = (await (await startSweep(calmQueue)).result()) as SweepResult;

  const queue = `crash-${randomUUID()}`;
  let worker = await workerProcess(queue);
  const handle = await startSweep(queue);
  for (const atRungs of [1, 3, 6]) {
    await eventually(`${atRungs} finished rungs`, async () => ((await handle.query(sweepStatusQuery)).rungsDone >= atRungs ? true : undefined), 300_000);
    worker.kill('SIGKILL');
    worker = await workerProcess(queue);
  }
  const crashed = (await handle.result()) as SweepResult;

  assert.deepEqual(crashed.trials.map((t) => t.config), calm.trials.map((t) => t.config), 'same proposals');
  assert.deepEqual(crashed.trials.map((t) => t.objective), calm.trials.map((t) => t.objective), 'same results at every rung');
  assert.deepEqual(crashed.best.config, calm.best.config);

  const experimentId = (await stack.mlflow.getRun(crashed.sweepRunId)).experimentId;
  const trialRuns = await stack.mlflow.childRuns(experimentId, crashed.sweepRunId);
  assert.equal(trialRuns.length, spec.training.sweep.budget.maxTrials, 'exactly one MLflow run per trial');
  for (const run of trialRuns) {
    assert.equal(run.status, 'FINISHED');
    const epochs = Number(run.tags['perennial.epochs']);
    assert.equal((await stack.mlflow.metricHistory(run.runId, 'val_accuracy')).length, epochs, `trial ${run.tags['perennial.trial']}: one point per epoch`);
  }
});
