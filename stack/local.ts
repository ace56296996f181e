/**
 * Perennial's own processes in one Node process: the model server on the shared SQLite log,
 * a worker, and a client. `npm start`, the tests and the benchmarks all run it against real
 * Temporal and MLflow servers.
 */
import { join } from 'node:path';
import { MlflowClient } from '../adapters/mlflow/client.ts';
import { PerennialClient } from '../client/client.ts';
import { defaults, TASK_QUEUE, type TemporalConfig } from '../config/environment.ts';
import type { BindAddress } from '../config/metrics.ts';
import { mlflowModelLoader } from '../serving/loader.ts';
import { buildServer } from '../serving/server.ts';
import { openStore } from '../adapters/store/index.ts';
import { createWorker } from '../worker/worker.ts';
import { assertPortFree } from './processes.ts';
import { startConsoleProcess } from './console.ts';

export interface LocalStackOptions {
  temporal: TemporalConfig;
  mlflowUrl: string;
  dataDir: string;
  /** The store: a SQLite file (default: perennial.sqlite in dataDir) or a postgres:// URL. */
  dbPath?: string;
  adminToken: string;
  /** 0 picks a free port. */
  servingPort: number;
  taskQueue?: string;
  /** Where the worker serves its monitoring gauges at /metrics (port 0 picks one); off when absent. */
  workerMetrics?: BindAddress;
  /** The review console as its own process (console/main.ts), linking to `temporalUi`; not started when absent. */
  console?: { port: number; reviewersFile: string; temporalUi?: string };
}

export async function startLocalStack(options: LocalStackOptions) {
  const dbPath = options.dbPath ?? join(options.dataDir, 'perennial.sqlite');
  const taskQueue = options.taskQueue ?? TASK_QUEUE;
  if (options.servingPort !== 0) await assertPortFree(options.servingPort, 'model server');
  const store = await openStore(dbPath, { synchronous: defaults.dbSynchronous() });
  const mlflow = new MlflowClient(options.mlflowUrl);
  const server = await buildServer({ store, loadModel: mlflowModelLoader(mlflow), adminToken: options.adminToken });
  await server.listen({ host: '127.0.0.1', port: options.servingPort });
  const servingUrl = `http://127.0.0.1:${(server.server.address() as { port: number }).port}`;
  const worker = await createWorker({
    temporal: options.temporal,
    mlflowUrl: options.mlflowUrl,
    dbPath,
    serving: { url: servingUrl, adminToken: options.adminToken },
    cacheDir: join(options.dataDir, 'cache'),
    taskQueue,
    metrics: options.workerMetrics,
  });
  const running = worker.run();
  const client = await PerennialClient.connect(options.temporal, taskQueue);
  const stopInProcess = async () => {
    await client.close();
    await worker.shutdown();
    await server.close();
    await store.close();
  };
  const reviewConsole = options.console
    ? await startConsoleProcess({
        env: {
          TEMPORAL_ADDRESS: options.temporal.address,
          TEMPORAL_NAMESPACE: options.temporal.namespace,
          MLFLOW_TRACKING_URI: options.mlflowUrl,
          ...(options.console.temporalUi && { TEMPORAL_UI_URL: options.console.temporalUi }),
        },
        reviewersFile: options.console.reviewersFile,
        port: options.console.port,
      }).catch(async (err: Error) => {
        await stopInProcess();
        throw err;
      })
    : undefined;
  return {
    dataDir: options.dataDir,
    /** Where the stack's services are, for processes started beside it (a second worker, a replica). */
    temporal: options.temporal,
    mlflowUrl: options.mlflowUrl,
    dbPath,
    adminToken: options.adminToken,
    store,
    mlflow,
    servingUrl,
    workerMetricsUrl: worker.metricsUrl,
    consoleUrl: reviewConsole?.url,
    running,
    client,
    async stop() {
      await reviewConsole?.stop();
      await stopInProcess();
    },
  };
}

export type LocalStack = Awaited<ReturnType<typeof startLocalStack>>;
