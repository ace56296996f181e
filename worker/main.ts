/** Worker process entry point: `tsx worker/main.ts`, configured by environment variables. */
import { join } from 'node:path';
import { Runtime } from '@temporalio/worker';
import { defaults, temporalConfig, TemporalConfigError, type TemporalConfig } from '../config/environment.ts';
import { formatBindAddress, MetricsConfigError, workerMetricsConfig } from '../config/metrics.ts';
import { CodecConfigError } from '../codec/keys.ts';
import { temporalMetricsTelemetry } from './telemetry.ts';
import { createWorker } from './worker.ts';

let temporal: TemporalConfig;
let metrics: ReturnType<typeof workerMetricsConfig>;
try {
  temporal = temporalConfig();
  metrics = workerMetricsConfig();
} catch (err) {
  // A bad TLS file, codec key or metrics address: one line that names the variable, not a stack trace.
  if (!(err instanceof TemporalConfigError || err instanceof CodecConfigError || err instanceof MetricsConfigError)) throw err;
  console.error(`perennial worker: ${err.message}`);
  process.exit(1);
}
// Before the first connection: Core's runtime is configured once per process.
Runtime.install({ telemetryOptions: temporalMetricsTelemetry(metrics.temporal) });
const worker = await createWorker({
  temporal,
  mlflowUrl: defaults.mlflowUrl(),
  dbPath: defaults.storeLocation(),
  serving: { url: defaults.servingUrl(), adminToken: defaults.adminToken() },
  cacheDir: join(defaults.dataDir(), 'cache'),
  trainingSlots: process.env.PERENNIAL_TRAINING_SLOTS ? Number(process.env.PERENNIAL_TRAINING_SLOTS) : undefined,
  metrics: metrics.perennial,
});
console.log(
  `perennial worker polling task queues "${worker.taskQueue}" and its training queue${temporal.codec ? ', payloads encrypted' : ''}`,
);
if (worker.metricsUrl) console.log(`perennial worker: monitoring gauges at ${worker.metricsUrl}`);
if (metrics.temporal) console.log(`perennial worker: Temporal Core metrics at http://${formatBindAddress(metrics.temporal)}/metrics`);
// The SDK's default signal handling (SIGINT, SIGTERM) stops both workers; then clean up.
await worker.run();
await worker.shutdown();
