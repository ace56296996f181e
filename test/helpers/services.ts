/**
 * Real services for tests. `npm test` starts one Temporal dev server and one MLflow server
 * for the whole run and passes their addresses in the environment; a test file run on its
 * own starts its own and stops them when it ends.
 */
import { after } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMlflow, startTemporal, type Service } from '../../stack/services.ts';

// Registered when a test file loads, so it runs after that file's last test: first what uses
// the services (workers, servers), then the services this file started.
const started: Service[] = [];
const teardowns: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const teardown of teardowns.reverse()) await teardown();
  await Promise.all(started.map((service) => service.stop()));
});

/** Stops something that uses the services before they stop. */
export function onTeardown(teardown: () => Promise<unknown>): void {
  teardowns.push(teardown);
}

export function tempDir(prefix = 'perennial-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

let mlflow: Promise<string> | undefined;
export function mlflowUrl(): Promise<string> {
  if (process.env.MLFLOW_TRACKING_URI) return Promise.resolve(process.env.MLFLOW_TRACKING_URI);
  mlflow ??= startMlflow({ dataDir: tempDir('perennial-mlflow-'), workers: 1 }).then((service) => {
    started.push(service);
    return service.url;
  });
  return mlflow;
}

/**
 * Small history limits so continue-as-new happens within a test. The database lives as long as
 * the test run: written ahead (WAL) without waiting for the disk on each commit, which halves the
 * server's CPU per workflow task (8 monitored models: 2.6 s of CPU in 30 s instead of 5.2). A
 * killed server loses nothing with it; only a crash of the machine would.
 */
export const TEST_TEMPORAL_ARGS = [
  '--dynamic-config-value',
  'limit.historyCount.suggestContinueAsNew=300',
  '--sqlite-pragma',
  'journal_mode=wal',
  '--sqlite-pragma',
  'synchronous=off',
];

let temporal: Promise<string> | undefined;
export function temporalAddress(): Promise<string> {
  if (process.env.TEMPORAL_ADDRESS) return Promise.resolve(process.env.TEMPORAL_ADDRESS);
  temporal ??= startTemporal({ dataDir: tempDir('perennial-temporal-'), extraArgs: TEST_TEMPORAL_ARGS }).then((service) => {
    started.push(service);
    return service.address;
  });
  return temporal;
}
