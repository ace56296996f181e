/**
 * `npm test`: starts one real Temporal dev server, one real MLflow server and one real Postgres
 * server (stack/postgres.ts; each test file makes its own databases on it) for the whole run,
 * then Node's test runner over every test file, two files at a time: most of a workflow test
 * is waiting (bake timers, monitoring intervals, services starting), so two overlap well on two
 * cores. PERENNIAL_TEST_CONCURRENCY=1 runs one file at a time. First, the tools from Debian's
 * packages that tests run (stack/debian-packages.ts installs those missing).
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, sep } from 'node:path';
import { ensurePythonEnv, PROJECT_ROOT, startMlflow, startTemporal } from '../stack/services.ts';
import { startPostgres } from '../stack/postgres.ts';
import { DebianPackagesError, ensureDebianPackages } from '../stack/debian-packages.ts';
import { TEST_TEMPORAL_ARGS, tempDir } from './helpers/services.ts';
import { writeWorkflowBundle } from '../worker/workflow-bundle.ts';

ensurePythonEnv();
try {
  ensureDebianPackages([
    // test/deploy/prometheus.test.ts: promtool checks the config and rules, a real Prometheus scrapes a stack.
    { command: 'promtool', package: 'prometheus' },
    { command: 'prometheus', package: 'prometheus' },
    // Pages are checked in a real browser.
    { command: 'chromium', package: 'chromium' },
  ]);
} catch (err) {
  if (!(err instanceof DebianPackagesError)) throw err;
  console.error(`npm test: ${err.message}`);
  process.exit(1);
}
// One workflow bundle for every worker the tests start (worker/workflow-bundle.ts), built while
// the services start.
const workflowBundle = join(tempDir('perennial-bundle-'), 'workflows.js');
const bundling = writeWorkflowBundle(workflowBundle);
const starting = [
  startTemporal({ dataDir: tempDir('perennial-temporal-'), extraArgs: TEST_TEMPORAL_ARGS }),
  startMlflow({ dataDir: tempDir('perennial-mlflow-'), workers: 1 }),
  startPostgres({ dataDir: tempDir('perennial-postgres-') }),
] as const;
const settled = await Promise.allSettled([...starting, bundling]);
// One service failed to start: stop the others rather than leave them running, and say why.
if (settled.some((s) => s.status === 'rejected')) {
  for (const s of settled) if (s.status === 'rejected') console.error(`npm test: ${(s.reason as Error).message}`);
  await Promise.all(settled.flatMap((s) => (s.status === 'fulfilled' && s.value ? [s.value.stop()] : [])));
  process.exit(1);
}
const [temporal, mlflow, postgres] = await Promise.all(starting);
// Node 20's runner takes no globs: list the test files here. The runner starts them in this
// order as slots free up, so the unit tests (a second or two each) go last: they fill the gap
// while the other slot finishes its last long file, instead of a long file starting late and
// running alone.
const found = readdirSync(join(PROJECT_ROOT, 'test'), { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.test.ts'))
  .sort()
  .map((f) => join('test', f));
const isUnit = (f: string) => f.startsWith(join('test', 'unit') + sep);
const files = process.argv.length > 2 ? process.argv.slice(2) : [...found.filter((f) => !isUnit(f)), ...found.filter(isUnit)];
const concurrency = process.env.PERENNIAL_TEST_CONCURRENCY?.trim() || '2';
const runner = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files], {
  cwd: PROJECT_ROOT,
  stdio: 'inherit',
  env: {
    ...process.env,
    TEMPORAL_ADDRESS: temporal.address,
    MLFLOW_TRACKING_URI: mlflow.url,
    PERENNIAL_TEST_DATABASE_URL: postgres.url,
    PERENNIAL_DATA_DIR: join(tempDir(), 'data'),
    PERENNIAL_WORKFLOW_BUNDLE: workflowBundle,
  },
});
// Interrupted: stop the runner; the services stop below once it has exited.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => runner.kill(signal));
const code = await new Promise<number>((ok) => runner.once('exit', (c, signal) => ok(c ?? (signal ? 1 : 0))));
await Promise.all([temporal.stop(), mlflow.stop(), postgres.stop()]);
process.exit(code);
