/**
 * Crash safety of a sweep, for real: the worker is a separate process, killed with SIGKILL
 * while trial rungs train (the test kills when Temporal reports a rung started and heartbeating
 * an epoch), and started again. The workflow history must show that the kills interrupted rungs,
 * a first rung and a later one, and that the later one was retried from its trial's checkpoint;
 * the sweep must finish with exactly one MLflow run per trial, the same per-epoch curves, trials
 * and best configuration as an undisturbed sweep with the same seed.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { before, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities/index.ts';
import { trainingTaskQueue } from '../../core/messages.ts';
import type { SweepResult } from '../../core/sweep-loop.ts';
import { PROJECT_ROOT } from '../../config/paths.ts';
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
      // Rungs of 2, 6 and 18 epochs: the later ones are long enough to be killed mid-rung.
      budget: { maxTrials: 6, maxEpochsPerTrial: 18 },
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
  const activities = createActivities({
    mlflow: stack.mlflow,
    store: stack.store,
    serving: { url: stack.servingUrl, adminToken: ADMIN_TOKEN },
    cacheDir: join(stack.dataDir, 'cache'),
  });
  const env = new MockActivityEnvironment({
    workflowExecution: { workflowId: `model/${spec.name}/retrain/${randomUUID()}`, runId: randomUUID() },
  });
  const retrainRun = (await env.run(activities.startRetrainRun as never, {
    model: spec.name,
    n: 1,
    trigger: 'crash test',
    rules: ['manual'],
  })) as Awaited<ReturnType<typeof activities.startRetrainRun>>;
  const snapshot = (await env.run(activities.snapshotTrainingData as never, { spec, retrainRun })) as Awaited<
    ReturnType<typeof activities.snapshotTrainingData>
  >;
  return { spec, snapshot, retrainRun, n: 1, trainingTaskQueue: trainingTaskQueue(taskQueue) };
}

async function startSweep(taskQueue: string) {
  return stack.client.temporal.workflow.start('sweep', {
    taskQueue,
    workflowId: `sweep-${randomUUID()}`,
    args: [await sweepInput(taskQueue)],
  });
}

/** A trial rung the worker is training now: Temporal's view of it, and its last heartbeat. */
interface RunningRung {
  activityId: string;
  attempt: number;
  heartbeat?: { trial: number; rung: number; epoch: number };
}

const decode = (payload?: { data?: Uint8Array | null } | null) =>
  payload?.data ? JSON.parse(Buffer.from(payload.data).toString('utf8')) : undefined;

async function pendingRungs(handle: WorkflowHandle): Promise<RunningRung[]> {
  const { raw } = await handle.describe();
  return (raw.pendingActivities ?? [])
    .filter((a) => a.activityType?.name === 'trainTrialRung')
    .map((a) => ({ activityId: a.activityId!, attempt: a.attempt ?? 1, heartbeat: decode(a.heartbeatDetails?.payloads?.[0]) }));
}

test(
  'a sweep whose worker is killed mid-rung resumes from checkpoints and matches an undisturbed sweep with the same seed',
  { timeout: 20 * 60_000 },
  async () => {
    await seedRecords(stack.store, spec);

    const calmQueue = `calm-${randomUUID()}`;
    await workerProcess(calmQueue);
    const calm = (await (await startSweep(calmQueue)).result()) as SweepResult;

    const queue = `crash-${randomUUID()}`;
    let worker = await workerProcess(queue);
    const handle = await startSweep(queue);
    /** What each kill caught: the rung's last heartbeat before it, by activity id. */
    const interrupted = new Map<string, RunningRung['heartbeat']>();

    // Kills the worker while a rung that `wanted` accepts is training, until one such kill has
    // interrupted its rung (a rung that finishes between the look and the kill is not interrupted).
    async function interruptRung(what: string, wanted: (rung: number) => boolean) {
      for (let tries = 0; tries < 4; tries++) {
        const target = await eventually(
          `a ${what} training`,
          async () => (await pendingRungs(handle)).find((r) => r.heartbeat && wanted(r.heartbeat.rung)),
          600_000,
        );
        worker.kill('SIGKILL');
        worker = await workerProcess(queue);
        // Lost with the worker, the rung is retried once its heartbeat times out; finished, it is gone.
        const retried = await eventually(
          `rung ${target.activityId} retried or finished`,
          async () => {
            const now = (await pendingRungs(handle)).find((r) => r.activityId === target.activityId);
            return now === undefined ? false : now.attempt >= 2 ? true : undefined;
          },
          180_000,
        );
        if (retried) return void interrupted.set(target.activityId, target.heartbeat);
      }
      assert.fail(`no kill caught a ${what} mid-rung in 4 tries`);
    }
    await interruptRung('first rung', (rung) => rung === 0);
    await interruptRung('later rung', (rung) => rung > 0);
    const crashed = (await handle.result()) as SweepResult;

    assert.deepEqual(
      crashed.trials.map((t) => t.config),
      calm.trials.map((t) => t.config),
      'same proposals',
    );
    assert.deepEqual(
      crashed.trials.map((t) => t.objective),
      calm.trials.map((t) => t.objective),
      'same results at every rung',
    );
    assert.deepEqual(crashed.best.config, calm.best.config);

    // The history: each interrupted rung completed on its second (or later) attempt after a
    // heartbeat timeout.
    const { events } = await handle.fetchHistory();
    const scheduled = new Map(
      events!
        .filter((e) => e.activityTaskScheduledEventAttributes)
        .map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes!]),
    );
    const completed = new Set(
      events!
        .filter((e) => e.activityTaskCompletedEventAttributes)
        .map((e) => String(e.activityTaskCompletedEventAttributes!.scheduledEventId)),
    );
    const retriedRungs = events!
      .filter((e) => e.activityTaskStartedEventAttributes && (e.activityTaskStartedEventAttributes.attempt ?? 1) >= 2)
      .map((e) => {
        const started = e.activityTaskStartedEventAttributes!;
        const task = scheduled.get(String(started.scheduledEventId))!;
        const input = decode(task.input?.payloads?.[0]) as { trial: number; rung: number; fromEpoch: number; toEpoch: number };
        return {
          activityId: task.activityId!,
          input,
          failure: started.lastFailure?.message ?? '',
          done: completed.has(String(started.scheduledEventId)),
        };
      })
      .filter((r) => interrupted.has(r.activityId));
    assert.equal(retriedRungs.length, 2, 'both interrupted rungs appear as retried in the history');
    for (const { activityId, input } of retriedRungs) {
      console.log(
        `killed mid-rung: trial ${input.trial} rung ${input.rung} (epochs ${input.fromEpoch + 1}..${input.toEpoch}) at epoch ${interrupted.get(activityId)!.epoch}`,
      );
    }
    for (const r of retriedRungs) {
      const beat = interrupted.get(r.activityId)!;
      assert.match(r.failure, /heartbeat/i, 'retried because the killed worker stopped heartbeating');
      assert.ok(r.done, `rung ${r.input.rung} of trial ${r.input.trial} completed after the kill`);
      // Its retry proves it had not finished; its heartbeat, that it had started training.
      assert.ok(
        beat.epoch > r.input.fromEpoch && beat.epoch <= r.input.toEpoch,
        `killed mid-rung: epoch ${beat.epoch} of ${r.input.fromEpoch + 1}..${r.input.toEpoch}`,
      );
    }
    const resumed = retriedRungs.find((r) => r.input.fromEpoch > 0)!;
    assert.ok(resumed, 'a later rung was interrupted');

    const experimentId = (await stack.mlflow.getRun(crashed.sweepRunId)).experimentId;
    const trialRuns = await stack.mlflow.childRuns(experimentId, crashed.sweepRunId);
    const calmRuns = await stack.mlflow.childRuns(experimentId, calm.sweepRunId);
    assert.equal(trialRuns.length, spec.training.sweep.budget.maxTrials, 'exactly one MLflow run per trial');
    const curve = async (runs: typeof trialRuns, trial: number) =>
      (await stack.mlflow.metricHistory(runs.find((r) => r.tags['perennial.trial'] === String(trial))!.runId, 'val_accuracy'))
        .map((p) => [p.step, p.value])
        .sort((x, y) => x[0] - y[0]);
    for (const run of trialRuns) {
      assert.equal(run.status, 'FINISHED');
      const epochs = Number(run.tags['perennial.epochs']);
      const trial = Number(run.tags['perennial.trial']);
      const points = await curve(trialRuns, trial);
      assert.deepEqual(
        points.map(([step]) => step),
        Array.from({ length: epochs }, (_, i) => i + 1),
        `trial ${trial}: one point per epoch`,
      );
      assert.deepEqual(points, await curve(calmRuns, trial), `trial ${trial}: the same curve as undisturbed`);
    }
    // The resumed rung started from the checkpoint its trial stored at the end of the rung before.
    const resumedRun = trialRuns.find((r) => r.tags['perennial.trial'] === String(resumed.input.trial))!;
    const checkpoint = await stack.mlflow.listArtifacts(resumedRun.artifactUri, `checkpoints/epoch-${resumed.input.fromEpoch}`);
    assert.ok(checkpoint.length > 0, `trial ${resumed.input.trial} has its epoch-${resumed.input.fromEpoch} checkpoint`);
  },
);
