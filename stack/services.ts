/**
 * Starts the real services Perennial runs on, as child processes: the Temporal dev server and
 * the MLflow tracking server, both from the project-local Python environment. Used by
 * `npm start`, the tests and the benchmarks. Nothing here is a stand-in: these are the
 * same binaries a user runs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registerSearchAttributes } from './search-attributes.ts';
import { PROJECT_ROOT } from '../config/paths.ts';
import { assertPortFree, isAlive, portHolder, processCommand, processGroup } from './processes.ts';

export { PROJECT_ROOT };
export const VENV_BIN = join(PROJECT_ROOT, '.venv', 'bin');

export interface Service {
  name: string;
  url: string;
  stop(): Promise<void>;
}

/** Creates .venv with the pinned mlflow and temporal CLI when missing (progress on stderr). */
export function ensurePythonEnv(): void {
  const result = spawnSync('bash', [join(PROJECT_ROOT, 'scripts', 'python-env.sh')], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error('could not create the Python environment (.venv); see the output above');
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => ok(port));
    });
  });
}

/** A server process that ended before it was ready (its log says why). */
export class ServiceExitedError extends Error {
  override name = 'ServiceExitedError';
}

export async function waitFor(what: string, child: ChildProcess, probe: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new ServiceExitedError(`${what} exited with code ${child.exitCode} while starting; see its log`);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not become ready within ${timeoutMs / 1000}s`);
}

/**
 * A port that answers is not enough: it must be the server just started (its process group, as
 * it was spawned detached) and not one that took the port in the meantime.
 */
export function assertServedBy(child: ChildProcess, port: number, what: string) {
  const holder = portHolder(port);
  if (holder && processGroup(holder.pid) !== child.pid) {
    throw new Error(`port ${port} answers, but from pid ${holder.pid} (${holder.command}), not the ${what} just started`);
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), ok(true)));
    socket.once('error', () => ok(false));
  });
}

export function stopper(child: ChildProcess, pidFile: string): () => Promise<void> {
  return () =>
    new Promise<void>((ok) => {
      if (child.exitCode !== null || child.signalCode !== null) return ok();
      const kill = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000);
      child.once('exit', () => (clearTimeout(kill), ok()));
      killGroup(child, 'SIGTERM');
    }).then(() => rmSync(pidFile, { force: true }));
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    process.kill(-child.pid!, signal); // the whole group: mlflow forks server workers
  } catch {
    child.kill(signal);
  }
}

/** A server that never became ready is stopped, not left behind. */
export async function whenReady(child: ChildProcess, pidFile: string, ready: () => Promise<void>) {
  try {
    await ready();
  } catch (err) {
    await stopper(child, pidFile)();
    throw err;
  }
}

/**
 * `<data folder>/<service>.pid` records which process serves that folder, so that a start after
 * a hard kill (whose servers live on, detached) finds the orphan and stops it. `marker` is a
 * path only that folder's server has on its command line: a recycled pid is not mistaken for it.
 */
interface PidRecord {
  pid: number;
  marker: string;
}

async function stopOrphan(pidFile: string, what: string, log: (line: string) => void) {
  let record: PidRecord;
  try {
    record = JSON.parse(readFileSync(pidFile, 'utf8'));
  } catch {
    return; // none, or unreadable: nothing of ours to stop
  }
  if (isAlive(record.pid) && processCommand(record.pid)?.includes(record.marker)) {
    log(`stopping the ${what} (pid ${record.pid}) left running by an earlier start of this data folder`);
    await stopGroup(record.pid);
  }
  rmSync(pidFile, { force: true });
}

async function stopGroup(leader: number) {
  const groupAlive = () => {
    try {
      process.kill(-leader, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const [signal, graceMs] of [
    ['SIGTERM', 10_000],
    ['SIGKILL', 5_000],
  ] as const) {
    if (!groupAlive()) return;
    process.kill(-leader, signal);
    for (const deadline = Date.now() + graceMs; groupAlive() && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops our orphan on this data folder, checks the ports are free, spawns, records the pid. */
export async function spawnServer(
  what: string,
  opts: {
    dataDir: string;
    pidName: string;
    ports: number[];
    command: string;
    args: string[];
    marker: string;
    env?: NodeJS.ProcessEnv;
    log?: (line: string) => void;
    /** Run as this user (a server that refuses root, started by root). */
    user?: { uid: number; gid: number };
  },
) {
  const pidFile = join(opts.dataDir, `${opts.pidName}.pid`);
  await stopOrphan(pidFile, what, opts.log ?? ((line) => console.error(`perennial: ${line}`)));
  for (const port of opts.ports) await assertPortFree(port, what);
  const log = openSync(join(opts.dataDir, `${opts.pidName}.log`), 'a');
  const child = spawn(opts.command, opts.args, { stdio: ['ignore', log, log], detached: true, env: opts.env, ...opts.user });
  if (child.pid === undefined) throw new Error(`could not start the ${what} (${opts.command})`);
  writeFileSync(pidFile, JSON.stringify({ pid: child.pid, marker: opts.marker } satisfies PidRecord));
  return { child, pidFile };
}

export interface TemporalOptions {
  dataDir: string;
  port?: number;
  uiPort?: number;
  /** Extra `start-dev` flags, e.g. dynamic config for tests. */
  extraArgs?: string[];
  /** Where to say that an orphan of an earlier start is being stopped (default: stderr). */
  log?: (line: string) => void;
}

export async function startTemporal(opts: TemporalOptions): Promise<Service & { address: string; uiUrl: string }> {
  // The dev server picks its internal services' ports itself, and one of them can land on a port
  // picked here (seen once in CI: its worker service on our HTTP port). Such a start exits at
  // once, so start again on fresh ports; a port the caller chose is not retried.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startTemporalOnce(opts);
    } catch (err) {
      if (attempt >= 3 || opts.port !== undefined || !(err instanceof ServiceExitedError)) throw err;
      (opts.log ?? ((line: string) => process.stderr.write(`${line}\n`)))(
        `Temporal dev server exited while starting (a port taken meanwhile?); starting it again on fresh ports`,
      );
    }
  }
}

async function startTemporalOnce(opts: TemporalOptions): Promise<Service & { address: string; uiUrl: string }> {
  mkdirSync(opts.dataDir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const uiPort = opts.uiPort ?? (await freePort());
  const dbFile = join(opts.dataDir, 'temporal.sqlite');
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--http-port',
    String(await freePort()),
    '--metrics-port',
    String(await freePort()),
    '--db-filename',
    dbFile,
    '--log-level',
    'warn',
    ...(opts.extraArgs ?? []),
  ];
  const what = 'Temporal dev server';
  const { child, pidFile } = await spawnServer(what, {
    ...opts,
    pidName: 'temporal',
    ports: [port, uiPort],
    command: join(VENV_BIN, 'temporal'),
    args,
    marker: dbFile,
  });
  await whenReady(child, pidFile, async () => {
    await waitFor(what, child, () => portOpen(port), 60_000);
    assertServedBy(child, port, what);
    await registerSearchAttributes(join(VENV_BIN, 'temporal'), `127.0.0.1:${port}`);
  });
  return {
    name: 'temporal',
    address: `127.0.0.1:${port}`,
    url: `127.0.0.1:${port}`,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    stop: stopper(child, pidFile),
  };
}

export interface MlflowOptions {
  dataDir: string;
  port?: number;
  log?: (line: string) => void;
  /**
   * Uvicorn worker processes (default 2). Each imports MLflow on its own: a second one costs
   * ~6.5 s more CPU per start (13.7 s instead of 20, measured with MLflow 3.17), which the tests'
   * servers, on one machine with the tests and serving a few requests at a time (each worker runs
   * requests in threads), do without.
   */
  workers?: number;
}

export async function startMlflow(opts: MlflowOptions): Promise<Service> {
  mkdirSync(opts.dataDir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const backendStore = `sqlite:///${join(opts.dataDir, 'mlflow.db')}`;
  const args = [
    'server',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--workers',
    String(opts.workers ?? 2),
    '--backend-store-uri',
    backendStore,
    '--artifacts-destination',
    join(opts.dataDir, 'artifacts'),
    '--serve-artifacts',
  ];
  const what = 'MLflow server';
  const { child, pidFile } = await spawnServer(what, {
    ...opts,
    pidName: 'mlflow',
    ports: [port],
    command: join(VENV_BIN, 'mlflow'),
    args,
    marker: backendStore,
    // Job execution runs MLflow's GenAI jobs (online scoring of traces), which Perennial does not
    // use; left on, MLflow starts 8 more processes: 2.6 GiB instead of 0.75 and ~50 s of CPU in
    // its first 20 s instead of ~17 (measured with MLflow 3.17).
    env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true', MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' },
  });
  const url = `http://127.0.0.1:${port}`;
  await whenReady(child, pidFile, async () => {
    await waitFor(what, child, async () => (await fetch(`${url}/health`)).ok, 120_000);
    assertServedBy(child, port, what);
  });
  return { name: 'mlflow', url, stop: stopper(child, pidFile) };
}
