/**
 * What Temporal costs a retrain: the retrain workflow on the dev server vs the very same
 * activities called one after another in this process (anchor: "in-process"). Both train the
 * same candidates on the same snapshot; the ratio is the orchestration overhead.
 */
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities/index.ts';
import { toRecords } from '../../client/dataset.ts';
import { ModelSpec } from '../../core/spec.ts';
import { runSweep } from '../../core/sweep-loop.ts';
import { weatherData } from '../../stack/demo.ts';
import type { LocalStack } from '../../stack/local.ts';
import { BENCH_TOKEN } from '../shared/stack.ts';
import { median } from '../../core/stats/quantiles.ts';
import type { Benchmark } from '../shared/benchmark.ts';

const ROUNDS = 3;

function benchSpec(): ModelSpec {
  return ModelSpec.parse({
    name: `bench-${randomUUID().slice(0, 8)}`,
    features: ['precipitation', 'temp_max', 'temp_min', 'wind'].map((name) => ({ name })),
    label: { name: 'weather', classes: ['drizzle', 'fog', 'rain', 'snow', 'sun'] },
    training: {
      sweep: {
        families: {
          softmax: { learningRate: { type: 'float', low: 0.01, high: 0.2, log: true } },
          mlp: { width: { type: 'int', low: 8, high: 32 } },
        },
        sampler: 'random',
        budget: { maxTrials: 4, maxEpochsPerTrial: 18 },
        earlyStopping: { kind: 'asha', minEpochs: 6, reductionFactor: 3 },
        parallelism: 2,
      },
    },
    approval: { required: false },
  });
}

/** The retrain's steps without Temporal: the baseline the workflow is measured against. */
async function retrainInProcess(stack: LocalStack, spec: ModelSpec) {
  const activities = createActivities({
    mlflow: stack.mlflow,
    store: stack.store,
    serving: { url: stack.servingUrl, adminToken: BENCH_TOKEN },
    cacheDir: join(process.cwd(), '.data', 'bench-cache'),
  });
  const env = new MockActivityEnvironment({ workflowExecution: { workflowId: `model/${spec.name}/retrain/1`, runId: randomUUID() } });
  // An activity context (heartbeats, workflow identity) without a worker: the same code, called directly.
  const call = <I, O>(activity: (input: I) => Promise<O>, input: I): Promise<O> => env.run(activity as never, input) as Promise<O>;
  const run = await call(activities.startRetrainRun, { model: spec.name, n: 1, trigger: 'benchmark', rules: ['manual'] });
  const snapshot = await call(activities.snapshotTrainingData, { spec, retrainRun: run });
  await call(activities.validateSnapshot, { spec, snapshot, retrainRun: run });
  const { best } = await runSweep(spec, {
    startSweepRun: () => call(activities.startSweepRun, { model: spec.name, n: 1, retrainRun: run, spec }),
    trainTrialRung: (request) => call(activities.trainTrialRung, { ...request, spec, snapshot }),
    closeTrial: (input) => call(activities.closeTrial, input),
    finishSweepRun: (input) => call(activities.finishSweepRun, { ...input, spec }),
    now: () => Date.now(),
  });
  await call(activities.evaluateChallenger, { spec, snapshot, challengerRunId: best.runId, retrainRun: run });
  const { version } = await call(activities.registerChallenger, {
    model: spec.name,
    candidateRunId: best.runId,
    retrainRunId: run.runId,
    trigger: 'benchmark',
  });
  await call(activities.deploy, { model: spec.name, champion: version, reason: 'benchmark' });
  await call(activities.promoteChampion, { model: spec.name, version });
  await call(activities.finishRetrainRun, { runId: run.runId, outcome: 'promoted', decisions: [] });
}

async function retrainOnTemporal(stack: LocalStack, spec: ModelSpec) {
  await stack.client.temporal.workflow.execute('retrain', {
    taskQueue: stack.client.taskQueue,
    workflowId: `model/${spec.name}/retrain/1`,
    args: [{ spec, n: 1, trigger: { reason: 'benchmark', rules: ['manual'] } }],
  });
}

export async function orchestration(stack: LocalStack) {
  const seed = weatherData().seed;
  const timings = { 'in-process': [] as number[], temporal: [] as number[] };
  // Alternate the two so drift in machine load hits both alike; round 0 warms caches.
  for (let round = 0; round <= ROUNDS; round++) {
    for (const mode of ['in-process', 'temporal'] as const) {
      const spec = benchSpec();
      await stack.store.addRecords(
        spec.name,
        toRecords(
          seed,
          spec.features.map((f) => f.name),
          spec.label.name,
          'bench',
        ),
      );
      const started = performance.now();
      await (mode === 'temporal' ? retrainOnTemporal(stack, spec) : retrainInProcess(stack, spec));
      const ms = performance.now() - started;
      if (round > 0) timings[mode].push(ms);
      console.log(`  round ${round}${round === 0 ? ' (warm-up)' : ''} ${mode}: ${(ms / 1000).toFixed(2)} s`);
    }
  }
  const anchor = median(timings['in-process']);
  const temporal = median(timings.temporal);
  console.log(
    `retrain wall time, median of ${ROUNDS}: in-process (anchor) ${(anchor / 1000).toFixed(2)} s | temporal ${(temporal / 1000).toFixed(2)} s | ratio ${(temporal / anchor).toFixed(3)}`,
  );
  return {
    anchor: 'in-process',
    rounds: ROUNDS,
    medianMs: { 'in-process': anchor, temporal },
    ratio: temporal / anchor,
    timingsMs: timings,
  };
}

export const benchmark: Benchmark = { needs: 'stack', run: orchestration };
