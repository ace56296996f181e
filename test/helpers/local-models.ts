/**
 * Real TensorFlow.js weather models trained in the test process and served by the real model
 * server over HTTP, on a real SQLite file. The server loads them from memory rather than from
 * MLflow, so route tests need no registry: an unknown version fails to load as it would there.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelVersionNotFoundError } from '../../core/errors.ts';
import type { ModelFiles } from '../../core/contracts.ts';
import { loadPredictor, servingFiles, type Predictor } from '../../ml/bundle.ts';
import { trainTrial } from '../../ml/train.ts';
import { openStore } from '../../adapters/store/index.ts';
import { buildServer } from '../../serving/server.ts';
import { PROJECT_ROOT } from '../../config/paths.ts';

export const FEATURES = ['precipitation', 'temp_max', 'temp_min', 'wind'];
export const CLASSES = ['drizzle', 'fog', 'rain', 'snow', 'sun'];

type Row = Record<string, unknown>;

/** vega-datasets' weather.csv: the four features (numbers) and the label. */
export function weatherRows(): Array<Row & { weather: string }> {
  // The package's exports map hides data/, so read it by path.
  const [header, ...lines] = readFileSync(join(PROJECT_ROOT, 'node_modules', 'vega-datasets', 'data', 'weather.csv'), 'utf8')
    .trim()
    .split('\n');
  const columns = header.split(',');
  return lines.map((line) => {
    const cells = line.split(',');
    return Object.fromEntries(columns.map((c, i) => [c, FEATURES.includes(c) ? Number(cells[i]) : cells[i]])) as Row & { weather: string };
  });
}

export const featuresOf = (row: Row, features = FEATURES): Row => Object.fromEntries(features.map((f) => [f, row[f]]));

/** A small softmax model on 200 rows from `offset`; `features` may name columns the rows were given. */
export async function trainModel(
  rows: Array<Row & { weather: string }>,
  offset: number,
  seed: number,
  features = FEATURES,
): Promise<ModelFiles> {
  const slice = rows.slice(offset, offset + 200);
  const { checkpoint } = await trainTrial({
    config: { family: 'softmax', params: { learningRate: 0.05 } },
    features,
    classes: CLASSES,
    train: { rows: slice.map((r) => featuresOf(r, features)), labels: slice.map((r) => r.weather) },
    validation: { rows: slice.slice(0, 20).map((r) => featuresOf(r, features)), labels: slice.slice(0, 20).map((r) => r.weather) },
    seed,
    fromEpoch: 0,
    toEpoch: 3,
  });
  return servingFiles(checkpoint);
}

/**
 * A model server on `dbPath` whose versions are `versions` (files, or a function building the
 * predictor, for faults); any other version is not registered. `handedOut` lists the predictors
 * it was given and whether it disposed them.
 */
export async function startLocalServer(
  dbPath: string,
  adminToken: string,
  versions: Record<string, ModelFiles | (() => Promise<Predictor>)>,
) {
  const store = await openStore(dbPath);
  const handedOut: Array<{ version: string; disposed: boolean }> = [];
  const app = await buildServer({
    store,
    adminToken,
    loadModel: async (model, version) => {
      const source = versions[version];
      if (source === undefined) throw new ModelVersionNotFoundError(model, version);
      const predictor = typeof source === 'function' ? await source() : await loadPredictor(source);
      const entry = { version, disposed: false };
      handedOut.push(entry);
      return { ...predictor, dispose: () => ((entry.disposed = true), predictor.dispose()) };
    },
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return { base, store, handedOut, stop: async () => (await app.close(), await store.close()) };
}

/** JSON over HTTP with an optional bearer token; the body parsed when it is JSON. */
export async function call(base: string, method: string, path: string, body?: unknown, token?: string) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: type.startsWith('application/json') ? JSON.parse(text) : undefined,
  };
}

/** Polls `check` until it returns something other than undefined (or gives up after `limitMs`). */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, limitMs = 10_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
