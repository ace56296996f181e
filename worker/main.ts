/** Worker process entry point: `tsx worker/main.ts`, configured by environment variables. */
import { join } from 'node:path';
import { defaults, temporalConfig, TemporalConfigError, type TemporalConfig } from '../config/environment.ts';
import { CodecConfigError } from '../codec/keys.ts';
import { createWorker } from './worker.ts';

let temporal: TemporalConfig;
try {
  temporal = temporalConfig();
} catch (err) {
  // A bad TLS file or codec key: one line that names the variable, not a stack trace.
  if (!(err instanceof TemporalConfigError || err instanceof CodecConfigError)) throw err;
  console.error(`perennial worker: ${err.message}`);
  process.exit(1);
}
const worker = await createWorker({
  temporal,
  mlflowUrl: defaults.mlflowUrl(),
  dbPath: defaults.dbPath(),
  serving: { url: defaults.servingUrl(), adminToken: defaults.adminToken() },
  cacheDir: join(defaults.dataDir(), 'cache'),
  trainingSlots: process.env.PERENNIAL_TRAINING_SLOTS ? Number(process.env.PERENNIAL_TRAINING_SLOTS) : undefined,
});
console.log(
  `perennial worker polling task queues "${worker.taskQueue}" and its training queue${temporal.codec ? ', payloads encrypted' : ''}`,
);
// The SDK's default signal handling (SIGINT, SIGTERM) stops both workers; then clean up.
await worker.run();
await worker.shutdown();
