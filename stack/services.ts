/**
 * Starts the real services Perennial runs on, as child processes: the Temporal dev server and
 * the MLflow tracking server, both from the project-local Python environment. Used by
 * `npm start`, the tests and the benchmarks. Nothing here is a stand-in: these are the
 * same binaries a user runs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { SEARCH_ATTRIBUTES } from '../core/messages.ts';
import { PROJECT_ROOT } from './paths.ts';

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

async function waitFor(what: string, child: ChildProcess, probe: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} while starting; see its log`);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not become ready within ${timeoutMs / 1000}s`);
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), ok(true)));
    socket.once('error', () => ok(false));
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((ok) => {
      if (child.exitCode !== null || child.signalCode !== null) return ok();
      const kill = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000);
      child.once('exit', () => (clearTimeout(kill), ok()));
      killGroup(child, 'SIGTERM');
    });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    process.kill(-child.pid!, signal); // the whole group: mlflow forks server workers
  } catch {
    child.kill(signal);
  }
}

export interface TemporalOptions {
  dataDir: string;
  port?: number;
  uiPort?: number;
  /** Extra `start-dev` flags, e.g. dynamic config for tests. */
  extraArgs?: string[];
}

export async function startTemporal(opts: TemporalOptions): Promise<Service & { address: string; uiUrl: string }> {
  mkdirSync(opts.dataDir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const uiPort = opts.uiPort ?? (await freePort());
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--ui-port', String(uiPort),
    '--http-port', String(await freePort()),
    '--metrics-port', String(await freePort()),
    '--db-filename', join(opts.dataDir, 'temporal.sqlite'),
    '--log-level', 'warn',
    ...SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]),
    ...(opts.extraArgs ?? []),
  ];
  const log = openSync(join(opts.dataDir, 'temporal.log'), 'a');
  const child = spawn(join(VENV_BIN, 'temporal'), args, { stdio: ['ignore', log, log], detached: true });
  await waitFor('temporal server', child, () => portOpen(port), 60_000);
  return {
    name: 'temporal',
    address: `127.0.0.1:${port}`,
    url: `127.0.0.1:${port}`,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    stop: stopper(child),
  };
}

export interface MlflowOptions {
  dataDir: string;
  port?: number;
}

export async function startMlflow(opts: MlflowOptions): Promise<Service> {
  mkdirSync(opts.dataDir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const args = [
    'server',
    '--host', '127.0.0.1',
    '--port', String(port),
    '--workers', '2',
    '--backend-store-uri', `sqlite:///${join(opts.dataDir, 'mlflow.db')}`,
    '--artifacts-destination', join(opts.dataDir, 'artifacts'),
    '--serve-artifacts',
  ];
  const log = openSync(join(opts.dataDir, 'mlflow.log'), 'a');
  const child = spawn(join(VENV_BIN, 'mlflow'), args, {
    stdio: ['ignore', log, log],
    detached: true,
    env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true' },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('mlflow server', child, async () => (await fetch(`${url}/health`)).ok, 120_000);
  return { name: 'mlflow', url, stop: stopper(child) };
}
