/**
 * How the automl benchmark runs one sweep: the real activities, either called in-process by
 * core/sweep-loop.ts runSweep (through MockActivityEnvironment, like bench/orchestration/index.ts) or
 * driven by the `sweep` workflow on the Temporal dev server. Both get the same inputs: a fresh
 * retrain run (so no sweep reuses another's MLflow trial runs, which are keyed by the sweep run)
 * and a snapshot of the task's records.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities/index.ts';
import { loadSnapshot, splitSnapshot } from '../../activities/data.ts';
import { toRecords } from '../../client/dataset.ts';
import { trainingTaskQueue } from '../../core/messages.ts';
import { ModelSpec, type ModelSpecInput } from '../../core/spec.ts';
import { runSweep, type SweepProgress, type SweepResult } from '../../core/sweep-loop.ts';
import type { LocalStack } from '../../stack/local.ts';
import type { SweepInput } from '../../workflows/sweep.ts';
import { HOLDOUT_FRACTION, type Task } from '../shared/datasets.ts';
import { BENCH_TOKEN } from '../shared/stack.ts';
import type { RetrainRun, Snapshot } from '../../core/contracts.ts';

export type SweepSettings = NonNullable<NonNullable<ModelSpecInput['training']>['sweep']>;

export function taskSpec(task: Task, sweep: SweepSettings): ModelSpec {
  return ModelSpec.parse({
    name: task.name,
    features: task.features,
    label: task.label,
    training: { holdoutFraction: task.holdoutFraction ?? HOLDOUT_FRACTION, sweep },
    approval: { required: false },
  });
}

export async function createHarness(stack: LocalStack) {
  // The stack worker's cache folder: snapshots cached by either mode serve both.
  const ctx = {
    mlflow: stack.mlflow,
    store: stack.store,
    serving: { url: stack.servingUrl, adminToken: BENCH_TOKEN },
    cacheDir: join(stack.dataDir, 'cache'),
  };
  const activities = createActivities(ctx);
  // Without this export the stack worker fails every sweep workflow task, and execute() would wait forever.
  if (!('sweep' in (await import('../../workflows/index.ts'))))
    throw new Error('workflows/index.ts does not export the sweep workflow; the worker cannot run it');
  const imported = new Set<string>();

  /** A fresh retrain run and snapshot of the task's records (imported once per task). */
  async function prepare(task: Task, spec: ModelSpec) {
    if (!imported.has(task.name)) {
      await stack.store.addRecords(
        task.name,
        toRecords(
          task.rows,
          task.features.map((f) => f.name),
          task.label.name,
          'automl-bench',
        ),
      );
      imported.add(task.name);
    }
    const env = new MockActivityEnvironment({
      workflowExecution: { workflowId: `bench/${task.name}/${randomUUID()}`, runId: randomUUID() },
    });
    // An activity context (heartbeats, workflow identity) without a worker: the same code, called directly.
    const call = <I, O>(activity: (input: I) => Promise<O>, input: I): Promise<O> => env.run(activity as never, input) as Promise<O>;
    const retrainRun: RetrainRun = await call(activities.startRetrainRun, {
      model: spec.name,
      n: 1,
      trigger: 'automl benchmark',
      rules: ['manual'],
    });
    const snapshot: Snapshot = await call(activities.snapshotTrainingData, { spec, retrainRun });
    const report = await call(activities.validateSnapshot, { spec, snapshot, retrainRun });
    if (!report.ok) throw new Error(`${task.name}: snapshot failed validation:\n${report.failures.join('\n')}`);
    return { call, retrainRun, snapshot };
  }

  return {
    /** The sweep with the activities called in this process. */
    async inProcess(task: Task, spec: ModelSpec, onProgress?: (p: SweepProgress) => void) {
      const { call, retrainRun, snapshot } = await prepare(task, spec);
      const started = performance.now();
      const result = await runSweep(
        spec,
        {
          startSweepRun: () => call(activities.startSweepRun, { model: spec.name, n: 1, retrainRun, spec }),
          trainTrialRung: (request) => call(activities.trainTrialRung, { ...request, spec, snapshot }),
          closeTrial: (input) => call(activities.closeTrial, input),
          finishSweepRun: (input) => call(activities.finishSweepRun, { ...input, spec }),
          now: () => Date.now(),
        },
        onProgress,
      );
      return { result, ms: performance.now() - started, snapshot };
    },

    /** The same sweep as the `sweep` workflow on Temporal; trial rungs on the stack worker's training queue. */
    async onTemporal(task: Task, spec: ModelSpec) {
      const { retrainRun, snapshot } = await prepare(task, spec);
      const input: SweepInput = { spec, snapshot, retrainRun, n: 1, trainingTaskQueue: trainingTaskQueue(stack.client.taskQueue) };
      const started = performance.now();
      const result = (await stack.client.temporal.workflow.execute('sweep', {
        taskQueue: stack.client.taskQueue,
        workflowId: `bench/${task.name}/sweep/${randomUUID()}`,
        args: [input],
      })) as SweepResult;
      return { result, ms: performance.now() - started, snapshot };
    },

    /**
     * The trial rungs' own training time (metric train_ms, summed): the same work in every mode,
     * so where it differs between runs of one sweep, other load on the machine made it differ.
     */
    async trainingMs(sweepRunId: string) {
      const { experimentId } = await stack.mlflow.getRun(sweepRunId);
      let sum = 0;
      for (const trial of await stack.mlflow.childRuns(experimentId, sweepRunId)) {
        for (const point of await stack.mlflow.metricHistory(trial.runId, 'train_ms')) sum += point.value;
      }
      return sum;
    },

    /** The split every activity used for this snapshot and seed (activities/data.ts splitSnapshot). */
    async split(spec: ModelSpec, snapshot: Snapshot) {
      return splitSnapshot(await loadSnapshot(ctx, snapshot), spec.training.holdoutFraction, spec.training.sweep.seed);
    },
  };
}
