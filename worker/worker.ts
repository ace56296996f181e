/**
 * A Perennial worker: the workflows plus every activity, on one task queue. Long CPU work
 * runs in worker threads inside the activities, so one process serves both.
 */
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.ts';
import { MlflowClient } from '../activities/mlflow/client.ts';
import { Store } from '../serving/store.ts';
import { TASK_QUEUE, type TemporalConfig } from '../client/config.ts';

export interface WorkerOptions {
  temporal: TemporalConfig;
  mlflowUrl: string;
  dbPath: string;
  serving: { url: string; adminToken: string };
  cacheDir: string;
  taskQueue?: string;
}

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export async function createWorker(options: WorkerOptions): Promise<{ worker: Worker; close(): Promise<void> }> {
  const connection = await NativeConnection.connect({
    address: options.temporal.address,
    tls: options.temporal.tls,
    apiKey: options.temporal.apiKey,
  });
  const store = Store.open(options.dbPath);
  const worker = await Worker.create({
    connection,
    namespace: options.temporal.namespace,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    workflowsPath: WORKFLOWS_PATH,
    activities: createActivities({
      mlflow: new MlflowClient(options.mlflowUrl),
      store,
      serving: options.serving,
      cacheDir: options.cacheDir,
    }),
    // Training is CPU-bound and this machine class has 2 cores.
    maxConcurrentActivityTaskExecutions: 4,
  });
  return {
    worker,
    async close() {
      store.close();
      await connection.close();
    },
  };
}
