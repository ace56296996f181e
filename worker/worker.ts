/**
 * A Perennial worker process: the workflows and light activities on the main task queue, and
 * the CPU-heavy trial rungs on the training task queue, capped at one per core (each trains in
 * its own worker thread). At scale, run training-only workers on more hosts.
 */
import { availableParallelism } from 'node:os';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.ts';
import { MlflowClient } from '../adapters/mlflow/client.ts';
import { openStore } from '../adapters/store/index.ts';
import { dataConverter, TASK_QUEUE, type TemporalConfig } from '../config/environment.ts';
import type { BindAddress } from '../config/metrics.ts';
import { trainingTaskQueue } from '../core/messages.ts';
import { MonitoringGauges, serveMetrics } from './metrics.ts';
import { bundleWorkflows } from './workflow-bundle.ts';

export interface WorkerOptions {
  temporal: TemporalConfig;
  mlflowUrl: string;
  /** The store: a SQLite file or a postgres:// URL (openStore). */
  dbPath: string;
  serving: { url: string; adminToken: string };
  cacheDir: string;
  taskQueue?: string;
  /** Trial rungs trained at once by this process; defaults to the number of cores. */
  trainingSlots?: number;
  /** Where to serve the monitoring gauges at /metrics (port 0 picks one); none when absent. */
  metrics?: BindAddress;
}

export async function createWorker(options: WorkerOptions) {
  // First, so that a port already taken fails the start before anything else is opened.
  const gauges = options.metrics ? new MonitoringGauges() : undefined;
  const metricsServer = gauges && options.metrics ? await serveMetrics(gauges.registry, options.metrics) : undefined;
  const connection = await NativeConnection.connect({
    address: options.temporal.address,
    tls: options.temporal.tls,
    apiKey: options.temporal.apiKey,
  });
  const store = await openStore(options.dbPath);
  const taskQueue = options.taskQueue ?? TASK_QUEUE;
  const activities = createActivities({
    mlflow: new MlflowClient(options.mlflowUrl),
    store,
    serving: options.serving,
    cacheDir: options.cacheDir,
    cycleMetrics: gauges,
    retrainMetrics: gauges,
  });
  const main = await Worker.create({
    connection,
    namespace: options.temporal.namespace,
    taskQueue,
    workflowBundle: await bundleWorkflows(),
    activities,
    // Codecs run in the worker's main thread, outside the workflow bundle: no codec path to bundle.
    dataConverter: dataConverter(options.temporal),
  });
  const training = await Worker.create({
    connection,
    namespace: options.temporal.namespace,
    taskQueue: trainingTaskQueue(taskQueue),
    activities,
    dataConverter: dataConverter(options.temporal),
    maxConcurrentActivityTaskExecutions: options.trainingSlots ?? availableParallelism(),
  });
  let running: Promise<unknown> | undefined;
  return {
    taskQueue,
    /** The monitoring gauges' /metrics, when served. */
    metricsUrl: metricsServer?.url,
    /** Resolves when both workers have stopped. */
    run() {
      running ??= Promise.all([main.run(), training.run()]);
      return running;
    },
    async shutdown() {
      for (const w of [main, training]) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
      await metricsServer?.close();
      await store.close();
      await connection.close();
    },
  };
}
