/**
 * Chaos: the model server replaced under load. A real model (tfjs, registered in MLflow) is served
 * by serving/replaceable.ts; while a client sends 200 predictions per second, SIGHUP starts a
 * second model-server process on the same port and the first is SIGTERMed as soon as the second
 * listens. Every request must succeed, and every acknowledged prediction must be in the log once.
 *
 * Each request carries a unique marker in a feature value (wind = n / 10000), so the log tells a
 * prediction logged twice from two requests, which prediction ids alone could not.
 *
 * Uses the MLflow server in MLFLOW_TRACKING_URI, or starts its own.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Agent } from 'undici';
import { MlflowClient } from '../../adapters/mlflow/client.ts';
import { uploadModelFiles } from '../../adapters/mlflow/model-files.ts';
import { servingFiles } from '../../ml/bundle.ts';
import { trainTrial } from '../../ml/train.ts';
import { weatherData } from '../demo.ts';
import { PROJECT_ROOT, freePort, startMlflow } from '../services.ts';
import type { FaultResult, FaultScenario } from './fault.ts';

const FEATURES = ['precipitation', 'temp_max', 'temp_min', 'wind'];
const CLASSES = ['drizzle', 'fog', 'rain', 'snow', 'sun'];
const ADMIN_TOKEN = 'chaos-admin-token';
const RATE = 200;

interface Outcome {
  marker: number;
  /** Milliseconds since the load started, when the response (or error) came. */
  at: number;
  id?: string;
  error?: string;
}

export const scenario: FaultScenario = {
  name: 'server-replace',
  async run({ full }) {
    // Short: one replacement. Full: eight, 10 s of load between them.
    const replacements = full ? 8 : 1;
    const dir = mkdtempSync(join(tmpdir(), 'perennial-chaos-server-replace-'));
    const mlflow = process.env.MLFLOW_TRACKING_URI
      ? { url: process.env.MLFLOW_TRACKING_URI, stop: async () => {} }
      : await startMlflow({ dataDir: join(dir, 'mlflow') });
    const model = `chaos-replace-${Date.now().toString(36)}`;
    const dbPath = join(dir, 'perennial.sqlite');
    let server: Awaited<ReturnType<typeof startReplaceable>> | undefined;
    try {
      const version = await registerModel(mlflow.url, model);
      server = await startReplaceable(mlflow.url, dbPath);
      await adminDeploy(server.base, model, version);
      const load = startLoad(`${server.base}/v1/models/${model}/predict`);
      const swaps: Array<{ old: number; next: number; drainedMs: number }> = [];
      for (let i = 0; i < replacements; i++) {
        await sleep(full ? 10_000 : 3_000);
        swaps.push(await server.replace());
      }
      await sleep(3_000); // the new instance alone under load
      const { outcomes, sendingSeconds } = await load.stop();
      return verdict(this.name, outcomes, sendingSeconds, countLogged(dbPath, model), swaps, server.drainsLogged());
    } finally {
      await server?.stop();
      await mlflow.stop();
    }
  },
};

function verdict(
  name: string,
  outcomes: Outcome[],
  sendingSeconds: number,
  logged: Map<number, string[]>,
  swaps: unknown[],
  drainsLogged: number,
): FaultResult {
  const acknowledged = outcomes.filter((o) => o.id !== undefined);
  const failed = outcomes.filter((o) => o.error !== undefined);
  const lost = acknowledged.filter((o) => !logged.get(o.marker)?.includes(o.id!)).length;
  const duplicated = [...logged.values()].reduce((n, ids) => n + ids.length - 1, 0);
  // The longest wait between two answers: how long the replacement held clients up.
  const times = acknowledged.map((o) => o.at).sort((a, b) => a - b);
  const longestGapMs = times.reduce((gap, t, i) => (i ? Math.max(gap, t - times[i - 1]) : 0), 0);
  return {
    name,
    survived: failed.length === 0 && lost === 0 && duplicated === 0,
    lost,
    duplicated,
    recoverSeconds: longestGapMs / 1000,
    details: {
      requests: outcomes.length,
      failed: failed.length,
      failures: [...new Set(failed.map((o) => o.error))].slice(0, 5),
      failedBetweenMs: failed.length ? [failed[0].at, failed.at(-1)!.at] : [],
      acknowledged: acknowledged.length,
      sendingSeconds,
      /** Offered load; answers may come slower on a busy machine (queued, not failed). */
      requestsPerSecond: Math.round(outcomes.length / sendingSeconds),
      answersPerSecond: Math.round(acknowledged.length / Math.max((times.at(-1) ?? 0) / 1000, 1)),
      longestGapMs,
      replacements: swaps,
      /** Instances that logged "drained in ... ms" on their way out. */
      drainsLogged,
    },
  };
}

/** A small real classifier registered in MLflow; its version number. */
async function registerModel(mlflowUrl: string, model: string): Promise<string> {
  const rows = weatherData().seed.slice(0, 300);
  const features = rows.map((r) => Object.fromEntries(FEATURES.map((f) => [f, Number(r[f])])));
  const labels = rows.map((r) => String(r.weather));
  const { checkpoint } = await trainTrial({
    config: { family: 'softmax', params: { learningRate: 0.05 } },
    features: FEATURES,
    classes: CLASSES,
    train: { rows: features, labels },
    validation: { rows: features.slice(0, 30), labels: labels.slice(0, 30) },
    seed: 1,
    fromEpoch: 0,
    toEpoch: 3,
  });
  // Patient: a chaos run shares its machine with the load it makes.
  const mlflow = new MlflowClient(mlflowUrl, { timeoutMs: 120_000, retries: 4 });
  try {
    const experimentId = await mlflow.getOrCreateExperiment(`perennial-chaos/${model}`);
    const { run } = await mlflow.findOrCreateRun({ experimentId, key: 'v1', runName: 'v1' });
    await uploadModelFiles(mlflow, run.artifactUri, servingFiles(checkpoint));
    await mlflow.ensureRegisteredModel(model);
    const { version } = await mlflow.findOrCreateModelVersion({ name: model, source: `${run.artifactUri}/model`, runId: run.runId });
    return version.version;
  } finally {
    await mlflow.close();
  }
}

async function startReplaceable(mlflowUrl: string, dbPath: string) {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'serving', 'replaceable.ts')], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      PERENNIAL_DB: dbPath,
      MLFLOW_TRACKING_URI: mlflowUrl,
      PERENNIAL_ADMIN_TOKEN: ADMIN_TOKEN,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const waiters: Array<{ pattern: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  let drains = 0;
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      if (/drained in \d+ ms/.test(line)) drains++;
      for (const w of [...waiters]) {
        const match = line.match(w.pattern);
        if (match) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(match);
        }
      }
    });
  }
  const lineMatching = (pattern: RegExp, what: string) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      waiters.push({ pattern, resolve });
      child.once('exit', (code) => reject(new Error(`replaceable model server exited (code ${code}) before: ${what}`)));
    });

  let current = Number((await lineMatching(/instance (\d+) serving/, 'its first instance listened'))[1]);
  return {
    base: `http://127.0.0.1:${port}`,
    /** SIGHUP; resolves when the new instance serves and the old one has drained and exited. */
    async replace() {
      const swapped = lineMatching(/model server (\d+) serving; draining (\d+)/, 'a replacement');
      child.kill('SIGHUP');
      const [, next, old] = (await swapped).map(Number);
      if (old !== current) throw new Error(`the replacement drained ${old}, but ${current} was serving`);
      const drainStart = Date.now();
      await exited(old);
      current = next;
      return { old, next, drainedMs: Date.now() - drainStart };
    },
    drainsLogged: () => drains,
    stop: () => stopProcess(child),
  };
}

async function adminDeploy(base: string, model: string, version: string): Promise<void> {
  const response = await fetch(`${base}/admin/models/${model}/deployment`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ champion: { version }, reason: 'chaos: server replacement' }),
  });
  if (!response.ok) throw new Error(`deploying ${model} version ${version}: ${response.status} ${await response.text()}`);
}

/**
 * RATE single-row predictions per second, each on its own schedule (a slow answer does not hold
 * back the next request), over keep-alive connections as a real client would use them.
 */
function startLoad(url: string) {
  const agent = new Agent({ connections: 64, keepAliveTimeout: 30_000 });
  const start = Date.now();
  const pending: Array<Promise<Outcome>> = [];
  const base = weatherData().seed;
  let sent = 0;
  const send = async (marker: number): Promise<Outcome> => {
    const row = base[marker % base.length];
    const features = {
      precipitation: Number(row.precipitation),
      temp_max: Number(row.temp_max),
      temp_min: Number(row.temp_min),
      wind: marker / 10_000,
    };
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ rows: [features] }),
        dispatcher: agent,
        // Generous: on a loaded machine answers queue up; a slow answer is not a failed one.
        signal: AbortSignal.timeout(300_000),
      } as RequestInit);
      const body = (await response.json()) as { predictions?: Array<{ id: string }>; message?: string };
      if (response.status !== 200 || !body.predictions)
        return { marker, at: Date.now() - start, error: `HTTP ${response.status}: ${body.message ?? ''}` };
      return { marker, at: Date.now() - start, id: body.predictions[0].id };
    } catch (err) {
      const cause = (err as Error & { cause?: { code?: string } }).cause?.code;
      return { marker, at: Date.now() - start, error: cause ?? (err as Error).message };
    }
  };
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - start) * RATE) / 1000);
    while (sent < due) pending.push(send(sent++));
  }, 5);
  return {
    async stop(): Promise<{ outcomes: Outcome[]; sendingSeconds: number }> {
      clearInterval(timer);
      const sendingSeconds = (Date.now() - start) / 1000;
      const outcomes = await Promise.all(pending);
      await agent.close();
      return { outcomes, sendingSeconds };
    },
  };
}

/** Prediction ids in the log per request marker. */
function countLogged(dbPath: string, model: string): Map<number, string[]> {
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db.prepare("SELECT id, json_extract(features, '$.wind') AS wind FROM predictions WHERE model = ?").all(model) as Array<{
      id: string;
      wind: number;
    }>;
    const byMarker = new Map<number, string[]>();
    for (const r of rows) {
      const marker = Math.round(r.wind * 10_000);
      byMarker.set(marker, [...(byMarker.get(marker) ?? []), r.id]);
    }
    return byMarker;
  } finally {
    db.close();
  }
}

async function exited(pid: number): Promise<void> {
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(50);
  }
}

function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => (clearTimeout(kill), resolve()));
    child.kill('SIGTERM');
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
