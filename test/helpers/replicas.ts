/**
 * Model-server replicas as real processes: serving/main.ts on a shared Postgres database, loading
 * versions from a real MLflow server, and a load of predict requests on each over HTTP (undici).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Pool } from 'undici';
import type { MlflowClient } from '../../adapters/mlflow/client.ts';
import { uploadModelFiles } from '../../adapters/mlflow/model-files.ts';
import type { ModelFiles } from '../../core/contracts.ts';
import { freePort, PROJECT_ROOT } from '../../stack/services.ts';

/** A registered version of `model` whose run holds `files`; its version number. */
export async function registerVersion(mlflow: MlflowClient, model: string, key: string, files: ModelFiles): Promise<string> {
  const experimentId = await mlflow.getOrCreateExperiment(`perennial-test/${model}`);
  const { run } = await mlflow.findOrCreateRun({ experimentId, key, runName: key });
  await uploadModelFiles(mlflow, run.artifactUri, files);
  await mlflow.ensureRegisteredModel(model);
  const { version } = await mlflow.findOrCreateModelVersion({ name: model, source: `${run.artifactUri}/model`, runId: run.runId });
  return version.version;
}

export interface Replica {
  base: string;
  output: string[];
  stop(): Promise<number | null>;
}

/** Starts serving/main.ts with `env` on top of ours; resolves once it listens. */
export async function startReplica(env: Record<string, string>): Promise<Replica> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'serving', 'main.ts')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr])
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line);
        if (line.includes('perennial model server')) resolve();
      });
    void exited.then((code) => reject(new Error(`serving/main.ts exited with ${code}:\n${output.join('\n')}`)));
  });
  return { base: `http://127.0.0.1:${port}`, output, stop: () => (child.kill('SIGTERM'), exited) };
}

/** One predict request's outcome: when it was sent and answered (ms since the load began), and by which version. */
export interface Outcome {
  replica: number;
  sentMs: number;
  answeredMs: number;
  status: number;
  version?: string;
  id?: string;
  error?: string;
}

/**
 * `concurrency` clients per replica, each sending one-row predict requests back to back until
 * stopped. Every outcome is kept, failures too (a refused connection is one, status 0).
 */
export function startLoad(bases: string[], path: string, rows: Array<Record<string, unknown>>, concurrency: number) {
  const started = performance.now();
  const outcomes: Outcome[] = [];
  let stopping = false;
  const pools = bases.map((base) => new Pool(base, { connections: concurrency }));
  const client = async (replica: number, offset: number) => {
    for (let i = offset; !stopping; i += concurrency) {
      const sentMs = performance.now() - started;
      const outcome: Outcome = { replica, sentMs, answeredMs: 0, status: 0 };
      try {
        const response = await pools[replica].request({
          method: 'POST',
          path,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ rows: [rows[i % rows.length]] }),
        });
        outcome.status = response.statusCode;
        const body = (await response.body.json()) as { predictions?: Array<{ id: string; version: string }>; message?: string };
        if (outcome.status === 200) [outcome.id, outcome.version] = [body.predictions![0].id, body.predictions![0].version];
        else outcome.error = body.message;
      } catch (err) {
        outcome.error = (err as Error).message;
      }
      outcome.answeredMs = performance.now() - started;
      outcomes.push(outcome);
    }
  };
  const clients = bases.flatMap((_, replica) => Array.from({ length: concurrency }, (_, c) => client(replica, c)));
  return {
    outcomes,
    /** Milliseconds since the load began, on the outcomes' clock. */
    now: () => performance.now() - started,
    async stop() {
      stopping = true;
      await Promise.all(clients);
      await Promise.all(pools.map((pool) => pool.close()));
      return outcomes;
    },
  };
}
