/** Worker process entry point: `tsx worker/main.ts`, configured by environment variables. */
import { join } from 'node:path';
import { defaults, temporalConfig } from '../client/config.ts';
import { createWorker } from './worker.ts';

const worker = await createWorker({
  temporal: temporalConfig(),
  mlflowUrl: defaults.mlflowUrl(),
  dbPath: defaults.dbPath(),
  serving: { url: defaults.servingUrl(), adminToken: defaults.adminToken() },
  cacheDir: join(defaults.dataDir(), 'cache'),
  trainingSlots: process.env.PERENNIAL_TRAINING_SLOTS ? Number(process.env.PERENNIAL_TRAINING_SLOTS) : undefined,
});
console.log(`perennial worker polling task queues "${worker.taskQueue}" and its training queue`);
// The SDK's default signal handling (SIGINT, SIGTERM) stops both workers; then clean up.
await worker.run();
await worker.shutdown();
