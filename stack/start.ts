/**
 * `npm start`: the whole loop on one machine. Starts (or reuses, when TEMPORAL_ADDRESS /
 * MLFLOW_TRACKING_URI are set) the Temporal dev server and MLflow, then the model server and a
 * worker in this process, registers the demo model and starts its lifecycle.
 *   npm start -- --demo [--auto-approve]   also replays production traffic until drift has
 *                                          triggered a retrain that reached champion.
 *   npm start -- --demo mnist [--auto-approve]   the same on handwritten digits (examples/mnist/).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { defaults, temporalConfig } from '../config/environment.ts';
import { workerMetricsConfig } from '../config/metrics.ts';
import { temporalMetricsTelemetry } from '../worker/telemetry.ts';
import { toRecords } from '../client/dataset.ts';
import { readSpecFile } from '../client/spec-file.ts';
import { ALERT_KINDS } from '../core/alerts.ts';
import { startAlertPrinter } from './alert-printer.ts';
import { runDemoTraffic, type DemoResult } from './demo.ts';
import { DEMOS, DEMO_NAMES, isDemoName } from './demos.ts';
import { startLocalStack } from './local.ts';
import { assertPortFree, PortInUseError } from './processes.ts';
import { localReviewersFile } from './console.ts';
import { ensurePythonEnv, startMlflow, startTemporal } from './services.ts';

const { values: flags, positionals } = parseArgs({
  options: {
    demo: { type: 'boolean', default: false },
    'auto-approve': { type: 'boolean', default: false },
    spec: { type: 'string' },
  },
  // `--demo mnist`: the demo's name follows the flag (weather when it is left out).
  allowPositionals: true,
});
const say = (line: string) => console.log(`perennial: ${line}`);
const demoName = positionals[0] ?? 'weather';
if (positionals.length > 1 || !isDemoName(demoName)) {
  console.error(`perennial: unknown demo "${positionals.join(' ')}" (demos: ${DEMO_NAMES.join(', ')})`);
  process.exit(2);
}
const demo = DEMOS[demoName];

const PORT_HINTS: Record<string, string> = {
  'Temporal dev server':
    'to start it on other ports set PERENNIAL_TEMPORAL_PORT and PERENNIAL_TEMPORAL_UI_PORT; to use a server of your own set TEMPORAL_ADDRESS',
  'MLflow server': 'to start it on another port set PERENNIAL_MLFLOW_PORT; to use a server of your own set MLFLOW_TRACKING_URI',
  'model server': 'to start it on another port set PERENNIAL_SERVING_PORT',
  'review console': 'to start it on another port set PERENNIAL_CONSOLE_PORT',
};

/** The embedded servers' ports, overridable so that two stacks (or a test) can run side by side. */
function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name} must be a port number (1-65535), got "${raw}"`);
  return port;
}

// Ctrl-C stops everything in reverse order of starting, once: npm passes the signal on too,
// and a second signal must not cut the first shutdown short.
const stops: Array<() => Promise<unknown>> = [];
let stopping: Promise<never> | undefined;
function shutdown(code: number): Promise<never> {
  stopping ??= (async () => {
    say('stopping...');
    for (const stop of stops.reverse()) await stop().catch((err: Error) => console.error(`perennial: ${err.message}`));
    process.exit(code);
  })();
  return stopping;
}
process.on('SIGINT', () => void shutdown(130));
process.on('SIGTERM', () => void shutdown(143));
// This process handles Ctrl-C itself (see shutdown), and keeps worker chatter to warnings.
// Metrics are served when PERENNIAL_WORKER_METRICS / PERENNIAL_TEMPORAL_METRICS say where (config/metrics.ts).
let metrics: ReturnType<typeof workerMetricsConfig>;
try {
  metrics = workerMetricsConfig();
} catch (err) {
  console.error(`perennial: ${(err as Error).message}`);
  process.exit(1);
}
Runtime.install({ shutdownSignals: [], logger: new DefaultLogger('WARN'), telemetryOptions: temporalMetricsTelemetry(metrics.temporal) });

try {
  const spec = readSpecFile(flags.spec ?? demo.specFile);
  const dataDir = defaults.dataDir();
  say(`data folder ${dataDir}`);

  if (!process.env.TEMPORAL_ADDRESS || !process.env.MLFLOW_TRACKING_URI) ensurePythonEnv();
  let temporalUi = process.env.TEMPORAL_UI_URL ?? "(your Temporal cluster's UI)";
  let startedTemporalUi: string | undefined;
  if (!process.env.TEMPORAL_ADDRESS) {
    say('starting the Temporal dev server...');
    const temporal = await startTemporal({
      dataDir: join(dataDir, 'temporal'),
      port: portFromEnv('PERENNIAL_TEMPORAL_PORT', 7233),
      uiPort: portFromEnv('PERENNIAL_TEMPORAL_UI_PORT', 8233),
      log: say,
    });
    stops.push(temporal.stop);
    process.env.TEMPORAL_ADDRESS = temporal.address;
    temporalUi = startedTemporalUi = temporal.uiUrl;
  }
  if (!process.env.MLFLOW_TRACKING_URI) {
    say('starting the MLflow server (the first start migrates its database: ~20 s)...');
    const mlflow = await startMlflow({ dataDir: join(dataDir, 'mlflow'), port: portFromEnv('PERENNIAL_MLFLOW_PORT', 5000), log: say });
    stops.push(mlflow.stop);
    process.env.MLFLOW_TRACKING_URI = mlflow.url;
  }
  const mlflowUrl = defaults.mlflowUrl();
  const consolePort = portFromEnv('PERENNIAL_CONSOLE_PORT', 8090);
  await assertPortFree(consolePort, 'review console');
  let reviewersFile = process.env.PERENNIAL_CONSOLE_REVIEWERS_FILE?.trim();
  if (!reviewersFile) {
    const made = localReviewersFile(dataDir);
    if (made.created) say(`review console: made ${made.path} with reviewer ${made.created} and a random token`);
    reviewersFile = made.path;
  }

  const local = await startLocalStack({
    temporal: temporalConfig(),
    mlflowUrl,
    dataDir,
    dbPath: defaults.storeLocation(),
    adminToken: defaults.adminToken(),
    servingPort: portFromEnv('PERENNIAL_SERVING_PORT', 8080),
    workerMetrics: metrics.perennial,
    // Without a UI address for a cluster of your own, the console's links go to the dev server's default.
    console: { port: consolePort, reviewersFile, temporalUi: process.env.TEMPORAL_UI_URL ?? startedTemporalUi },
  });
  stops.push(() => local.stop());
  const { store, client, servingUrl } = local;

  const data = demo.data();
  if ((await store.maxRecordId(spec.name)) === 0) {
    const features = spec.features.map((f) => f.name);
    const added = await store.addRecords(spec.name, toRecords(data.seed, features, spec.label.name, demo.source));
    say(`imported ${added} labelled records (${demo.seedDescription}) for model ${spec.name}`);
  }
  // Without alert channels in the spec, alerts print here.
  let registered = spec;
  if (spec.alerts.webhooks.length === 0 && !spec.alerts.email) {
    const printer = await startAlertPrinter((line) => say(line));
    stops.push(printer.stop);
    registered = { ...spec, alerts: { ...spec.alerts, webhooks: [{ url: printer.url, name: 'console', kinds: [...ALERT_KINDS] }] } };
  }
  await client.register(registered);

  console.log(`
  Temporal UI    ${temporalUi}/namespaces/${temporalConfig().namespace}/workflows
  Review console ${local.consoleUrl}   (sign in with a name and token from ${reviewersFile})
  MLflow UI      ${mlflowUrl}
  Model server   ${servingUrl}   (POST /v1/models/${spec.name}/predict)
  Metrics        ${[`${servingUrl}/metrics`, local.workerMetricsUrl].filter(Boolean).join(', ')}
  Lifecycle      workflow model/${spec.name}; status: npx perennial status ${spec.name}
  Approve        PERENNIAL_REVIEWER=<you> npx perennial approve ${spec.name}
`);

  if (flags.demo) {
    say(
      `demo: replaying production traffic (${demo.trafficDescription})${flags['auto-approve'] ? ', approving challengers automatically' : '; approve challengers with the command above'}`,
    );
    const started = Date.now();
    const result: DemoResult = await runDemoTraffic({
      client,
      spec,
      servingUrl,
      traffic: data.traffic,
      autoApprove: flags['auto-approve']!,
      log: (l) => say(l),
      segment: demo.segment,
    });
    say(`demo complete: version ${result.championVersion} is champion after ${result.predictions} predictions, trigger: ${result.trigger}`);
    say(`live accuracy (${Math.round((Date.now() - started) / 1000)} s of traffic):`);
    for (const a of result.accuracy) say(`  ${a.segment.padEnd(12)} v${a.version}  ${a.accuracy.toFixed(3)} on ${a.n} predictions`);
    await shutdown(0);
  } else {
    say('running; Ctrl-C stops everything');
    await local.running;
  }
} catch (err) {
  // After Ctrl-C the demo's calls fail as its client closes under them: that is the shutdown
  // at work, not an error to report.
  if (stopping) await stopping;
  console.error(`perennial: ${(err as Error).message}`);
  if (err instanceof PortInUseError) console.error(`perennial: ${PORT_HINTS[err.service] ?? ''}`);
  await shutdown(1);
}
