/**
 * `npm start` after a hard kill, for real: stack/start.ts runs as a child process on free ports
 * and is killed with SIGKILL, which leaves its detached Temporal and MLflow servers running. The
 * next start must stop those orphans (found by the pid files in the data folder) and come up on
 * its own servers; a port held by a stranger must fail the start with a message naming it.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { isAlive, portFree, portHolder, processGroup } from '../../stack/processes.ts';
import { freePort, ServiceExitedError, startMlflow, startTemporal } from '../../stack/services.ts';
import { onTeardown, tempDir } from '../helpers/services.ts';

interface StartProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `npm start` in a child process with its own data folder and ports (never the shared test services). */
function npmStart(env: Record<string, string>): StartProcess {
  const { TEMPORAL_ADDRESS, MLFLOW_TRACKING_URI, PERENNIAL_TASK_QUEUE, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'stack', 'start.ts')], {
    cwd: PROJECT_ROOT,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  onTeardown(async () => void child.kill('SIGKILL'));
  return { child, output: () => output, exited };
}

async function untilOutput(start: StartProcess, text: string, timeoutMs = 300_000) {
  const deadline = Date.now() + timeoutMs;
  while (!start.output().includes(text)) {
    if (start.child.exitCode !== null) assert.fail(`npm start exited (${start.child.exitCode}) before "${text}":\n${start.output()}`);
    if (Date.now() > deadline) assert.fail(`npm start did not print "${text}" within ${timeoutMs / 1000}s:\n${start.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const pidIn = (file: string): number => JSON.parse(readFileSync(file, 'utf8')).pid;

async function startEnv(dataDir: string) {
  return {
    PERENNIAL_DATA_DIR: dataDir,
    PERENNIAL_TEMPORAL_PORT: String(await freePort()),
    PERENNIAL_TEMPORAL_UI_PORT: String(await freePort()),
    PERENNIAL_MLFLOW_PORT: String(await freePort()),
    PERENNIAL_SERVING_PORT: String(await freePort()),
  };
}

test(
  'npm start killed with SIGKILL: the next start stops its orphaned servers and comes up on its own',
  { timeout: 15 * 60_000 },
  async () => {
    const dataDir = tempDir('perennial-orphans-');
    const env = await startEnv(dataDir);
    const temporalPidFile = join(dataDir, 'temporal', 'temporal.pid');
    const mlflowPidFile = join(dataDir, 'mlflow', 'mlflow.pid');

    const first = npmStart(env);
    await untilOutput(first, 'running; Ctrl-C stops everything');
    const orphans = [pidIn(temporalPidFile), pidIn(mlflowPidFile)];
    // Should the test fail midway, the orphans must not outlive it.
    onTeardown(async () => orphans.forEach((pid) => isAlive(pid) && process.kill(-pid, 'SIGKILL')));
    first.child.kill('SIGKILL');
    await first.exited;
    assert.ok(orphans.every(isAlive), 'the hard kill leaves the detached servers running (the fault is real)');
    assert.equal(await portFree(Number(env.PERENNIAL_TEMPORAL_PORT)), false, 'the orphan still holds the Temporal port');

    const second = npmStart(env);
    await untilOutput(second, 'running; Ctrl-C stops everything');
    assert.ok(
      orphans.every((pid) => !isAlive(pid)),
      'the orphans are stopped',
    );
    assert.match(second.output(), new RegExp(`stopping the Temporal dev server \\(pid ${orphans[0]}\\) left running`));
    assert.match(second.output(), new RegExp(`stopping the MLflow server \\(pid ${orphans[1]}\\) left running`));
    const [temporal, mlflow] = [pidIn(temporalPidFile), pidIn(mlflowPidFile)];
    assert.equal(
      processGroup(portHolder(Number(env.PERENNIAL_TEMPORAL_PORT))!.pid),
      temporal,
      'the Temporal port is served by the new server',
    );
    assert.equal(processGroup(portHolder(Number(env.PERENNIAL_MLFLOW_PORT))!.pid), mlflow, 'the MLflow port is served by the new server');

    // A clean stop leaves nothing behind either: no server, no pid file.
    second.child.kill('SIGINT');
    assert.equal(await second.exited, 130);
    assert.ok(!isAlive(temporal) && !isAlive(mlflow));
    assert.ok(!existsSync(temporalPidFile) && !existsSync(mlflowPidFile));
    assert.ok(await portFree(Number(env.PERENNIAL_TEMPORAL_PORT)));
    assert.ok(await portFree(Number(env.PERENNIAL_MLFLOW_PORT)));
  },
);

async function foreignListener(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  onTeardown(() => new Promise((ok) => server.close(ok)));
  return { server, port: (server.address() as { port: number }).port };
}

test(
  'npm start on a port a stranger holds fails, naming the port and the process, and leaves the stranger alone',
  { timeout: 5 * 60_000 },
  async () => {
    const { server, port } = await foreignListener();
    const start = npmStart({ ...(await startEnv(tempDir('perennial-stranger-'))), PERENNIAL_TEMPORAL_PORT: String(port) });
    assert.equal(await start.exited, 1);
    assert.match(
      start.output(),
      new RegExp(`port ${port}, needed by the Temporal dev server, is already in use by pid ${process.pid} \\(`),
    );
    assert.match(start.output(), /set PERENNIAL_TEMPORAL_PORT/, 'and says how to move it');
    assert.ok(server.listening, 'the stranger is reported, not killed');
  },
);

test('startMlflow refuses a taken port before spawning anything', async () => {
  const { port } = await foreignListener();
  const dataDir = tempDir('perennial-taken-');
  await assert.rejects(startMlflow({ dataDir, port }), (err: Error) => {
    assert.equal(err.name, 'PortInUseError');
    assert.match(err.message, new RegExp(`port ${port}, needed by the MLflow server, is already in use by pid ${process.pid} \\(.*node`));
    return true;
  });
  assert.ok(!existsSync(join(dataDir, 'mlflow.pid')), 'nothing was started');
});

test(
  'a server left by a start whose data folder is gone is a stranger: reported with its command, not killed',
  { timeout: 5 * 60_000 },
  async () => {
    const port = await freePort();
    const goneDir = tempDir('perennial-gone-');
    const leftBehind = await startTemporal({ dataDir: goneDir, port });
    onTeardown(leftBehind.stop);
    const pid = pidIn(join(goneDir, 'temporal.pid'));
    rmSync(goneDir, { recursive: true, force: true, maxRetries: 10 }); // what the issue saw: the folder and its pid file gone (retries: the server still writes there)

    await assert.rejects(startTemporal({ dataDir: tempDir('perennial-next-'), port }), (err: Error) => {
      assert.match(
        err.message,
        new RegExp(`port ${port}, needed by the Temporal dev server, is already in use by pid ${pid} \\(.*temporal server start-dev`),
      );
      return true;
    });
    assert.ok(isAlive(pid), 'not ours to kill');
  },
);

test('a dev server that exits while starting is started again on fresh ports, three times at most', async () => {
  // A flag the dev server refuses makes every start exit at once, as the port race of its
  // internal services does (stack/services.ts).
  const dataDir = tempDir('perennial-exits-');
  const said: string[] = [];
  await assert.rejects(
    startTemporal({ dataDir, extraArgs: ['--no-such-flag'], log: (line) => said.push(line) }),
    (err: Error) => err instanceof ServiceExitedError && /Temporal dev server exited with code \d+ while starting/.test(err.message),
  );
  assert.equal(said.filter((line) => /starting it again on fresh ports/.test(line)).length, 2);
  assert.ok(!existsSync(join(dataDir, 'temporal.pid')), 'no pid file of a server that never ran');
});
