/**
 * Every real piece in one test process: the shared Temporal and MLflow servers, a SQLite log
 * in a temp folder, the model server on a free port, a worker on its own task queue, and a
 * client. Workflow tests and the end-to-end test build on it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestContext } from 'node:test';
import { request } from 'undici';
import { WorkflowNotFoundError } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { temporalConfig } from '../../config/environment.ts';
import { toRecords } from '../../client/dataset.ts';
import { ModelSpec, type ModelSpecInput } from '../../core/spec.ts';
import type { Store } from '../../adapters/store/index.ts';
import { weatherData } from '../../stack/demo.ts';
import { startLocalStack, type LocalStackOptions } from '../../stack/local.ts';
import { mlflowUrl, onTeardown, tempDir, temporalAddress } from './services.ts';

export const ADMIN_TOKEN = 'test-admin-token';

// Worker and bundler chatter at INFO would bury the test report.
Runtime.install({ logger: new DefaultLogger('WARN') });

/** Stopped after the test file's last test, before the services it uses. */
export async function startStack(options: Pick<LocalStackOptions, 'workerMetrics' | 'console'> & { namespace?: string } = {}) {
  const dataDir = tempDir('perennial-stack-');
  const [address, tracking] = await Promise.all([temporalAddress(), mlflowUrl()]);
  const { namespace, ...rest } = options;
  const stack = await startLocalStack({
    temporal: { ...temporalConfig({}), address, ...(namespace && { namespace }) },
    mlflowUrl: tracking,
    dataDir,
    adminToken: ADMIN_TOKEN,
    servingPort: 0,
    taskQueue: `test-${randomUUID()}`,
    ...rest,
  });
  onTeardown(() => stack.stop());
  return stack;
}

/** A small, fast weather spec with a unique model name; `overrides` replace top-level sections. */
export function testSpec(overrides: Partial<ModelSpecInput> = {}): ModelSpec {
  return ModelSpec.parse({
    name: `t-${randomUUID().slice(0, 8)}`,
    features: [{ name: 'precipitation', min: 0 }, { name: 'temp_max' }, { name: 'temp_min' }, { name: 'wind', min: 0 }],
    label: { name: 'weather', classes: ['drizzle', 'fog', 'rain', 'snow', 'sun'] },
    training: {
      window: { kind: 'lastRows', rows: 365 },
      sweep: {
        families: { softmax: { learningRate: { type: 'float', low: 0.02, high: 0.1, log: true } } },
        sampler: 'random',
        seed: 1,
        budget: { maxTrials: 2, maxEpochsPerTrial: 9 },
        earlyStopping: { kind: 'asha', minEpochs: 3, reductionFactor: 3 },
      },
    },
    monitoring: { interval: '1s', windowRows: 200 },
    policies: {},
    approval: { required: false },
    canary: { steps: [{ weight: 0.5, bake: '1s' }], minSamples: 1000 },
    ...overrides,
  });
}

/** The spec's weather records in the stack's log, then its lifecycle started. */
export async function registerSeeded(stack: Awaited<ReturnType<typeof startStack>>, spec: ModelSpec): Promise<void> {
  await seedRecords(stack.store, spec);
  await stack.client.register(spec);
}

/** Weather rows (Seattle 2012-2013 unless given) as labelled records of `spec`'s model, from `source`. */
export async function seedRecords(store: Store, spec: ModelSpec, rows = weatherData().seed, source = 'test seed'): Promise<number> {
  return store.addRecords(
    spec.name,
    toRecords(
      rows,
      spec.features.map((f) => f.name),
      spec.label.name,
      source,
    ),
  );
}

/**
 * A year of New York's weather as predict rows of `spec`'s features (input drift against the
 * Seattle seed), the first two broken as a faulty client sends them (anomalies), and the days
 * they came from (for their labels).
 */
export function newYorkTraffic(spec: ModelSpec) {
  const days = weatherData()
    .traffic.filter((r) => r.location === 'New York')
    .slice(0, 365);
  const rows: Array<Record<string, unknown>> = days.map((r) => Object.fromEntries(spec.features.map((f) => [f.name, r[f.name]])));
  rows[0] = { ...rows[0], wind: 'calm' };
  rows[1] = { ...rows[1], precipitation: 900 };
  return { days, rows };
}

/**
 * Stops `model`'s lifecycle when test `t` ends (after its assertions, pass or fail). Left running,
 * a promoted model goes on monitoring until the file's last test: at a 1 s interval, ~40 ms of
 * CPU a second across the worker and Temporal (8 idle models took 10 s of CPU in 30 s), which on
 * two cores slows every test still running. A lifecycle the test ended itself is left as it is.
 */
export function stopWhenDone(t: TestContext, stack: Stack, model: string): void {
  t.after(() =>
    stack.client.stop(model).catch((err: unknown) => {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }),
  );
}

/** Polls `probe` until it returns a value, or fails with what it last saw. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

export type Stack = Awaited<ReturnType<typeof startStack>>;

/** What the model server says a model's deployment is. */
export interface Deployment {
  champion: { version: string };
  canary?: { version: string; weight: number };
  shadow?: { version: string };
}

/** POSTs JSON to the stack's model server at `/v1/models/<model>/<path>`; asserts a 200 and returns the parsed answer. */
export async function postToModel(stack: Stack, model: string, path: string, body: unknown) {
  const res = await request(`${stack.servingUrl}/v1/models/${model}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  assert.equal(res.statusCode, 200, text);
  return JSON.parse(text);
}

/** The model's deployment on the stack's model server; undefined when it has none. */
export async function deploymentOf(stack: Stack, model: string): Promise<Deployment | undefined> {
  const res = await request(`${stack.servingUrl}/v1/models/${model}/deployment`);
  return res.statusCode === 200 ? ((await res.body.json()) as Deployment) : (await res.body.dump(), undefined);
}
