/**
 * What the worker and Temporal chaos scenarios share: the real services (the ones `npm test`
 * started, named in the environment, or their own), the model server on a SQLite log in this
 * process, a worker in a child process that a scenario can kill, and a retrain to run under fault.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { MlflowClient } from '../../adapters/mlflow/client.ts';
import { PerennialClient } from '../../client/client.ts';
import { temporalConfig } from '../../config/environment.ts';
import { toRecords } from '../../client/dataset.ts';
import { sweepStatusQuery } from '../../core/messages.ts';
import { ModelSpec } from '../../core/spec.ts';
import type { SweepProgress } from '../../core/sweep-loop.ts';
import { mlflowModelLoader } from '../../serving/loader.ts';
import { buildServer } from '../../serving/server.ts';
import { openStore } from '../../adapters/store/index.ts';
import type { RetrainResult } from '../../workflows/retrain.ts';
import { weatherData } from '../demo.ts';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { startMlflow, startTemporal, type Service } from '../services.ts';

const ADMIN_TOKEN = 'chaos-admin-token';

export const chaosDir = (name: string) => mkdtempSync(join(tmpdir(), `perennial-chaos-${name}-`));

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The MLflow server from MLFLOW_TRACKING_URI, or one of our own in `dir`. */
export async function mlflowFor(dir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  if (process.env.MLFLOW_TRACKING_URI) return { url: process.env.MLFLOW_TRACKING_URI, stop: async () => {} };
  const service: Service = await startMlflow({ dataDir: join(dir, 'mlflow') });
  return { url: service.url, stop: service.stop };
}

/** The Temporal server from TEMPORAL_ADDRESS, or a dev server of our own in `dir`. */
export async function temporalFor(dir: string): Promise<{ address: string; stop: () => Promise<void> }> {
  if (process.env.TEMPORAL_ADDRESS) return { address: process.env.TEMPORAL_ADDRESS, stop: async () => {} };
  const service = await startTemporal({ dataDir: join(dir, 'temporal') });
  return { address: service.address, stop: service.stop };
}

/** A small weather model whose sweep has `trials` trials over ASHA rungs: several rungs to kill between. */
export function chaosSpec(trials: number): ModelSpec {
  return ModelSpec.parse({
    name: `chaos-${randomUUID().slice(0, 8)}`,
    features: [{ name: 'precipitation', min: 0 }, { name: 'temp_max' }, { name: 'temp_min' }, { name: 'wind', min: 0 }],
    label: { name: 'weather', classes: ['drizzle', 'fog', 'rain', 'snow', 'sun'] },
    training: {
      window: { kind: 'all' },
      sweep: {
        families: {
          softmax: { learningRate: { type: 'float', low: 0.01, high: 0.3, log: true } },
          mlp: { width: { type: 'int', low: 4, high: 32, log: true }, learningRate: { type: 'float', low: 0.005, high: 0.05, log: true } },
        },
        sampler: 'random',
        seed: 7,
        budget: { maxTrials: trials, maxEpochsPerTrial: 6 },
        earlyStopping: { kind: 'asha', minEpochs: 2, reductionFactor: 3 },
        parallelism: 2,
      },
    },
    approval: { required: false },
    canary: { steps: [{ weight: 0.5, bake: '1s' }], minSamples: 1000 },
  });
}

/**
 * The model server (in this process) on a fresh SQLite log seeded with the weather records, and
 * a client, for one scenario; `worker()` starts a worker process on the scenario's task queue.
 */
export async function chaosStack(options: { dir: string; temporalAddress: string; mlflowUrl: string; spec: ModelSpec }) {
  const dbPath = join(options.dir, 'perennial.sqlite');
  const store = await openStore(dbPath);
  const features = options.spec.features.map((f) => f.name);
  await store.addRecords(options.spec.name, toRecords(weatherData().seed, features, options.spec.label.name, 'chaos seed'));
  const mlflow = new MlflowClient(options.mlflowUrl);
  const server = await buildServer({ store, loadModel: mlflowModelLoader(mlflow), adminToken: ADMIN_TOKEN });
  await server.listen({ host: '127.0.0.1', port: 0 });
  const servingUrl = `http://127.0.0.1:${(server.server.address() as { port: number }).port}`;
  const taskQueue = `chaos-${randomUUID()}`;
  const client = await PerennialClient.connect({ ...temporalConfig({}), address: options.temporalAddress }, taskQueue);
  const workers = new Set<ChildProcess>();

  return {
    store,
    mlflow,
    servingUrl,
    client,
    /** A worker process as `tsx worker/main.ts` runs it, on this scenario's data folder and task queue. */
    worker(): ChildProcess {
      const log = openSync(join(options.dir, 'worker.log'), 'a');
      const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'worker', 'main.ts')], {
        cwd: PROJECT_ROOT,
        stdio: ['ignore', log, log],
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: options.temporalAddress,
          MLFLOW_TRACKING_URI: options.mlflowUrl,
          PERENNIAL_TASK_QUEUE: taskQueue,
          PERENNIAL_DATA_DIR: options.dir,
          PERENNIAL_DB: dbPath,
          PERENNIAL_SERVING_URL: servingUrl,
          PERENNIAL_ADMIN_TOKEN: ADMIN_TOKEN,
          PERENNIAL_TRAINING_SLOTS: '2',
        },
      });
      workers.add(child);
      child.once('exit', () => workers.delete(child));
      return child;
    },
    /** The retrain a lifecycle would start, without the lifecycle: the work every scenario puts under fault. */
    startRetrain(): Promise<WorkflowHandle> {
      return client.temporal.workflow.start('retrain', {
        taskQueue,
        workflowId: `model/${options.spec.name}/retrain/1`,
        args: [{ spec: options.spec, n: 1, trigger: { reason: 'chaos', rules: ['manual'] } }],
      });
    },
    /** The retrain's sweep progress; undefined while the sweep has not started or Temporal is away. */
    async sweepProgress(retrain: WorkflowHandle): Promise<SweepProgress | undefined> {
      return client.temporal.workflow
        .getHandle(`${retrain.workflowId}/sweep`)
        .query(sweepStatusQuery)
        .catch(() => undefined);
    },
    async stop() {
      for (const child of workers) child.kill('SIGKILL');
      await client.close();
      await server.close();
      await store.close();
    },
  };
}

export type ChaosStack = Awaited<ReturnType<typeof chaosStack>>;

/** Waits until the retrain's sweep has finished `rungs` rungs (or the retrain has ended). */
export async function untilRungsDone(
  stack: ChaosStack,
  retrain: WorkflowHandle,
  rungs: number,
  timeoutMs: number,
): Promise<SweepProgress | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const progress = await stack.sweepProgress(retrain);
    if (progress && progress.rungsDone >= rungs) return progress;
    const ended = await retrain.describe().then(
      (d) => d.status.name !== 'RUNNING',
      () => false,
    );
    if (ended) return undefined;
    await sleep(500);
  }
  throw new Error(`the sweep did not finish ${rungs} rungs within ${timeoutMs / 1000}s`);
}

/**
 * The retrain's result, riding out a Temporal server that is away for a while: the client's own
 * retries give up after seconds, this waits until `timeoutMs`. A failed retrain is returned as
 * its error, for the scenario to report.
 */
export async function retrainOutcome(retrain: WorkflowHandle, timeoutMs: number): Promise<RetrainResult | Error> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return (await retrain.result()) as RetrainResult;
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'WorkflowFailedError' || Date.now() > deadline) return err as Error;
      await sleep(1000); // Temporal unreachable: ask again
    }
  }
}

/** SIGKILL, and wait until the process is gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((ok) => child.once('exit', ok));
  child.kill('SIGKILL');
  await gone;
}

/** Activities the sweep has under way right now: what a kill interrupts. */
export async function pendingActivities(stack: ChaosStack, retrain: WorkflowHandle): Promise<number> {
  const sweep = await stack.client.temporal.workflow
    .getHandle(`${retrain.workflowId}/sweep`)
    .describe()
    .catch(() => undefined);
  return sweep?.raw.pendingActivities?.length ?? 0;
}
