/**
 * The servers of the serving benchmark, each in its own child process (so the load generator in
 * this process does not share their event loop): started, awaited until they answer, their RSS
 * sampled, and stopped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../config/paths.ts';
import { VENV_BIN } from '../../stack/services.ts';

export interface Served {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Runs `bench/serving/<script>` under Node (tsx), with `--cpu-prof` into PERENNIAL_BENCH_CPU_PROF
 * when that names a folder; resolves once it prints `listening <url>`.
 */
export function startNodeServer(script: string, env: Record<string, string> = {}): Promise<Served> {
  const profile = process.env.PERENNIAL_BENCH_CPU_PROF;
  const args = [
    ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []),
    '--import',
    'tsx',
    join(PROJECT_ROOT, 'bench', 'serving', script),
  ];
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before listening`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\S+)/.exec(out);
      if (match) {
        child.removeAllListeners('exit');
        resolve({ url: match[1], child, stop: () => stopChild(child) });
      }
    });
  });
}

/** Trains the scikit-learn anchor (train_sklearn.py) into `dir` and serves it with `mlflow models serve`, one uvicorn worker. */
export async function startMlflowServe(dir: string, weatherCsv: string): Promise<Served> {
  const modelDir = join(dir, 'sklearn-model');
  const trained = spawnSync(join(VENV_BIN, 'python'), [join(PROJECT_ROOT, 'bench', 'serving', 'train_sklearn.py'), weatherCsv, modelDir], {
    encoding: 'utf8',
  });
  if (trained.status !== 0) throw new Error(`train_sklearn.py failed:\n${trained.stderr}`);
  console.log(`  ${trained.stdout.trim()}`);
  const port = await freePort();
  const child = spawn(
    join(VENV_BIN, 'mlflow'),
    ['models', 'serve', '-m', modelDir, '-h', '127.0.0.1', '-p', String(port), '-w', '1', '--env-manager', 'local'],
    // Its own process group: `mlflow models serve` runs uvicorn as a child of its own.
    { cwd: dir, env: { ...process.env, PATH: `${VENV_BIN}:${process.env.PATH}` }, stdio: ['ignore', 'ignore', 'ignore'], detached: true },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mlflow models serve exited (${child.exitCode})`);
    const up = await fetch(`${url}/ping`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      process.kill(-child.pid!, 'SIGKILL');
      throw new Error('mlflow models serve did not answer /ping within 120 s');
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    url,
    child,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(-child.pid!, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    },
  };
}

/** Resident set size of a process in MB, from /proc (Linux). */
export function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
