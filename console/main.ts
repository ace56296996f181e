/**
 * The review console process: `tsx console/main.ts`, configured by the environment
 * (console/settings.ts; Temporal and MLflow as for the CLI). `npm start` runs it beside the
 * other services. Prints one line with its URL once it listens; SIGINT/SIGTERM stop it.
 */
import { MlflowClient } from '../adapters/mlflow/client.ts';
import { PerennialClient } from '../client/client.ts';
import { defaults, temporalConfig } from '../config/environment.ts';
import { Reviewers } from './reviewers.ts';
import { buildConsole } from './server.ts';
import { consoleSettings } from './settings.ts';

function fail(message: string): never {
  console.error(`perennial console: ${message}`);
  process.exit(1);
}

let settings: ReturnType<typeof consoleSettings>;
let reviewers: Reviewers;
try {
  settings = consoleSettings();
  reviewers = Reviewers.fromFile(settings.reviewersFile);
} catch (err) {
  fail((err as Error).message);
}
const temporal = temporalConfig();
const client = await PerennialClient.connect(temporal).catch((err: Error) => fail(err.message));
const mlflow = new MlflowClient(defaults.mlflowUrl());
const app = await buildConsole({
  client,
  mlflow,
  reviewers,
  ui: { temporalUi: settings.temporalUi, namespace: temporal.namespace, mlflowUi: settings.mlflowUi },
  secureCookies: settings.secureCookies,
});
const url = await app.listen({ host: settings.host, port: settings.port }).catch((err: Error) => fail(err.message));
console.log(`perennial console on ${url} (${reviewers.names.length} reviewers from ${settings.reviewersFile})`);

async function stop() {
  await app.close();
  await client.close();
  await mlflow.close();
  process.exit(0);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop());
// Started by `npm start` (stack/console.ts) with a channel to it: when that process is gone, however it ended, so is this one.
process.once('disconnect', () => void stop());
